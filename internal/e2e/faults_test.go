package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/omsrun/omsrun/internal/lab/image"
	"github.com/omsrun/omsrun/internal/lab/labtest"
)

// Faults on one host never hurt the others, are reported clearly, and a
// re-run after the fault is fixed converges.

func TestFaultSSHDStoppedOnOneHost(t *testing.T) {
	l := labtest.Require(t)
	freshCluster(t, l, 3)
	down := l.Hosts[2].Name
	l.StopSSHD(t, down)
	r := deploy(t, l, "deploy.hcl", l.InventoryHCL, "-e", "cm_nodes=[]", "--connect-timeout", "3s")
	expectCode(t, r, 3)
	for _, ev := range jsonEvents(t, r.stdout) {
		if ev["type"] != "recap" {
			continue
		}
		hosts := ev["hosts"].(map[string]any)
		if u := hosts[down].(map[string]any)["unreachable"].(float64); u != 1 {
			t.Fatalf("recap: %s unreachable=%v", down, u)
		}
		for _, h := range l.Hosts[:2] {
			if f := hosts[h.Name].(map[string]any)["failed"].(float64); f != 0 {
				t.Fatalf("recap: %s failed=%v", h.Name, f)
			}
		}
	}
	l.StartSSHD(t, down)
	expectCode(t, deploy(t, l, "deploy.hcl", l.InventoryHCL, "-e", "cm_nodes=[]"), 0)
}

// bigImage builds (once per machine) a stand-in image with a 48 MiB filler,
// large enough to cut a link in the middle of its stream.
func bigImage(t *testing.T, l *labtest.Lab) string {
	t.Helper()
	dir := "/var/tmp/omsrun-e2e"
	path := filepath.Join(dir, "oms-filler48.tar.gz")
	if _, err := os.Stat(path); err == nil {
		return path
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "oms-standin")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/omsrun/omsrun/internal/lab/standin").CombinedOutput(); err != nil {
		t.Fatalf("build the stand-in: %v\n%s", err, out)
	}
	spec, err := image.Standin(image.StandinOptions{Binary: bin, Version: "v1-filler", RepoTag: "oms:filler-48", FillerMB: 48})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := image.WriteFile(path+".tmp", spec); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(path+".tmp", path); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestFaultLinkCutDuringImageStream(t *testing.T) {
	l := labtest.Require(t)
	img := bigImage(t, l)
	st, _ := os.Stat(img)
	l.Reset(t)
	cut := l.Hosts[1].Name
	before := l.VethBytes(t, cut)
	// Cut the link once a few MiB of the stream crossed it.
	cmd, out := startLoad(t, l, img, cut, 4<<20)
	l.CutLink(t, cut)
	cutAt := time.Now()
	sent := l.VethBytes(t, cut) - before
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		ee, ok := err.(*exec.ExitError)
		if !ok || ee.ExitCode() != 3 {
			t.Fatalf("exit %v, want 3 (the cut host unreachable, the others fine)\n%s", err, out.String())
		}
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("omsrun hung after the link cut:\n%s", out.String())
	}
	if took := time.Since(cutAt); took > 30*time.Second {
		t.Errorf("the cut was noticed after %s, want within 30s", took)
	}
	if sent == 0 || sent >= uint64(st.Size()) {
		t.Errorf("the cut host got %d of %d bytes, want some but not all", sent, st.Size())
	}
	text := out.String()
	if !strings.Contains(text, "unreachable") || !strings.Contains(text, cut) {
		t.Fatalf("the cut host is not reported unreachable:\n%s", text)
	}
	for _, h := range []string{l.Hosts[0].Name, l.Hosts[2].Name} {
		if got := l.Exec(t, h, "docker images -q | wc -l"); got == "0" {
			t.Errorf("%s did not finish loading while %s was cut off", h, cut)
		}
	}
	l.RestoreLink(t, cut)
	expectCode(t, omsrun(t, "exec", "-i", l.InventoryHCL, "all", "-m", "docker_load", "-a", "file="+img), 0)
}

