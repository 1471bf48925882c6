package e2e

import (
	"bytes"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/omsrun/omsrun/internal/lab/labtest"
)

// TestCLILimitedRunHoldsOffAFullRun: two omsrun processes. The first, a
// --limit run on the first host, is working there; the second, on every
// host, must not change the others meanwhile: it stops before its first
// change with exit 2, naming the first run (its pid) and the hosts it left
// alone, and leaves no lock of its own.
func TestCLILimitedRunHoldsOffAFullRun(t *testing.T) {
	l := labtest.Require(t)
	held := l.Hosts[0]
	tag := fmt.Sprintf("omsrun-limit-%d", time.Now().UnixNano())
	slow := writePlaybook(t, fmt.Sprintf("step \"hold\" {\n  shell { cmd = \"sleep 4 # %s\" }\n}\n", tag))
	full := writePlaybook(t, fmt.Sprintf("step \"touch\" {\n  command { argv = [\"touch\", \"/tmp/%s\"] }\n}\n", tag))
	first := exec.Command(omsrunBin(t), slow, "-i", l.InventoryHCL, "--limit", held.Name)
	var out bytes.Buffer
	first.Stdout, first.Stderr = &out, &out
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	defer first.Process.Kill()
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(l.Exec(t, held.Name, "ps -eo args || true"), tag) {
		if time.Now().After(deadline) {
			t.Fatalf("the first run never reached %s:\n%s", held.Name, out.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	r := omsrun(t, full, "-i", l.InventoryHCL)
	expectCode(t, r, 2)
	if want := fmt.Sprintf("holds the run lock on %s (holder=", held.Name); !strings.Contains(r.stdout, want) ||
		!strings.Contains(r.stdout, fmt.Sprintf("pid=%d", first.Process.Pid)) || !strings.Contains(r.stdout, "not reached") {
		t.Fatalf("the second run should stop naming %s, the first run's pid and the hosts not reached:\n%s", held.Name, r.stdout)
	}
	for _, h := range l.Hosts {
		if got := l.Exec(t, h.Name, "ls /tmp/"+tag+" 2>/dev/null || echo absent"); got != "absent" {
			t.Errorf("%s: the second run changed it while the first held %s", h.Name, held.Name)
		}
	}
	if err := first.Wait(); err != nil {
		t.Fatalf("the first run: %v\n%s", err, out.String())
	}
	for _, h := range l.Hosts {
		if got := l.Exec(t, h.Name, "cat /var/lock/omsrun/lock 2>/dev/null || echo none"); got != "none" {
			t.Errorf("%s: a lock is left: %s", h.Name, got)
		}
	}
}
