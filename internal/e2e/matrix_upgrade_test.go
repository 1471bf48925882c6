package e2e

import (
	"fmt"
	"os"
	"path/filepath"
)

// The upgrade's part of the interruption matrix (issue #15): v1 → v2 on a
// deployed 3-node cluster, interrupted at every step; the re-run must finish
// the same upgrade (IS_UPGRADE on every node, the .done record, v2 healthy).

// matrixUpgradeDir holds the upgrade's variables and its backups. It
// outlives each case: the next case's setup rolls back with restore.hcl,
// which reads the backup the nodes' records name.
var matrixUpgradeDir = filepath.Join(os.TempDir(), "omsrun-matrix-upgrade")

// matrixUpgradeVars is the var file naming v2 (written by upgradeFromV1).
var matrixUpgradeVars = filepath.Join(matrixUpgradeDir, "v2.hcl")

// upgradeFromV1 leaves OMS v1 deployed on 3 nodes: a case before left v2 or
// a half-done upgrade, which restore.hcl undoes faster than bare hosts.
func (m *matrix) upgradeFromV1() {
	v2 := m.l.Images["v2"]
	if err := os.MkdirAll(matrixUpgradeDir, 0o700); err != nil {
		m.t.Fatal(err)
	}
	vars := fmt.Sprintf("image = %q\nimage_file = %q\nbackup_dir = %q\n", v2.Ref, v2.Path, matrixUpgradeDir)
	if err := os.WriteFile(matrixUpgradeVars, []byte(vars), 0o600); err != nil {
		m.t.Fatal(err)
	}
	if rec := m.l.Exec(m.t, m.l.Hosts[0].Name, "ls /data/oms/omsrun-upgrade* 2>/dev/null || true"); rec != "" {
		if r := m.omsrun(matrixOp{hosts: 3}, "playbooks/restore.hcl", "--yes"); r.code != 0 {
			m.t.Logf("restore.hcl to set up v1 exits %d (%s)", r.code, lastError(r.stdout))
		}
	}
	m.cluster(3)
}
