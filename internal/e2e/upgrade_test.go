package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/omsrun/omsrun/internal/lab/labtest"
)

// The offline upgrade as the OMS docs describe it (playbooks/upgrade.hcl),
// its refusals and its rollback (playbooks/restore.hcl).

// upgradeArgs are the options of an upgrade to variant name, with --yes:
// the lab runs no migration (the question of docs/oms-facts.md U10).
func upgradeArgs(l *labtest.Lab, name, backupDir string) []string {
	img := l.Images[name]
	return []string{"-e", "cm_nodes=[]", "-e", "image=" + img.Ref, "-e", "image_file=" + img.Path, "-e", "backup_dir=" + backupDir, "--yes"}
}

// containerStates is "image-id running" of the oms container on each host.
func containerStates(t *testing.T, l *labtest.Lab) map[string]string {
	out := map[string]string{}
	for _, h := range l.Hosts {
		out[h.Name] = l.Exec(t, h.Name, "docker inspect --format '{{.Image}} {{.State.Running}}' oms 2>/dev/null || echo absent")
	}
	return out
}

// expectAllOn fails unless every node runs image id.
func expectAllOn(t *testing.T, l *labtest.Lab, what, id string) {
	t.Helper()
	for h, st := range containerStates(t, l) {
		if st != id+" true" {
			t.Errorf("%s: %s is %q, want %s running", what, h, st, id)
		}
	}
}

func hostErrors(t *testing.T, out string) string {
	var b strings.Builder
	for _, ev := range jsonEvents(t, out) {
		if e, ok := ev["error"].(string); ok && e != "" {
			b.WriteString(e + "\n")
		}
	}
	return b.String()
}

var heartbeatInsert = regexp.MustCompile("(?m)^INSERT INTO `heatbeat_sequence` VALUES \\(([0-9]+),")

// maxHeartbeat is the highest heartbeat id in a dump.
func maxHeartbeat(t *testing.T, dump string) int {
	max := -1
	for _, m := range heartbeatInsert.FindAllStringSubmatch(dump, -1) {
		n, _ := strconv.Atoi(m[1])
		max = n
	}
	if max < 0 {
		t.Fatalf("the backup holds no heartbeat row: the stand-in's nodes never beat")
	}
	return max
}

