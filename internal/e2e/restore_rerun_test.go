package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/omsrun/omsrun/internal/lab"
	"github.com/omsrun/omsrun/internal/lab/labtest"
	"github.com/omsrun/omsrun/internal/metadb"
	"github.com/omsrun/omsrun/internal/secret"
)

// A rollback's MetaDB restore that stops partway (docs/remedies.md): its
// remedy, followed as printed, restores every database exactly as in the
// dump, also after omsrun was interrupted in the middle of a restore
// (SIGINT), or killed once the previous image ran again but before the
// rollback finished (SIGKILL).

var metaDBs = []string{"oms_rm", "oms_cm", "oms_cm_heartbeat"}

// bulkRows makes the restore of oms_cm last long enough (one INSERT per
// row) for the test to cut it while it runs, a few seconds at most.
const bulkRows = "20000"

// metaDump is the lab MetaDB's OMS databases as metadb.Dump writes them,
// without what differs between two dumps of the same data: the header's
// time, AUTO_INCREMENT counters (a restore sets them to the highest id + 1)
// and heartbeat rows after lastBeat (the previous image's nodes beat again
// once the rollback started them). Absent databases are left out.
func metaDump(t *testing.T, l *labtest.Lab, lastBeat int) string {
	t.Helper()
	var dbs []string
	for _, db := range metaDBs {
		if l.MetaSQL(t, "SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name = '"+db+"'") == "1" {
			dbs = append(dbs, db)
		}
	}
	var b bytes.Buffer
	target := metadb.Target{Host: l.MetaDB.Host, Port: l.MetaDB.Port, User: l.MetaDB.User, Password: secret.String(l.MetaDB.Password)}
	if _, _, err := metadb.Dump(context.Background(), target, dbs, &b); err != nil {
		t.Fatal(err)
	}
	return normalDump(t, b.String(), lastBeat)
}

var autoIncrement = regexp.MustCompile(` AUTO_INCREMENT=[0-9]+`)

func normalDump(t *testing.T, dump string, lastBeat int) string {
	var keep []string
	for _, line := range strings.Split(dump, "\n") {
		if strings.HasPrefix(line, "-- ") {
			continue
		}
		if m := heartbeatInsert.FindStringSubmatch(line); m != nil {
			if id, _ := strconv.Atoi(m[1]); id > lastBeat {
				continue
			}
		}
		keep = append(keep, autoIncrement.ReplaceAllString(line, ""))
	}
	return strings.Join(keep, "\n")
}

