package oms

import (
	"path/filepath"
	"strings"
	"testing"
	"time"
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
		args []string
		want string
	}{
		{[]string{"/tmp/x/omsrun", "playbooks/upgrade.hcl", "-i", "inv.hcl", "-e", "@vars.hcl", "-e", "cm_nodes=[]"},
			"/tmp/x/omsrun playbooks/restore.hcl -i inv.hcl -e @vars.hcl -e 'cm_nodes=[]'"},
		{[]string{"omsrun", "upgrade.hcl", "-i", "my inv"}, "omsrun restore.hcl -i 'my inv'"},
		{[]string{"oms.test", "-test.run", "X"}, "omsrun playbooks/restore.hcl -i <this run's inventory> -e <this run's variables>"},
	} {
		if got := restoreCommand(tc.args); got != tc.want {
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