func TestUpgradeOffline(t *testing.T) {
	l := labtest.Require(t)
	l.SetStartupDelay(t, "/data/oms", time.Second)
	inv := freshCluster(t, l, 3)
	v1, v2 := l.Images["v1"], l.Images["v2"]
	backups := t.TempDir()

	// Refused before anything stops: HA on (obd's check), a version the gates
	// refuse, and deploy.hcl with a new image.
	l.MetaSQL(t, `UPDATE oms_rm.oms_normal_config SET cfg_value = '{"enable":true,"enableAutoRecover":false}' WHERE cfg_name = 'ha.config'`)
	r := deploy(t, l, "upgrade.hcl", inv, upgradeArgs(l, "v2", backups)...)
	expectCode(t, r, 2)
	if e := hostErrors(t, r.stdout); !strings.Contains(e, "high availability is on") || !strings.Contains(e, "System Management → System Parameters → ha.config") {
		t.Fatalf("the HA refusal does not say how to turn HA off:\n%s", e)
	}
	expectAllOn(t, l, "after the HA refusal", v1.ID)
	l.MetaSQL(t, `UPDATE oms_rm.oms_normal_config SET cfg_value = '{"enable":false}' WHERE cfg_name = 'ha.config'`)
	r = deploy(t, l, "upgrade.hcl", inv, upgradeArgs(l, "v0-old", backups)...)
	expectCode(t, r, 2)
	if e := hostErrors(t, r.stdout); !strings.Contains(e, "refused before anything stops") || !strings.Contains(e, "4.1.0") {
		t.Fatalf("the gate does not refuse %s:\n%s", l.Images["v0-old"].Ref, e)
	}
	r = deploy(t, l, "deploy.hcl", inv, upgradeArgs(l, "v2", backups)...)
	expectCode(t, r, 2)
	if e := hostErrors(t, r.stdout); !strings.Contains(e, "playbooks/upgrade.hcl") {
		t.Fatalf("deploy.hcl with a new image does not send to upgrade.hcl:\n%s", e)
	}
	// Other database names or mount paths than the nodes run with (U9),
	// named with both values.
	r = deploy(t, l, "upgrade.hcl", inv, append(upgradeArgs(l, "v2", backups), "-e", "drc_rm_db=renamed_rm", "-e", "mount_dir=/data/oms-moved")...)
	expectCode(t, r, 2)
	for _, want := range []string{"refused before anything stops", `drc_rm_db is "oms_rm" in the node's /data/oms/config.yaml, this run says "renamed_rm"`,
		"/home/ds/store is mounted from /data/oms/store, this run would mount /data/oms-moved/store"} {
		if e := hostErrors(t, r.stdout); !strings.Contains(e, want) {
			t.Fatalf("the refusal of a changed layout does not say %q:\n%s", want, e)
		}
	}
	// No terminal and no --yes: the docs' "incremental sync near real time,
	// forward switchover complete" cannot be confirmed (U10), so nothing
	// runs; the upgrade below follows the remedy, --yes.
	noYes := upgradeArgs(l, "v2", backups)
	r = deploy(t, l, "upgrade.hcl", inv, noYes[:len(noYes)-1]...)
	expectCode(t, r, 5)
	if !strings.Contains(r.stdout, "incremental sync is near real time") || !strings.Contains(r.stdout, "re-run with --yes") {
		t.Fatalf("the upgrade does not ask about incremental sync and switchover:\n%s", r.stdout)
	}
	expectAllOn(t, l, "after the refusals", v1.ID)

	probe := l.ProbeVIP(t)
	gaps := startGapProbe(fmt.Sprintf("http://%s:8088/", l.VIP))
	start := time.Now()
	r = deploy(t, l, "upgrade.hcl", inv, upgradeArgs(l, "v2", backups)...)
	took := time.Since(start)
	res, down := probe.Stop(), gaps.stop()
	expectCode(t, r, 0)
	expectAllOn(t, l, "after the upgrade", v2.ID)
	// Every node stops before the first new one starts: the VIP goes down.
	// A probe waits while haproxy retries other nodes, so failed probes
	// undercount the outage; the longest time without any answer is it.
	t.Logf("VIP downtime during the offline upgrade of 3 nodes (stand-in start-up 1 s): longest time without an answer %.1f s; %d of %d probes (100 ms apart) failed; run %.1f s",
		down.Seconds(), res.Failed, res.Total, took.Seconds())
	if down < time.Second {
		t.Fatalf("the VIP was never down for a second: the old nodes were not all stopped at once")
	}
	for _, h := range l.Hosts {
		if env := l.Exec(t, h.Name, "docker inspect --format '{{json .Config.Env}}' oms"); !strings.Contains(env, "IS_UPGRADE=true") {
			t.Errorf("%s started without IS_UPGRADE=true: %s", h.Name, env)
		}
		if rec := l.Exec(t, h.Name, "ls /data/oms/omsrun-upgrade* 2>&1"); rec != "/data/oms/omsrun-upgrade.done" {
			t.Errorf("%s: upgrade records %q, want only the .done one", h.Name, rec)
		}
	}
	firsts := map[string]int{}
	for _, ev := range jsonEvents(t, r.stdout) {
		if ev["type"] == "host_result" && ev["status"] == "changed" {
			firsts[fmt.Sprint(ev["step"])]++
		}
	}
	if firsts["new image (first node)"] != 1 || firsts["new image (other nodes)"] != 2 || firsts["stop every old node"] != 3 {
		t.Fatalf("changed per step %v: want every node stopped, then one node alone, then the other two", firsts)
	}
	if !strings.Contains(r.stdout, "turn it back on in the OMS console") {
		t.Errorf("no reminder to turn HA back on:\n%s", r.stdout)
	}
	// The backup was taken once every old node had stopped: no v1 node beat
	// after the last heartbeat it holds.
	m := regexp.MustCompile(`to (/[^\s"]+\.sql)`).FindStringSubmatch(r.stdout)
	if m == nil {
		t.Fatalf("the backup path is not printed:\n%s", r.stdout)
	}
	dump, err := os.ReadFile(m[1])
	if err != nil {
		t.Fatal(err)
	}
	last := maxHeartbeat(t, string(dump))
	if late := l.MetaSQL(t, fmt.Sprintf("SELECT COUNT(*) FROM oms_cm_heartbeat.heatbeat_sequence WHERE id > %d AND version = 'v1'", last)); late != "0" {
		t.Fatalf("%s heartbeat row(s) of v1 nodes came after the backup: it was taken while an old node still ran", late)
	}

	// Back to v1 is a downgrade: refused, pointing at the rollback.
	r = deploy(t, l, "upgrade.hcl", inv, upgradeArgs(l, "v1", backups)...)
	expectCode(t, r, 2)
	if e := hostErrors(t, r.stdout); !strings.Contains(e, "downgrade") || !strings.Contains(e, "restore.hcl") {
		t.Fatalf("a downgrade is not refused as one:\n%s", e)
	}
	expectAllOn(t, l, "after the downgrade refusal", v2.ID)
	// Converged: the same upgrade again changes nothing, and, with nothing
	// to stop, asks nothing (no terminal and no --yes: a question would
	// decline the run).
	r = deploy(t, l, "upgrade.hcl", inv, noYes[:len(noYes)-1]...)
	expectCode(t, r, 0)
	if n := recapChanged(t, r.stdout); n != 0 || strings.Contains(r.stdout, "incremental sync") {
		t.Fatalf("a finished upgrade re-run changed %d thing(s) or asked about incremental sync:\n%s", n, r.stdout)
	}
	// prune_images removes the older images, never the one a rollback
	// starts (v1, named by the .done record).
	first := l.Hosts[0].Name
	l.MustLoadImage(t, first, "v2-broken")
	r = deploy(t, l, "upgrade.hcl", inv, append(upgradeArgs(l, "v2", backups), "-e", "prune_images=true")...)
	expectCode(t, r, 0)
	if got := l.Exec(t, first, "docker images --format '{{.Repository}}:{{.Tag}}' oms | sort | tr '\\n' ' '"); got != v1.Ref+" "+v2.Ref {
		t.Fatalf("images after prune_images: %q, want %s and %s", got, v1.Ref, v2.Ref)
	}
}

