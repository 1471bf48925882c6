package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/omsrun/omsrun/internal/lab/labtest"
)

// These tests drive the omsrun binary as a user would, against the lab.

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// omsrunBin returns $OMSRUN_BIN (make e2e builds it) or builds the binary once.
func omsrunBin(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		if p := os.Getenv("OMSRUN_BIN"); p != "" {
			binPath = p
			return
		}
		dir, err := os.MkdirTemp("", "omsrun-e2e")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "omsrun")
		out, err := exec.Command("go", "build", "-o", binPath, "github.com/omsrun/omsrun/cmd/omsrun").CombinedOutput()
		if err != nil {
			binErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

type cliResult struct {
	stdout, stderr string
	code           int
}

// omsrun runs the binary from the repository root and returns what it printed.
func omsrun(t *testing.T, args ...string) cliResult {
	t.Helper()
	cmd := exec.Command(omsrunBin(t), args...)
	cmd.Dir = repoDir(t)
	cmd.Env = append(os.Environ(), "NO_COLOR=1")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return cliResult{out.String(), errb.String(), code}
}

func repoDir(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// writePlaybook writes src to a temp playbook file.
func writePlaybook(t *testing.T, src string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "play.hcl")
	if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func expectCode(t *testing.T, r cliResult, code int) {
	t.Helper()
	if r.code != code {
		t.Fatalf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, code, r.stdout, r.stderr)
	}
}

func TestCLIExecOnThreeHosts(t *testing.T) {
	l := labtest.Require(t)
	r := omsrun(t, "exec", "-i", l.Inventory, "all", "--", "sh", "-c", "echo hello from $(hostname -I | cut -d' ' -f1)")
	expectCode(t, r, 0)
	for _, h := range l.Hosts {
		want := fmt.Sprintf("%s | hello from %s", h.Name, h.Address)
		if !strings.Contains(r.stdout, want) {
			t.Errorf("missing %q in:\n%s", want, r.stdout)
		}
	}
	// A command failing on one host makes the exit code say so.
	r = omsrun(t, "exec", "-i", l.InventoryHCL, "all", "--", "sh", "-c", fmt.Sprintf("hostname -I | grep -q %s && exit 3; true", l.Hosts[1].Address))
	expectCode(t, r, 2)
	if !strings.Contains(r.stdout, "failed") || !strings.Contains(r.stdout, l.Hosts[1].Name) {
		t.Fatalf("the failed host is not reported:\n%s", r.stdout)
	}
}

func TestCLIBarrierOrderFromRemoteClocks(t *testing.T) {
	l := labtest.Require(t)
	slow := l.Hosts[0].Address
	// Every host stamps the start and end of each step on its own clock (the
	// lab's hosts share the machine's clock); the first host is slow in step 1.
	pb := `
step "one" {
  shell { cmd = "f=/tmp/omsrun-barrier; rm -f $f; echo \"start 1 $(date +%s.%N)\" >> $f; hostname -I | grep -q '` + slow + `' && sleep 0.5; echo \"end 1 $(date +%s.%N)\" >> $f" }
}
step "two" {
  shell { cmd = "f=/tmp/omsrun-barrier; echo \"start 2 $(date +%s.%N)\" >> $f; sleep 0.1; echo \"end 2 $(date +%s.%N)\" >> $f" }
}
step "three" {
  shell { cmd = "f=/tmp/omsrun-barrier; echo \"start 3 $(date +%s.%N)\" >> $f; echo \"end 3 $(date +%s.%N)\" >> $f" }
}
`
	r := omsrun(t, writePlaybook(t, pb), "-i", l.Inventory)
	expectCode(t, r, 0)
	starts := map[int][]float64{}
	ends := map[int][]float64{}
	for _, h := range l.Hosts {
		out := l.Exec(t, h.Name, "cat /tmp/omsrun-barrier")
		sc := bufio.NewScanner(strings.NewReader(out))
		for sc.Scan() {
			f := strings.Fields(sc.Text())
			if len(f) != 3 {
				continue
			}
			step, _ := strconv.Atoi(f[1])
			ts, _ := strconv.ParseFloat(f[2], 64)
			if f[0] == "start" {
				starts[step] = append(starts[step], ts)
			} else {
				ends[step] = append(ends[step], ts)
			}
		}
	}
	for step := 1; step <= 2; step++ {
		if len(ends[step]) != 3 || len(starts[step+1]) != 3 {
			t.Fatalf("missing stamps: starts %v ends %v", starts, ends)
		}
		sort.Float64s(ends[step])
		sort.Float64s(starts[step+1])
		if last, first := ends[step][2], starts[step+1][0]; first < last {
			t.Fatalf("step %d started on some host at %.3f before step %d ended everywhere (%.3f)", step+1, first, step, last)
		}
	}
}

// jsonEvents parses --json output.
func jsonEvents(t *testing.T, out string) []map[string]any {
	t.Helper()
	var evs []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if line == "" {
			continue
		}
		var ev map[string]any
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Fatalf("not JSON: %q: %v", line, err)
		}
		evs = append(evs, ev)
	}
	return evs
}

