package oms

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/omsrun/omsrun/modules/modtest"
)

func TestUpgradeRecordRoundTrip(t *testing.T) {
	r := upgradeRecord{From: "oms:feature_4.2.5-ce", FromID: "sha256:aa", To: "oms:feature_4.2.6-ce", Backup: "/b/metadb-1.sql"}
	got, ok := parseUpgradeRecord(string(r.encode()))
	if !ok || got != r {
		t.Fatalf("round trip: %+v %v", got, ok)
	}
	if _, ok := parseUpgradeRecord(""); ok {
		t.Fatal("an empty file is a record")
	}
}

func TestRestoreCommand(t *testing.T) {
	for _, tc := range []struct {
		args   []string
		backup string
		want   string
	}{
		{[]string{"/tmp/x/omsrun", "playbooks/upgrade.hcl", "-i", "inv.hcl", "-e", "@vars.hcl", "-e", "cm_nodes=[]"}, "",
			"/tmp/x/omsrun playbooks/restore.hcl -i inv.hcl -e @vars.hcl -e 'cm_nodes=[]'"},
		{[]string{"omsrun", "upgrade.hcl", "-i", "my inv", "--yes"}, "/b/metadb-1.sql",
			"omsrun restore.hcl -i 'my inv' -e backup_file=/b/metadb-1.sql"},
		// A password on the command line is asked for, never printed; an
		// @env reference and a file stay.
		{[]string{"omsrun", "upgrade.hcl", "-y", "-e", "oms_meta_password=s3cret", "--extra-vars=tsdb_password=x", "-evip_password=y",
			"-e", "tsdb_admin_password=@env:P", "-e", "image=oms:feature_4.2.6-ce"}, "",
			"omsrun restore.hcl -e oms_meta_password=@ask --extra-vars=tsdb_password=@ask -evip_password=@ask -e tsdb_admin_password=@env:P -e image=oms:feature_4.2.6-ce"},
		{[]string{"oms.test", "-test.run", "X"}, "", "omsrun playbooks/restore.hcl -i <this run's inventory> -e <this run's variables>"},
		// A restore's re-run keeps its backup_file once.
		{[]string{"omsrun", "playbooks/restore.hcl", "-i", "inv.hcl", "-e", "backup_file=/b/metadb-1.sql", "--yes"}, "/b/metadb-1.sql",
			"omsrun playbooks/restore.hcl -i inv.hcl -e backup_file=/b/metadb-1.sql"},
		{[]string{"omsrun", "playbooks/restore.hcl", "--extra-vars=backup_file=/b/1.sql"}, "/b/1.sql", "omsrun playbooks/restore.hcl --extra-vars=backup_file=/b/1.sql"},
	} {
		if got := restoreCommand(tc.args, tc.backup); got != tc.want {
			t.Errorf("%q:\n got %s\nwant %s", tc.args, got, tc.want)
		}
	}
}

