package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/omsrun/omsrun/internal/history"
	"github.com/omsrun/omsrun/internal/lab/labtest"
)

// The interruption matrix (issue #14): each operation is interrupted at each
// point of matrixRows, once by SIGINT and once by SIGKILL (no cleanup at
// all), and ONE re-run must then leave exactly the state an uninterrupted
// run leaves. CI runs the rows' ci signals; OMSRUN_MATRIX=all (make matrix)
// runs every row with both signals, OMSRUN_MATRIX_OPS=a,b only those
// operations, and OMSRUN_MATRIX_TABLE=file merges the results into that
// markdown table.

type matrixRow struct {
	op, point string
	at        matrixPoint
	ci        ciSignals
}

// ciSignals are the signals CI runs for a row.
type ciSignals int

const (
	ciNone ciSignals = iota
	ciInt
	ciKill
	ciBoth
)

var matrixSignals = []struct {
	name string
	sig  syscall.Signal
	ci   ciSignals
}{{"SIGINT", syscall.SIGINT, ciInt}, {"SIGKILL", syscall.SIGKILL, ciKill}}

// matrix is the lab and what the matrix learned so far.
type matrix struct {
	t   *testing.T
	l   *labtest.Lab
	ref map[string]string // operation → the state its uninterrupted run leaves
	// stream is the size of the image stream a loading point watches.
	stream     int64
	streamOnce sync.Once
}

func TestInterruptionMatrix(t *testing.T) {
	l := labtest.Require(t)
	// Every run's record goes to a folder of this test: the interrupted
	// runs' records are checked too.
	t.Setenv("XDG_STATE_HOME", t.TempDir())
	m := &matrix{t: t, l: l, ref: map[string]string{}}
	all := os.Getenv("OMSRUN_MATRIX") == "all"
	ops := map[string]bool{}
	for _, o := range strings.Split(os.Getenv("OMSRUN_MATRIX_OPS"), ",") {
		if o != "" {
			ops[o] = true
		}
	}
	var results [][4]string
	for _, row := range matrixRows {
		if _, ok := matrixOps[row.op]; !ok {
			t.Fatalf("row %q names no operation of matrixOps", row.point)
		}
		if len(ops) > 0 && !ops[row.op] {
			continue
		}
		for _, s := range matrixSignals {
			if !all && row.ci != s.ci && row.ci != ciBoth {
				continue
			}
			name := row.op + "/" + row.point + "/" + s.name
			var result string
			t.Run(name, func(t *testing.T) {
				m.t = t
				result = m.runCase(row, s.sig)
				t.Log(result)
				if !strings.HasPrefix(result, "converged") {
					t.Error(result)
				}
			})
			if result != "" { // "" when -run left the case out: its row keeps its last result
				results = append(results, [4]string{row.op, row.point, s.name, result})
			}
		}
	}
	m.t = t
	if file := os.Getenv("OMSRUN_MATRIX_TABLE"); file != "" {
		if err := writeMatrixTable(file, results); err != nil {
			t.Fatal(err)
		}
	}
}

// runCase sets the lab up, interrupts the operation at row's point with sig,
// re-runs it once and compares the state with the uninterrupted run's.
func (m *matrix) runCase(row matrixRow, sig syscall.Signal) string {
	op := matrixOps[row.op]
	want, ok := m.ref[row.op]
	if !ok {
		op.setup(m)
		start := time.Now()
		if r := m.omsrun(op, op.args...); r.code != 0 {
			m.t.Fatalf("the uninterrupted %s exits %d:\n%s%s", row.op, r.code, r.stdout, r.stderr)
		}
		m.t.Logf("uninterrupted %s: %s", row.op, time.Since(start).Round(time.Second))
		want = m.snapshot(op)
		// The reference itself must be right, not only repeatable: status
		// finds every node as intended (uninstall leaves none), and each
		// node's OMS runs the config asked for.
		if row.op != "uninstall" && !strings.Contains(want, "\nstatus exit 0\n") {
			m.t.Fatalf("after the uninterrupted %s, status is not clean:\n%s", row.op, want)
		}
		for _, h := range m.l.Hosts[:op.hosts] {
			if line := h.Name + " running config: " + op.running; op.running != "" && !strings.Contains(want, line) {
				m.t.Fatalf("after the uninterrupted %s, %s does not run with %q:\n%s", row.op, h.Name, op.running, want)
			}
		}
		m.ref[row.op] = want
	}
	setupStart := time.Now()
	op.setup(m)
	m.t.Logf("set up %s (%s)", row.op, time.Since(setupStart).Round(100*time.Millisecond))
	interruptStart := time.Now()
	fired, code, out := m.interrupt(op, row.at, sig)
	m.t.Logf("interrupted run (%s)", time.Since(interruptStart).Round(100*time.Millisecond))
	if !fired {
		m.t.Fatalf("the run ended (exit %d) before the point %q:\n%s", code, row.point, out)
	}
	if row.at.landed != nil {
		if why := row.at.landed(m); why != "" {
			return "the signal came too late: " + why
		}
	}
	if sig == syscall.SIGINT && code != 130 {
		return fmt.Sprintf("SIGINT: exit %d, want 130", code)
	}
	m.checkRecord(sig)
	start := time.Now()
	r := m.omsrun(op, op.args...)
	took := time.Since(start).Round(time.Second)
	if r.code != 0 {
		m.t.Logf("interrupted run:\n%s", out)
		return fmt.Sprintf("re-run exits %d: %s", r.code, lastError(r.stdout))
	}
	if got := m.snapshot(op); got != want {
		m.t.Logf("interrupted run:\n%s\nre-run:\n%s", out, r.stdout)
		return "NOT CONVERGED: " + stateDiff(want, got)
	}
	m.checkBackupsKept()
	return fmt.Sprintf("converged (re-run %s)", took)
}