// changedPairs returns "step@host" for every changed host_result.
func changedPairs(t *testing.T, out string) []string {
	var pairs []string
	for _, ev := range jsonEvents(t, out) {
		if ev["type"] == "host_result" && ev["status"] == "changed" {
			pairs = append(pairs, fmt.Sprintf("%s@%s", ev["step"], ev["host"]))
		}
	}
	sort.Strings(pairs)
	return pairs
}

func TestCLICheckModeChangesNothing(t *testing.T) {
	l := labtest.Require(t)
	dir := fmt.Sprintf("/tmp/omsrun-check-%d", time.Now().UnixNano())
	pb := fmt.Sprintf(`
step "folder" {
  command { argv = ["mkdir", "-p", %q] }
}
step "file" {
  copy {
    dest    = "%s/hello.txt"
    content = "hello ${host.name}\n"
    mode    = "0644"
  }
}
`, dir, dir)
	path := writePlaybook(t, pb)
	r := omsrun(t, path, "-i", l.Inventory, "--check", "--diff", "--json")
	expectCode(t, r, 0)
	announced := changedPairs(t, r.stdout)
	if len(announced) != 6 {
		t.Fatalf("check mode should announce 6 changes, got %v\n%s", announced, r.stdout)
	}
	for _, h := range l.Hosts {
		if out := l.Exec(t, h.Name, "ls -d "+dir+" 2>/dev/null || echo absent"); strings.TrimSpace(out) != "absent" {
			t.Fatalf("check mode touched %s: %s", h.Name, out)
		}
	}
	r = omsrun(t, path, "-i", l.Inventory, "--json")
	expectCode(t, r, 0)
	if made := changedPairs(t, r.stdout); fmt.Sprint(made) != fmt.Sprint(announced) {
		t.Fatalf("check announced %v, the run made %v", announced, made)
	}
	for _, h := range l.Hosts {
		if got := l.Exec(t, h.Name, "cat "+dir+"/hello.txt"); got != "hello "+h.Name {
			t.Fatalf("%s: %q", h.Name, got)
		}
	}
	// Converged: only the command step (which cannot know) is announced.
	r = omsrun(t, path, "-i", l.Inventory, "--check", "--json")
	expectCode(t, r, 0)
	for _, p := range changedPairs(t, r.stdout) {
		if strings.HasPrefix(p, "file@") {
			t.Fatalf("check on a converged host announced %s", p)
		}
	}
}

func TestCLIOneConnectionPerHost(t *testing.T) {
	l := labtest.Require(t)
	var b strings.Builder
	for i := 1; i <= 10; i++ {
		fmt.Fprintf(&b, "step \"s%d\" {\n  command { argv = [\"true\"] }\n}\n", i)
	}
	before := map[string]int{}
	for _, h := range l.Hosts {
		before[h.Name] = l.SSHDConnections(t, h.Name)
	}
	r := omsrun(t, writePlaybook(t, b.String()), "-i", l.Inventory)
	expectCode(t, r, 0)
	for _, h := range l.Hosts {
		if n := l.SSHDConnections(t, h.Name) - before[h.Name]; n != 1 {
			t.Errorf("%s: sshd logged %d connections for a 10-step run, want 1", h.Name, n)
		}
	}
}