func TestUpgradeStates(t *testing.T) {
	v1 := nodeUpgrade{exists: true, running: true, imageID: "sha256:v1", tags: []string{"oms:feature_4.2.5-ce"}, targetID: "sha256:v2"}
	args := func(image, mode string) *UpgradeCheckArgs {
		return &UpgradeCheckArgs{Name: "oms", MountDir: "/data/oms", Image: image, Mode: mode}
	}
	marked := v1
	marked.hasMarker, marked.marker = true, upgradeRecord{From: "oms:feature_4.2.5-ce", FromID: "sha256:v1", To: "oms:feature_4.2.6-ce"}
	gone := marked
	gone.exists, gone.running, gone.imageID, gone.tags = false, false, "", nil
	onV2 := nodeUpgrade{exists: true, running: true, imageID: "sha256:v2", tags: []string{"oms:feature_4.2.6-ce"}, targetID: "sha256:v2",
		hasDone: true, done: upgradeRecord{From: "oms:feature_4.2.5-ce", To: "oms:feature_4.2.6-ce", Backup: "/b.sql"}}
	untagged := v1
	untagged.tags = nil
	for _, tc := range []struct {
		name      string
		n         nodeUpgrade
		a         *UpgradeCheckArgs
		state     string // "" when refused
		refusal   string
		needsStop bool
	}{
		{"v1 to v2", v1, args("oms:feature_4.2.6-ce", ""), "upgrade", "", true},
		{"v1 to broken 4.2.7", v1, args("oms:feature_4.2.7-ce", ""), "upgrade", "", true},
		{"v1 to 4.1.0", v1, args("oms:feature_4.1.0-ce", ""), "", "downgrade", false},
		{"resume, old still running", marked, args("oms:feature_4.2.6-ce", ""), "resume", "", true},
		{"resume, old container gone", gone, args("oms:feature_4.2.6-ce", ""), "resume", "", false},
		{"another target while one runs", marked, args("oms:feature_4.2.9-ce", ""), "", "in progress", false},
		{"done", onV2, args("oms:feature_4.2.6-ce", ""), "current", "", false},
		{"downgrade after done", onV2, args("oms:feature_4.2.5-ce", ""), "", "restore.hcl", false},
		{"no tag", untagged, args("oms:feature_4.2.6-ce", ""), "", "no tag naming", false},
		{"new node", nodeUpgrade{}, args("oms:feature_4.2.6-ce", ""), "", "deploy.hcl", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.a.Image == "oms:feature_4.2.5-ce" {
				tc.n.targetID = "sha256:v1"
			}
			p, err := upgradeState(tc.n, tc.a)
			if tc.state == "" {
				if err == nil || !strings.Contains(err.Error(), tc.refusal) {
					t.Fatalf("err %v, want %q", err, tc.refusal)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := p.Outputs["state"].AsString(); got != tc.state {
				t.Errorf("state %s, want %s", got, tc.state)
			}
			if got := p.Outputs["needs_stop"].True(); got != tc.needsStop {
				t.Errorf("needs_stop %v", got)
			}
		})
	}
	// deploy.hcl: a new image or an upgrade in progress is refused, a new node is not.
	for _, tc := range []struct {
		n       nodeUpgrade
		refusal string
	}{{v1, "upgrade.hcl"}, {marked, "in progress"}, {nodeUpgrade{}, ""}, {onV2, ""}} {
		p, err := deployGuard(tc.n, args("oms:feature_4.2.6-ce", "deploy"))
		if err != nil {
			t.Fatal(err)
		}
		if got := p.Outputs["refusal"].AsString(); tc.refusal == "" && got != "" || !strings.Contains(got, tc.refusal) {
			t.Errorf("refusal %q, want %q", got, tc.refusal)
		}
	}
	// restore.hcl: the record in progress first, else the finished one.
	if p, err := rollbackState(onV2, args("", "rollback")); err != nil || p.Outputs["from_image"].AsString() != "oms:feature_4.2.5-ce" || !p.Outputs["needs_stop"].True() {
		t.Errorf("rollback after done: %v %v", p, err)
	}
	// A rollback cut after the previous image started (records still in
	// place): with a backup to restore, that image stops before the
	// MetaDB is dropped; without one, a node still on it keeps running.
	backToV1 := v1
	backToV1.hasMarker, backToV1.marker = true, upgradeRecord{From: "oms:feature_4.2.5-ce", FromID: "sha256:v1", To: "oms:feature_4.2.6-ce", Backup: "/b.sql"}
	if p, err := rollbackState(backToV1, args("", "rollback")); err != nil || !p.Outputs["needs_stop"].True() {
		t.Errorf("previous image running, backup to restore: %v %v", p, err)
	}
	backToV1.marker.Backup = ""
	if p, err := rollbackState(backToV1, args("", "rollback")); err != nil || p.Outputs["needs_stop"].True() {
		t.Errorf("previous image running, no backup: %v %v", p, err)
	}
	if _, err := rollbackState(v1, args("", "rollback")); err == nil || !strings.Contains(err.Error(), "nothing to roll back") {
		t.Errorf("rollback without a record: %v", err)
	}
}

func TestNewBackupFileNeverOverwrites(t *testing.T) {
	dir := t.TempDir()
	now := time.Date(2026, 12, 6, 6, 36, 35, 0, time.UTC)
	seen := map[string]bool{}
	for i := 0; i < 3; i++ {
		p, f, err := newBackupFile(dir, now)
		if err != nil {
			t.Fatal(err)
		}
		f.Close()
		if seen[p] {
			t.Fatalf("%s handed out twice", p)
		}
		seen[p] = true
	}
	if !seen[filepath.Join(dir, "metadb-20261206T063635Z-3.sql")] {
		t.Fatalf("names: %v", seen)
	}
}

// TestUpgradeRefusesAChangedLayout: the docs keep the database names and
// the mount paths across an upgrade (U9). The node's answer is what the
// read script prints: its mounts, then the config.yaml they name and its
// database lines.
func TestUpgradeRefusesAChangedLayout(t *testing.T) {
	sep := "\n" + upSep + "\n"
	answer := func(marker string) string {
		return "true sha256:v1" + sep + `["oms:feature_4.2.5-ce"]` + sep + "sha256:v2" + sep + marker + sep + sep +
			"/home/admin/conf/config.yaml=/data/oms/config.yaml\n/home/admin/logs=/data/oms/logs\n/home/ds/store=/data/oms/store\n/home/ds/run=/data/oms/run\n" + sep +
			"/data/oms/config.yaml\ndrc_rm_db: oms_rm\ndrc_cm_db: 'oms_cm'\ndrc_cm_heartbeat_db: oms_cm_hb\n"
	}
	same := map[string]string{"drc_rm_db": "oms_rm", "drc_cm_db": "oms_cm", "drc_cm_heartbeat_db": "oms_cm_hb"}
	other := map[string]string{"drc_rm_db": "new_rm", "drc_cm_db": "new_cm", "drc_cm_heartbeat_db": "oms_cm_hb"}
	record := string(upgradeRecord{From: "oms:feature_4.2.5-ce", FromID: "sha256:v1", To: "oms:feature_4.2.6-ce"}.encode())
	for _, tc := range []struct {
		name     string
		marker   string
		mountDir string
		config   string
		dbs      map[string]string
		want     []string // in the refusal; none: allowed
	}{
		{"same layout", "", "/data/oms/", "", same, nil},
		{"other databases", "", "/data/oms", "", other,
			[]string{`drc_rm_db is "oms_rm" in the node's /data/oms/config.yaml, this run says "new_rm"`, `drc_cm_db is "oms_cm"`, "drc_rm_db (or db_prefix)", "before anything stops"}},
		{"other mount_dir", "", "/data2/oms", "", same,
			[]string{"/home/ds/store is mounted from /data/oms/store, this run would mount /data2/oms/store", "/home/admin/logs is mounted from /data/oms/logs", "set mount_dir"}},
		{"other config_path", "", "/data/oms", "/etc/oms.yaml", same,
			[]string{"/home/admin/conf/config.yaml is mounted from /data/oms/config.yaml, this run would mount /etc/oms.yaml", "set config_path"}},
		{"resumed upgrade, other databases", record, "/data/oms", "", other, []string{`"new_cm"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := (&modtest.Host{}).On(upSep, 0, answer(tc.marker), "")
			env, _ := modtest.NewEnv(h)
			args := &UpgradeCheckArgs{Name: "oms", MountDir: tc.mountDir, ConfigPath: tc.config, Image: "oms:feature_4.2.6-ce", Databases: tc.dbs}
			p, err := (&UpgradeCheck{}).Check(context.Background(), env, args)
			if tc.want == nil {
				if err != nil {
					t.Fatal(err)
				}
				if p.Outputs["state"].AsString() != "upgrade" {
					t.Fatalf("state %s", p.Outputs["state"].AsString())
				}
				return
			}
			if err == nil {
				t.Fatalf("not refused: %s", p.Summary)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("the refusal does not say %q:\n%v", w, err)
				}
			}
		})
	}
}

// TestStopFailurePrintsTheRollback: a failure while the old nodes stop
// prints the rollback an upgrade's failure prints, from this run's command
// line: restore.hcl, no --yes, a password asked for rather than shown. The
// e2e TestUpgradeToBrokenImageRollsBack follows that command after a failed
// backup, the state a failed stop leaves minus the nodes still running.
func TestStopFailurePrintsTheRollback(t *testing.T) {
	saved := os.Args
	defer func() { os.Args = saved }()
	os.Args = []string{"/x/omsrun", "playbooks/upgrade.hcl", "-i", "inv.hcl", "-e", "@vars.hcl", "-e", "oms_meta_password=pw", "--yes"}
	h := (&modtest.Host{}).On("docker inspect", 0, "true sha256:0123\n", "").On("docker stop", 1, "", "Error response from daemon: cannot stop container: oms")
	env, _ := modtest.NewEnv(h)
	_, _, err := modtest.RunBoth(t, &ContainerStop{}, env, &ContainerStopArgs{Name: "oms", RollbackTo: "oms:feature_4.2.5-ce", RollbackTarget: "oms:feature_4.2.6-ce"})
	if err == nil {
		t.Fatal("a failed docker stop succeeded")
	}
	want := "run at a terminal (it asks before it restores the MetaDB; --yes answers):\n  /x/omsrun playbooks/restore.hcl -i inv.hcl -e @vars.hcl -e oms_meta_password=@ask"
	if !strings.HasSuffix(err.Error(), want) || !strings.Contains(err.Error(), "to roll back to oms:feature_4.2.5-ce") || strings.Contains(err.Error(), "=pw") {
		t.Fatalf("the stop's failure:\n%v\nwant it to end with\n%s", err, want)
	}
	if backup := rollbackAdvice(upgradeRecord{From: "oms:feature_4.2.5-ce", To: "oms:feature_4.2.6-ce"}); !strings.HasSuffix(backup, want) {
		t.Fatalf("the backup's failure prints another command:\n%s", backup)
	}
}

// TestUpgradeCheckDockerDown: a node whose Docker daemon does not answer is
// not a node without a container (it would be upgraded as a new node, while
// with live-restore its old container may still run): the check fails with
// docker's message and what to do.
func TestUpgradeCheckDockerDown(t *testing.T) {
	l, dir := fakeDocker(t, "daemon-down", false)
	args := &UpgradeCheckArgs{Name: "oms", MountDir: dir, Image: "oms:feature_4.2.6-ce"}
	p, err := (&UpgradeCheck{}).Check(context.Background(), modtest.LocalEnv(l, "10.0.0.11"), args)
	if err == nil || !strings.Contains(err.Error(), "Cannot connect to the Docker daemon") || !strings.Contains(err.Error(), "re-run") {
		t.Fatalf("docker down: %v (%v), want docker's message and what to do", err, p)
	}
}