func TestFaultDockerStopped(t *testing.T) {
	l := labtest.Require(t)
	l.Reset(t)
	l.DropMetaDatabases(t)
	bad := l.Hosts[0].Name
	l.StopDocker(t, bad)
	r := deploy(t, l, "deploy.hcl", l.InventoryHCL, "-e", "cm_nodes=[]")
	expectCode(t, r, 2)
	failed := false
	for _, ev := range jsonEvents(t, r.stdout) {
		if ev["type"] == "host_result" && ev["host"] == bad && ev["status"] == "failed" {
			failed = true
			if msg := fmt.Sprint(ev["error"]); !strings.Contains(strings.ToLower(msg), "docker") {
				t.Fatalf("the error should say Docker is the problem: %s", msg)
			}
		}
	}
	if !failed {
		t.Fatalf("no failure reported for %s:\n%s", bad, r.stdout)
	}
	l.StartDocker(t, bad)
	expectCode(t, deploy(t, l, "deploy.hcl", l.InventoryHCL, "-e", "cm_nodes=[]"), 0)
}

func TestFaultMetaDBDownStopsBeforeChanges(t *testing.T) {
	l := labtest.Require(t)
	l.Reset(t)
	l.DropMetaDatabases(t)
	l.StopMariaDB(t)
	r := deploy(t, l, "deploy.hcl", l.InventoryHCL, "-e", "cm_nodes=[]")
	expectCode(t, r, 2)
	if !strings.Contains(r.stdout, "MetaDB") {
		t.Fatalf("the failure should name the MetaDB:\n%s", r.stdout)
	}
	for _, h := range l.Hosts {
		if got := l.Exec(t, h.Name, "ls -d /data/oms 2>/dev/null; docker images -q"); got != "" {
			t.Fatalf("%s was changed although the MetaDB was down: %q", h.Name, got)
		}
	}
	l.StartMariaDB(t)
	expectCode(t, deploy(t, l, "deploy.hcl", l.InventoryHCL, "-e", "cm_nodes=[]"), 0)
}

func TestFaultDataFullKeepsConfigIntact(t *testing.T) {
	l := labtest.Require(t)
	inv := freshCluster(t, l, 2)
	full := l.Hosts[0].Name
	before := l.Exec(t, full, "cat /data/oms/config.yaml")
	l.FillData(t, full, 0)
	r := deploy(t, l, "reconfigure.hcl", inv, "-e", "cm_nodes=[]", "-e", "cm_location=102")
	expectCode(t, r, 2)
	if !strings.Contains(r.stdout, "no space") {
		t.Fatalf("the error should say the disk is full:\n%s", r.stdout)
	}
	if after := l.Exec(t, full, "cat /data/oms/config.yaml"); after != before {
		t.Fatalf("config.yaml changed on the full host:\n%s", after)
	}
	// The running container still reads a complete file.
	var cfg map[string]any
	if err := yaml.Unmarshal([]byte(l.Exec(t, full, "docker exec oms cat /home/admin/conf/config.yaml")), &cfg); err != nil || cfg["cm_url"] == nil || cfg["oms_meta_password"] == nil {
		t.Fatalf("the container's config.yaml is not complete: %v %v", err, cfg)
	}
	l.FreeData(t, full)
	expectCode(t, deploy(t, l, "reconfigure.hcl", inv, "-e", "cm_nodes=[]", "-e", "cm_location=102"), 0)
	for _, h := range l.Hosts[:2] {
		if got := fmt.Sprint(nodeConfig(t, h.Address)["cm_location"]); got != "102" {
			t.Errorf("%s cm_location %s after the re-run", h.Name, got)
		}
	}
}