func TestCLIInterruptLeavesNoRemoteProcess(t *testing.T) {
	l := labtest.Require(t)
	tag := fmt.Sprintf("omsrun-int-%d", time.Now().UnixNano())
	pb := fmt.Sprintf(`
step "long" {
  shell { cmd = "sleep 300 # %s" }
}
step "never" {
  command { argv = ["touch", "/tmp/%s"] }
}
`, tag, tag)
	cmd := exec.Command(omsrunBin(t), writePlaybook(t, pb), "-i", l.Inventory)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Wait until the sleep runs on every host, then interrupt.
	if !runsOnEveryHost(t, l, tag) {
		cmd.Process.Kill()
		t.Fatalf("the command never started everywhere:\n%s", out.String())
	}
	cmd.Process.Signal(syscall.SIGINT)
	err := cmd.Wait()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 130 {
		t.Fatalf("exit: %v, want 130\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "RECAP") {
		t.Fatalf("no recap after interrupt:\n%s", out.String())
	}
	for _, h := range l.Hosts {
		// The kill is sent before omsrun exits; give the host a moment to reap.
		ps := ""
		for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(100 * time.Millisecond) {
			if ps = l.Exec(t, h.Name, "ps -eo args || true"); !strings.Contains(ps, tag) || time.Now().After(deadline) {
				break
			}
		}
		if strings.Contains(ps, tag) {
			t.Errorf("%s still runs the interrupted command:\n%s", h.Name, ps)
		}
		if got := l.Exec(t, h.Name, "ls /tmp/"+tag+" 2>/dev/null || echo absent"); strings.TrimSpace(got) != "absent" {
			t.Errorf("%s ran the step after the interrupt", h.Name)
		}
		if got := l.Exec(t, h.Name, "cat /var/lock/omsrun/lock 2>/dev/null || echo none"); got != "none" {
			t.Errorf("%s: the run lock outlived the interrupted run: %s", h.Name, got)
		}
	}
}

func TestCLIUnknownHostKeyRefused(t *testing.T) {
	l := labtest.Require(t)
	empty := filepath.Join(t.TempDir(), "known_hosts")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	// An inventory that names no known_hosts file of its own, so --known-hosts rules.
	inv := filepath.Join(t.TempDir(), "inventory")
	ini := fmt.Sprintf("[oms]\n%s ansible_host=%s ansible_user=root ansible_ssh_private_key_file=%s\n", l.Hosts[0].Name, l.Hosts[0].Address, l.Key)
	if err := os.WriteFile(inv, []byte(ini), 0o600); err != nil {
		t.Fatal(err)
	}
	r := omsrun(t, "exec", "-i", inv, "--known-hosts", empty, l.Hosts[0].Name, "--", "true")
	expectCode(t, r, 3)
	all := r.stdout + r.stderr
	if !strings.Contains(all, "SHA256:") || !strings.Contains(all, "--accept-new-host-keys") {
		t.Fatalf("the refusal should show the fingerprint and the flag:\n%s", all)
	}
	r = omsrun(t, "exec", "-i", inv, "--known-hosts", empty, "--accept-new-host-keys", l.Hosts[0].Name, "--", "true")
	expectCode(t, r, 0)
	if b, _ := os.ReadFile(empty); !strings.Contains(string(b), l.Hosts[0].Address) {
		t.Fatalf("the new key was not recorded: %q", b)
	}
}

func TestCLIBecomeWithSudoPassword(t *testing.T) {
	l := labtest.Require(t)
	r := omsrun(t, "exec", "-i", l.InventoryDeploy, "all", "--become", "--", "sh", "-c", "id -u; cat /etc/hostname >/dev/null")
	expectCode(t, r, 0)
	for _, h := range l.Hosts {
		if !strings.Contains(r.stdout, h.Name+" | 0") {
			t.Errorf("%s did not run as root:\n%s", h.Name, r.stdout)
		}
	}
	if strings.Contains(r.stdout+r.stderr, l.DeployPassword) {
		t.Fatal("the sudo password was printed")
	}
}

func TestCLIInvalidInputTouchesNoHost(t *testing.T) {
	l := labtest.Require(t)
	before := l.SSHDConnections(t, l.Hosts[0].Name)
	pb := writePlaybook(t, "step \"x\" {\n  command { argv = [\"true\"] \n  bogus = 1 }\n}\n")
	r := omsrun(t, pb, "-i", l.Inventory)
	expectCode(t, r, 4)
	if !strings.Contains(r.stderr, pb+":") {
		t.Fatalf("the error should name the file and line:\n%s", r.stderr)
	}
	if after := l.SSHDConnections(t, l.Hosts[0].Name); after != before {
		t.Fatalf("invalid input still connected to a host (%d → %d)", before, after)
	}
}

func TestCLIRunLock(t *testing.T) {
	l := labtest.Require(t)
	h := l.Hosts[0]
	l.Exec(t, h.Name, "mkdir -p /var/lock/omsrun && echo 'holder=alice@laptop pid=4242 start=2026-01-01T00:00:00Z playbook=deploy.hcl' > /var/lock/omsrun/lock")
	t.Cleanup(func() { l.Exec(t, h.Name, "rm -f /var/lock/omsrun/lock") })
	pb := writePlaybook(t, "step \"touch\" {\n  command { argv = [\"true\"] }\n}\n")
	r := omsrun(t, pb, "-i", l.InventoryHCL)
	expectCode(t, r, 2)
	if !strings.Contains(r.stdout, "alice@laptop") || !strings.Contains(r.stdout, "omsrun unlock") {
		t.Fatalf("the refusal should name the holder and the way out:\n%s", r.stdout)
	}
	// The way out as printed, followed below once the lock was shown to hold.
	unlock := regexp.MustCompile("`omsrun (unlock) -i INVENTORY ([^`]+)`").FindStringSubmatch(r.stdout)
	if unlock == nil {
		t.Fatalf("the refusal should print the unlock command:\n%s", r.stdout)
	}
	// The other hosts are not changed either: the run stops before its first
	// change, naming the holder and the hosts it left alone.
	tag := fmt.Sprintf("/tmp/omsrun-lockgate-%d", time.Now().UnixNano())
	r = omsrun(t, writePlaybook(t, fmt.Sprintf("step \"touch\" {\n  command { argv = [\"touch\", %q] }\n}\n", tag)), "-i", l.InventoryHCL)
	expectCode(t, r, 2)
	if !strings.Contains(r.stdout, "holds the run lock on "+h.Name+" (holder=alice@laptop") || !strings.Contains(r.stdout, "changed nothing") || !strings.Contains(r.stdout, "not reached") {
		t.Fatalf("the stop should name the held host, its holder and the hosts not reached:\n%s", r.stdout)
	}
	for _, o := range l.Hosts[1:] {
		if got := l.Exec(t, o.Name, "ls "+tag+" 2>/dev/null || echo absent; cat /var/lock/omsrun/lock 2>/dev/null || echo none"); got != "absent\nnone" {
			t.Errorf("%s was changed or kept a lock while %s was held by another run: %q", o.Name, h.Name, got)
		}
	}
	// Check mode takes no lock and so is not stopped by one.
	expectCode(t, omsrun(t, pb, "-i", l.InventoryHCL, "--check"), 0)
	// Nor is a run of read-only modules (status.hcl's kind) or of a check_mode step.
	ro := writePlaybook(t, "step \"read\" {\n  config_loaded {}\n}\nstep \"drift\" {\n  check_mode = true\n  command {\n    argv = [\"true\"]\n    creates = \"/\"\n  }\n}\n")
	expectCode(t, omsrun(t, ro, "-i", l.InventoryHCL), 0)
	expectCode(t, omsrun(t, "exec", "-i", l.InventoryHCL, h.Name, "-m", "config_loaded"), 0)
	// The shipped status.hcl is such a run: it reports (0, or 6 for a node
	// not as intended, whatever state the lab is in), never refused.
	st := omsrun(t, "playbooks/status.hcl", "-i", l.InventoryHCL, "-e", "@"+l.Vars, "-e", "cm_nodes=[]")
	if st.code != 0 && st.code != 6 || strings.Contains(st.stdout, "alice@laptop") {
		t.Fatalf("status.hcl under a held lock: exit %d:\n%s", st.code, st.stdout)
	}
	// exec of a module that may change the host takes the lock like a playbook.
	r = omsrun(t, "exec", "-i", l.InventoryHCL, h.Name, "-m", "command", "-a", `argv=["true"]`)
	expectCode(t, r, 2)
	if !strings.Contains(r.stdout, "alice@laptop") {
		t.Fatalf("exec -m command should be refused naming the holder:\n%s", r.stdout)
	}
	// exec -- CMD cannot be classified: never refused, but it warns naming
	// the holder and leaves its audit line.
	before := l.Exec(t, h.Name, "cat /var/log/omsrun/audit.log 2>/dev/null | wc -l")
	r = omsrun(t, "exec", "-i", l.InventoryHCL, h.Name, "--", "true")
	expectCode(t, r, 0)
	if !strings.Contains(r.stdout, "warning") || !strings.Contains(r.stdout, "alice@laptop") {
		t.Fatalf("exec -- CMD should warn that alice holds the lock:\n%s", r.stdout)
	}
	if after := l.Exec(t, h.Name, "cat /var/log/omsrun/audit.log | wc -l"); after == before {
		t.Fatalf("exec -- CMD wrote no audit line")
	}
	if audit := l.Exec(t, h.Name, "tail -n 1 /var/log/omsrun/audit.log"); !strings.Contains(audit, `playbook=exec command="-- true"`) {
		t.Fatalf("exec audit line: %q", audit)
	}
	r = omsrun(t, unlock[1], "-i", l.InventoryHCL, unlock[2])
	expectCode(t, r, 0)
	if !strings.Contains(r.stdout, "alice@laptop") {
		t.Fatalf("unlock should say whose lock it removed:\n%s", r.stdout)
	}
	expectCode(t, omsrun(t, pb, "-i", l.InventoryHCL), 0)
	audit := l.Exec(t, h.Name, "tail -n 1 /var/log/omsrun/audit.log")
	if !strings.Contains(audit, pb) || !strings.Contains(audit, "result=ok") || !strings.Contains(audit, "touch") {
		t.Fatalf("audit line: %q", audit)
	}
	// A lock left by a dead run of this machine is taken over, and said so.
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	me, _ := os.Hostname()
	l.Exec(t, h.Name, fmt.Sprintf("echo 'holder=bob@%s pid=%d start=2026-01-01T00:00:00Z playbook=old.hcl' > /var/lock/omsrun/lock", me, dead.Process.Pid))
	r = omsrun(t, pb, "-i", l.InventoryHCL)
	expectCode(t, r, 0)
	if !strings.Contains(r.stdout, "took over a stale run lock") || !strings.Contains(r.stdout, "bob@"+me) {
		t.Fatalf("the takeover should be reported naming the old holder:\n%s", r.stdout)
	}
}

// TestCLITwoRunsAtOnce starts a real run that holds its hosts, then a second
// one against the same hosts: the second is refused at its first step with
// the first's holder line (its pid), changes nothing, and the first finishes
// and leaves no lock. Both as root and through sudo (the deploy user), since
// the lock rides on each host's first command in either case (the
// deploy inventory sets become).
func TestCLITwoRunsAtOnce(t *testing.T) {
	l := labtest.Require(t)
	for _, inv := range []struct{ name, file string }{{"root", l.InventoryHCL}, {"sudo", l.InventoryDeploy}} {
		t.Run(inv.name, func(t *testing.T) {
			tag := fmt.Sprintf("omsrun-two-%d", time.Now().UnixNano())
			slow := writePlaybook(t, fmt.Sprintf(`
step "hold" {
  shell { cmd = "sleep 4 # %s" }
}
`, tag))
			second := writePlaybook(t, fmt.Sprintf(`
step "touch" {
  command { argv = ["touch", "/tmp/%s"] }
}
`, tag))
			first := exec.Command(omsrunBin(t), slow, "-i", inv.file)
			var out bytes.Buffer
			first.Stdout, first.Stderr = &out, &out
			if err := first.Start(); err != nil {
				t.Fatal(err)
			}
			defer first.Process.Kill()
			if !runsOnEveryHost(t, l, tag) {
				t.Fatalf("the first run never held every host:\n%s", out.String())
			}
			r := omsrun(t, second, "-i", inv.file)
			expectCode(t, r, 2)
			holder := fmt.Sprintf("pid=%d", first.Process.Pid)
			if !strings.Contains(r.stdout, holder) || !strings.Contains(r.stdout, "omsrun unlock") {
				t.Fatalf("the second run should name the first (%s) and the way out:\n%s", holder, r.stdout)
			}
			for _, h := range l.Hosts {
				if got := l.Exec(t, h.Name, "ls /tmp/"+tag+" 2>/dev/null || echo absent"); strings.TrimSpace(got) != "absent" {
					t.Errorf("%s: the refused run changed the host", h.Name)
				}
			}
			if err := first.Wait(); err != nil {
				t.Fatalf("the first run: %v\n%s", err, out.String())
			}
			for _, h := range l.Hosts {
				if got := l.Exec(t, h.Name, "cat /var/lock/omsrun/lock 2>/dev/null || echo none"); got != "none" {
					t.Errorf("%s: a lock is left: %s", h.Name, got)
				}
				audit := l.Exec(t, h.Name, "tail -n 1 /var/log/omsrun/audit.log")
				if !strings.Contains(audit, slow) || !strings.Contains(audit, "result=ok") {
					t.Errorf("%s: audit line %q", h.Name, audit)
				}
			}
		})
	}
}

// runsOnEveryHost waits up to 20 s for a process whose arguments hold tag
// on every lab host, and says whether that happened.
func runsOnEveryHost(t *testing.T, l *labtest.Lab, tag string) bool {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		n := 0
		for _, h := range l.Hosts {
			if strings.Contains(l.Exec(t, h.Name, "ps -eo args || true"), tag) {
				n++
			}
		}
		if n == len(l.Hosts) {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(100 * time.Millisecond)
	}
}