// cutRestore waits until a restore's MetaDB session works in oms_cm (the
// first database restored, the second half done, the last not begun), then
// cuts it with cut(session id); it returns once it cut, or gave up.
func cutRestore(t *testing.T, l *labtest.Lab, cut func(id string)) chan bool {
	done := make(chan bool, 1)
	go func() {
		deadline := time.Now().Add(90 * time.Second)
		for time.Now().Before(deadline) {
			id, err := lab.MariaDBSQL("SELECT id FROM information_schema.processlist WHERE user = '" + l.MetaDB.User + "' AND db = 'oms_cm' LIMIT 1")
			if id = strings.TrimSpace(id); err == nil && id != "" {
				cut(id)
				done <- true
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
		done <- false
	}()
	return done
}

// partialRestoreCommand is the command a partly restored MetaDB's error
// prints.
func partialRestoreCommand(t *testing.T, out string) string {
	t.Helper()
	m := regexp.MustCompile(`only partly restored; to restore them from \S+ again, run at a terminal[^\n]*:\n\s*(\S*omsrun \S*restore\.hcl[^\n]*)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("the failed restore does not print the command that restores the MetaDB again:\n%s", out)
	}
	return strings.TrimSpace(m[1])
}

func TestRestoreCutPartwayReRunsAsPrinted(t *testing.T) {
	l := labtest.Require(t)
	l.SetStartupDelay(t, "/data/oms", time.Second)
	inv := freshCluster(t, l, 1)
	v1 := l.Images["v1"]
	l.MetaSQL(t, "CREATE TABLE oms_rm.marker (id INT PRIMARY KEY, note VARCHAR(64)); INSERT INTO oms_rm.marker VALUES (1, 'before upgrade');"+
		"CREATE TABLE oms_cm.bulk (id INT PRIMARY KEY, note VARCHAR(32)); SET SESSION max_recursive_iterations = 100000;"+
		"INSERT INTO oms_cm.bulk WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < "+bulkRows+") SELECT n, CONCAT('row ', n) FROM s")
	r := deploy(t, l, "upgrade.hcl", inv, upgradeArgs(l, "v2-broken", t.TempDir())...)
	expectCode(t, r, 2)
	rollback := rollbackCommand(t, r.stdout)
	m := regexp.MustCompile(`restores the MetaDB from (\S+),`).FindStringSubmatch(hostErrors(t, r.stdout))
	if m == nil {
		t.Fatalf("the advice names no backup:\n%s", hostErrors(t, r.stdout))
	}
	raw, err := os.ReadFile(m[1])
	if err != nil {
		t.Fatal(err)
	}
	lastBeat := maxHeartbeat(t, string(raw))
	want := normalDump(t, string(raw), lastBeat)
	answers := map[string]string{"Go ahead?": "y", "oms_meta_password: ": l.MetaDB.Password}
	run := func(command string) (*exec.Cmd, func() cliResult) {
		cmd := exec.Command("sh", "-c", "exec "+command)
		cmd.Env = append(os.Environ(), "NO_COLOR=1")
		return cmd, func() cliResult { res, _ := atTerminal(t, answers, cmd); return res }
	}

	// The MetaDB connection is cut in the middle of oms_cm (the server
	// kills the session, as a failover or a DBA's KILL does).
	start := time.Now()
	cut := cutRestore(t, l, func(id string) { lab.MariaDBSQL("KILL CONNECTION " + id) })
	_, wait := run(rollback)
	res := wait()
	if !<-cut {
		t.Fatalf("the restore was never seen restoring oms_cm:\n%s", res.stdout)
	}
	if res.code == 0 {
		t.Fatalf("the restore whose connection was cut succeeded:\n%s", res.stdout)
	}
	if got := metaDump(t, l, lastBeat); got == want || strings.Contains(got, "oms_cm_heartbeat") {
		t.Fatalf("the cut left the MetaDB restored: the cut came too late to test anything")
	}
	again := partialRestoreCommand(t, hostErrors(t, res.stdout))
	t.Logf("cut restore: %.1f s; printed: %s", time.Since(start).Seconds(), again)

	// Ctrl-C (SIGINT) in the middle of the printed command's restore: the
	// run ends there, and the next run decides from the nodes' records.
	cmd, wait := run(again)
	stopped := cutRestore(t, l, func(string) { cmd.Process.Signal(syscall.SIGINT) })
	res = wait()
	if !<-stopped || res.code != 130 {
		t.Fatalf("the restore was not interrupted while it ran (exit %d, want 130):\n%s", res.code, res.stdout)
	}

	// omsrun killed (SIGKILL: nothing tidies up) once the restore was done
	// and the previous image runs, before the records were cleared; that
	// image writes to the MetaDB.
	cmd, wait = run(again)
	first := l.Hosts[0].Name
	onV1 := make(chan bool, 1)
	go func() {
		deadline := time.Now().Add(90 * time.Second)
		for time.Now().Before(deadline) {
			if st, _, err := l.Run(context.Background(), first, "docker inspect --format '{{.Image}} {{.State.Running}}' oms"); err == nil && strings.TrimSpace(st) == v1.ID+" true" {
				cmd.Process.Kill()
				onV1 <- true
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
		onV1 <- false
	}()
	if res = wait(); !<-onV1 || res.code == 0 {
		t.Fatalf("the rollback was not killed once the previous image ran (exit %d):\n%s", res.code, res.stdout)
	}
	l.MetaSQL(t, "INSERT INTO oms_rm.marker VALUES (2, 'written by the previous image')")
	started := l.Exec(t, first, "docker inspect --format '{{.State.StartedAt}}' oms")

	// The remedy, exactly as printed, at a terminal: the previous image
	// stops before its databases are dropped, and starts again on the dump.
	_, wait = run(again)
	if res = wait(); res.code != 0 {
		t.Fatalf("the printed command failed: exit %d\n%s\n%s%s", res.code, again, res.stdout, res.stderr)
	}
	if got := metaDump(t, l, lastBeat); got != want {
		t.Fatalf("the MetaDB after the printed re-run is not the dump:\n%s", firstDiff(want, got))
	}
	if again := l.Exec(t, first, "docker inspect --format '{{.State.StartedAt}}' oms"); again == started {
		t.Errorf("the previous image ran on while its databases were dropped and restored (started %s)", started)
	}
	if st := containerStates(t, l)[first]; st != v1.ID+" true" {
		t.Errorf("after the re-run %s is %q, want %s running", l.Hosts[0].Name, st, v1.ID)
	}
	vipAnswers(t, l, 8088)
	vipAnswers(t, l, 8089)
	for _, h := range l.Hosts[:1] {
		if rec := l.Exec(t, h.Name, "ls /data/oms/omsrun-upgrade* 2>/dev/null || true"); rec != "" {
			t.Errorf("%s keeps upgrade records after the rollback: %s", h.Name, rec)
		}
	}
}

// firstDiff shows where two dumps first differ.
func firstDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < len(w) || i < len(g); i++ {
		var a, b string
		if i < len(w) {
			a = w[i]
		}
		if i < len(g) {
			b = g[i]
		}
		if a != b {
			return fmt.Sprintf("line %d: want %.300s\n got %.300s", i+1, a, b)
		}
	}
	return ""
}