// checkRecord reads the interrupted run's record on the control machine: a
// run stopped by SIGINT ended with 130, one killed has no end, and both
// kept their events up to the signal.
func (m *matrix) checkRecord(sig syscall.Signal) {
	state, err := history.StateDir()
	if err != nil {
		m.t.Fatal(err)
	}
	recs, err := history.List(state)
	if err != nil || len(recs) == 0 {
		m.t.Fatalf("no run recorded in %s: %v", state, err)
	}
	r := recs[len(recs)-1]
	switch {
	case sig == syscall.SIGKILL && r.ExitCode != nil:
		m.t.Errorf("run %d was killed, but its record has exit code %d", r.Number, *r.ExitCode)
	case sig == syscall.SIGINT && (r.ExitCode == nil || *r.ExitCode != 130):
		m.t.Errorf("run %d was interrupted, but its record has exit code %v", r.Number, r.ExitCode)
	}
	if b, err := os.ReadFile(r.EventsFile()); err != nil || !strings.Contains(string(b), `"step_start"`) {
		m.t.Errorf("run %d: no events recorded (%v)", r.Number, err)
	}
}

// checkBackupsKept: however many runs rewrote config.yaml, a node keeps
// only its last 5 backups.
func (m *matrix) checkBackupsKept() {
	for _, h := range m.l.Hosts {
		out := m.l.Exec(m.t, h.Name, "ls /data/oms/ 2>/dev/null | grep -c '^config.yaml.[0-9]*.bak$' || true")
		if n, err := strconv.Atoi(out); err != nil || n > 5 {
			m.t.Errorf("%s keeps %s config.yaml backups, want at most 5", h.Name, out)
		}
	}
}

// omsrun runs args with the lab's vars against op's inventory, --json.
func (m *matrix) omsrun(op matrixOp, args ...string) cliResult {
	return omsrun(m.t, m.args(op, args)...)
}

func (m *matrix) args(op matrixOp, args []string) []string {
	// The playbook first; its own -e after the lab's vars, which they override.
	base := []string{args[0], "-i", inventoryOf(m.t, m.l, op.hosts), "-e", "@" + m.l.Vars,
		"-e", "cm_nodes=[]", "-e", "min_free_gb=1", "-e", "balancer_settle=0s", "--json"}
	return append(base, args[1:]...)
}

// interrupt starts op's run with -v and sends sig at the first event at
// matches; it returns whether it did, the exit code and the output.
func (m *matrix) interrupt(op matrixOp, at matrixPoint, sig syscall.Signal) (bool, int, string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, omsrunBin(m.t), append(m.args(op, op.args), "-v")...)
	cmd.Dir = repoDir(m.t)
	cmd.Env = append(os.Environ(), "NO_COLOR=1")
	var out strings.Builder
	cmd.Stderr = &out
	pipe, err := cmd.StdoutPipe()
	if err != nil {
		m.t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		m.t.Fatal(err)
	}
	seen := false
	sent := make(chan bool, 1)
	sc := bufio.NewScanner(pipe)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		out.WriteString(sc.Text() + "\n")
		var ev map[string]any
		if seen || json.Unmarshal(sc.Bytes(), &ev) != nil || !at.event(m, ev) {
			continue
		}
		seen = true
		if at.underWay == nil {
			cmd.Process.Signal(sig)
			sent <- true
			continue
		}
		// Polled beside the reading of events, so omsrun never blocks on
		// a full pipe while the lab is looked at.
		go func() {
			for ctx.Err() == nil {
				if at.underWay(m) {
					sent <- cmd.Process.Signal(sig) == nil
					return
				}
				time.Sleep(2 * time.Millisecond)
			}
			sent <- false
		}()
	}
	err = cmd.Wait()
	cancel() // ends a poll still waiting: the run is over
	fired := seen && <-sent
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		m.t.Fatal(err)
	}
	return fired, code, out.String()
}

// lastError is the recap's error or the last failed host_result of a run.
func lastError(out string) string {
	msg := ""
	for _, line := range strings.Split(out, "\n") {
		var ev map[string]any
		if json.Unmarshal([]byte(line), &ev) != nil {
			continue
		}
		switch {
		case ev["type"] == "host_result" && (ev["status"] == "failed" || ev["status"] == "unreachable"):
			msg = fmt.Sprintf("%s on %s: %s", ev["step"], ev["host"], firstLine(fmt.Sprint(ev["error"])))
		case ev["type"] == "recap" && ev["error"] != nil && ev["error"] != "":
			msg = firstLine(fmt.Sprint(ev["error"]))
		}
	}
	return msg
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	return line
}

// stateDiff lists the lines of two snapshots that differ.
func stateDiff(want, got string) string {
	w, g := map[string]bool{}, map[string]bool{}
	for _, l := range strings.Split(want, "\n") {
		w[l] = true
	}
	for _, l := range strings.Split(got, "\n") {
		g[l] = true
	}
	var d []string
	for l := range w {
		if !g[l] {
			d = append(d, "want "+l)
		}
	}
	for l := range g {
		if !w[l] {
			d = append(d, "got "+l)
		}
	}
	sort.Strings(d)
	return strings.Join(d, "; ")
}