// rollbackCommand is the command a failed upgrade printed.
func rollbackCommand(t *testing.T, out string) string {
	m := regexp.MustCompile(`:\n  (\S*omsrun \S*restore\.hcl[^\n]*)`).FindStringSubmatch(hostErrors(t, out))
	if m == nil {
		t.Fatalf("the failure does not print the rollback command:\n%s", out)
	}
	return m[1]
}

// followRollback runs the printed command exactly, at a terminal in the
// folder omsrun ran in, answering yes to its question and typing the
// MetaDB password where it asks for one; it returns what the terminal showed.
func followRollback(t *testing.T, l *labtest.Lab, command string) string {
	t.Helper()
	cmd := exec.Command("sh", "-c", command)
	cmd.Env = append(os.Environ(), "NO_COLOR=1")
	r, tty := atTerminal(t, map[string]string{"Go ahead?": "y", "oms_meta_password: ": l.MetaDB.Password}, cmd)
	if r.code != 0 {
		t.Fatalf("the printed rollback failed: exit %d\n%s\n%s%s", r.code, command, r.stdout, r.stderr)
	}
	return tty
}

func TestUpgradeToBrokenImageRollsBack(t *testing.T) {
	l := labtest.Require(t)
	l.SetStartupDelay(t, "/data/oms", time.Second)
	inv := freshCluster(t, l, 3)
	v1 := l.Images["v1"]
	l.MetaSQL(t, "CREATE TABLE oms_rm.marker (id INT PRIMARY KEY, note VARCHAR(64)); INSERT INTO oms_rm.marker VALUES (1, 'before upgrade; with ''quotes''')")
	r := deploy(t, l, "upgrade.hcl", inv, upgradeArgs(l, "v2-broken", t.TempDir())...)
	expectCode(t, r, 2)
	// The mixed state: the first node tried the new image, the others are
	// stopped on the old one, never started on the new one.
	for h, st := range containerStates(t, l) {
		if strings.HasSuffix(st, " true") {
			t.Errorf("%s runs (%s) after the failed upgrade", h, st)
		}
	}
	command := rollbackCommand(t, r.stdout)
	if !strings.Contains(hostErrors(t, r.stdout), "to roll back to "+v1.Ref) || strings.Contains(command, "sha256:") {
		t.Fatalf("the rollback does not name the previous tag:\n%s", hostErrors(t, r.stdout))
	}
	// What the new version would have left in the MetaDB goes with the restore.
	l.MetaSQL(t, "CREATE TABLE oms_rm.migrated_by_new_version (id INT)")
	dump := regexp.MustCompile(`restores the MetaDB from (\S+),`).FindStringSubmatch(hostErrors(t, r.stdout))
	if dump == nil {
		t.Fatalf("the advice names no backup:\n%s", hostErrors(t, r.stdout))
	}
	// It asks before it drops anything, naming the databases and the dump.
	tty := followRollback(t, l, command)
	if !strings.Contains(tty, "drop the MetaDB databases oms_rm, oms_cm, oms_cm_heartbeat") || !strings.Contains(tty, "load them back from "+dump[1]) {
		t.Fatalf("the restore's question does not name the databases and %s:\n%s", dump[1], tty)
	}
	expectAllOn(t, l, "after the rollback", v1.ID)
	vipAnswers(t, l, 8088)
	vipAnswers(t, l, 8089)
	if got := l.MetaSQL(t, "SELECT note FROM oms_rm.marker WHERE id = 1"); got != "before upgrade; with 'quotes'" {
		t.Fatalf("the data after the rollback: %q", got)
	}
	if got := l.MetaSQL(t, "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'oms_rm' AND table_name = 'migrated_by_new_version'"); got != "0" {
		t.Fatalf("a table created after the backup survived the restore")
	}
	for _, h := range l.Hosts {
		if env := l.Exec(t, h.Name, "docker inspect --format '{{json .Config.Env}}' oms"); strings.Contains(env, "IS_UPGRADE") {
			t.Errorf("%s runs the previous image with IS_UPGRADE: %s", h.Name, env)
		}
		if rec := l.Exec(t, h.Name, "ls /data/oms/omsrun-upgrade* 2>/dev/null || true"); rec != "" {
			t.Errorf("%s keeps upgrade records after the rollback: %s", h.Name, rec)
		}
	}
	// A failure before the first new node (the backup cannot be written,
	// every old node stopped), with the MetaDB password on the command
	// line: the printed rollback asks for it rather than showing it, and
	// brings v1 back as printed.
	blocked := filepath.Join(t.TempDir(), "a-file")
	if err := os.WriteFile(blocked, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	r = deploy(t, l, "upgrade.hcl", inv, append(upgradeArgs(l, "v2", blocked+"/backups"), "-e", "oms_meta_password="+l.MetaDB.Password)...)
	expectCode(t, r, 2)
	for h, st := range containerStates(t, l) {
		if strings.HasSuffix(st, " true") {
			t.Errorf("%s runs (%s) after the failed backup", h, st)
		}
	}
	command = rollbackCommand(t, r.stdout)
	if !strings.Contains(command, "oms_meta_password=@ask") || strings.Contains(command, "backup_file") || strings.Contains(command, "--yes") {
		t.Fatalf("the rollback after a failed backup: %s", command)
	}
	if tty := followRollback(t, l, command); !strings.Contains(tty, "oms_meta_password: ") {
		t.Fatalf("the rollback did not ask for the password:\n%s", tty)
	}
	expectAllOn(t, l, "after the rollback of the failed backup", v1.ID)
	// The cluster is as deployed: deploy.hcl with v1 changes nothing.
	again := deploy(t, l, "deploy.hcl", inv, "-e", "cm_nodes=[]")
	expectCode(t, again, 0)
	if n := recapChanged(t, again.stdout); n != 0 {
		t.Fatalf("deploy after the rollback changed %d thing(s):\n%s", n, again.stdout)
	}
}