// TestSecretsNeverLeak deploys with a distinctive MetaDB password and looks
// for it everywhere it must not be: omsrun's output (-vv, --json, --diff),
// the hosts' process lists during the run, and the hosts' logs.
func TestSecretsNeverLeak(t *testing.T) {
	l := labtest.Require(t)
	l.Reset(t)
	l.DropMetaDatabases(t)
	const canary = "Canary-9f27$(x)'pw"
	l.MetaSQL(t, fmt.Sprintf("DROP USER IF EXISTS 'omscanary'@'%%'; CREATE USER 'omscanary'@'%%' IDENTIFIED BY '%s'; GRANT ALL ON *.* TO 'omscanary'@'%%'", strings.ReplaceAll(canary, "'", "''")))
	vars := writeFile(t, "secret.hcl", fmt.Sprintf("oms_meta_user = \"omscanary\"\noms_meta_password = %q\n", canary))
	state := t.TempDir()
	t.Setenv("XDG_STATE_HOME", state)

	stop := make(chan struct{})
	var mu sync.Mutex
	var seen []string
	go func() {
		for {
			select {
			case <-stop:
				return
			case <-time.After(100 * time.Millisecond):
			}
			for _, h := range l.Hosts {
				ps, _, _ := l.Run(t.Context(), h.Name, "cat /proc/[0-9]*/cmdline 2>/dev/null | tr '\\0' ' '")
				if strings.Contains(ps, canary) {
					mu.Lock()
					seen = append(seen, h.Name)
					mu.Unlock()
				}
			}
		}
	}()
	outs := []cliResult{
		deploy(t, l, "deploy.hcl", l.InventoryHCL, "-e", "cm_nodes=[]", "-e", "@"+vars, "--check", "--diff"),
		deploy(t, l, "deploy.hcl", l.InventoryHCL, "-e", "cm_nodes=[]", "-e", "@"+vars, "-vv", "--diff"),
		omsrun(t, "playbooks/deploy.hcl", "-i", l.InventoryHCL, "-e", "@"+l.Vars, "-e", "min_free_gb=1", "-e", "cm_nodes=[]", "-e", "@"+vars, "-vv", "--diff"),
		omsrun(t, "exec", "-i", l.InventoryHCL, "all", "--", "cat", "/data/oms/config.yaml"),
		// --json carries the output as outputs.stdout, and the run record keeps it.
		omsrun(t, "exec", "-i", l.InventoryHCL, "all", "--json", "--", "cat", "/data/oms/config.yaml"),
	}
	close(stop)
	expectCode(t, outs[1], 0)
	for i, r := range outs {
		if strings.Contains(r.stdout+r.stderr, canary) {
			t.Errorf("run %d printed the password", i)
		}
	}
	if !strings.Contains(outs[3].stdout, "oms_meta_password") {
		t.Fatalf("the exec did not show the file:\n%s", outs[3].stdout)
	}
	if !strings.Contains(outs[4].stdout, `"stdout":"`) || !strings.Contains(outs[4].stdout, `oms_meta_password: ********`) {
		t.Fatalf("the exec --json did not show the masked file in outputs.stdout:\n%s", outs[4].stdout)
	}
	filepath.WalkDir(state, func(p string, d os.DirEntry, err error) error {
		if b, rerr := os.ReadFile(p); err == nil && !d.IsDir() && rerr == nil && strings.Contains(string(b), canary) {
			t.Errorf("the run record %s holds the password", p)
		}
		return nil
	})
	mu.Lock()
	if len(seen) > 0 {
		t.Errorf("the password appeared in a process's arguments on %v", seen)
	}
	mu.Unlock()
	for _, h := range l.Hosts {
		logs := l.Exec(t, h.Name, "cat /var/log/omsrun/audit.log /var/log/*.log 2>/dev/null; true")
		if strings.Contains(logs, canary) || strings.Contains(l.SSHDLog(t, h.Name), canary) {
			t.Errorf("the password is in a log on %s", h.Name)
		}
	}
}

// TestProgressOnATerminalAndInLogs: an image upload draws one bar per host
// on a terminal (bytes, rate, ETA) and plain periodic lines otherwise.
func TestProgressOnATerminalAndInLogs(t *testing.T) {
	l := labtest.Require(t)
	img := bigImage(t, l)
	l.Reset(t)
	p := startPTY(t, "exec", "-i", l.InventoryHCL, "all", "-m", "docker_load", "-a", "file="+img)
	p.expect("ETA")
	p.expect("RECAP")
	if code := p.wait(); code != 0 {
		t.Fatalf("exit %d:\n%s", code, p.transcript())
	}
	l.Reset(t)
	r := omsrun(t, "exec", "-i", l.InventoryHCL, "all", "-m", "docker_load", "-a", "file="+img)
	expectCode(t, r, 0)
	if strings.Contains(r.stdout, "\x1b[") {
		t.Fatal("escape sequences in output that is not a terminal")
	}
	if !strings.Contains(r.stdout, "sent ") {
		t.Fatalf("no transfer summary in plain output:\n%s", r.stdout)
	}
}
