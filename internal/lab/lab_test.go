package lab

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/omsrun/omsrun/internal/transport"
)

func TestHostAddressesSkipTheVIP(t *testing.T) {
	seen := map[string]bool{Controller: true, VIP: true}
	for _, h := range Hosts(MaxHosts) {
		if seen[h.Address] {
			t.Fatalf("host %s reuses address %s", h.Name, h.Address)
		}
		seen[h.Address] = true
		if len(h.Veth()) > 15 {
			t.Errorf("link name %q is longer than Linux allows", h.Veth())
		}
	}
	if got := HostAt(1).Address; got != "10.77.0.11" {
		t.Errorf("host 1 at %s", got)
	}
}

func TestEnvRoundTrip(t *testing.T) {
	values := map[string]string{"A": "plain", "B": "oms#Meta: 2026", "C": `it's "quoted" $HOME`, "D": "",
		"E": `''`, "F": `'"'"'`, "G": "$(id) `id` ; \\ * ~"}
	file := filepath.Join(t.TempDir(), "env")
	var body string
	for k, v := range values {
		body += k + "=" + transport.Quote(v) + "\n"
	}
	if err := os.WriteFile(file, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := ReadEnv(file)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range values {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
		// The file is also sourced by sh: the shell must read the same.
		out, err := exec.Command("sh", "-c", ". "+file+" && printf %s \"$"+k+"\"").Output()
		if err != nil || string(out) != v {
			t.Errorf("sh read %s = %q (%v), want %q", k, out, err, v)
		}
	}
}

// TestVIPConfig: every variant is a valid haproxy configuration with the
// balancer settings the README documents.
func TestVIPConfig(t *testing.T) {
	for _, o := range []VIPOptions{{}, {NoRetries: true}, {TLSCheck: true}} {
		cfg := vipConfig(vipGroups(Hosts(3), 1), o)
		for _, want := range []string{"inter 2s fall 3 rise 2", "option httpchk GET /oms/health", "server oms1 10.77.0.11:8088 check port 8089"} {
			if !strings.Contains(cfg, want) {
				t.Errorf("%+v: no %q in\n%s", o, want, cfg)
			}
		}
		if strings.Contains(cfg, "redispatch") == o.NoRetries {
			t.Errorf("%+v: retries wrong in\n%s", o, cfg)
		}
		f := filepath.Join(t.TempDir(), "haproxy.cfg")
		// The stats socket's folder must exist for the check to pass.
		cfg = strings.ReplaceAll(cfg, HAProxySocket, filepath.Join(t.TempDir(), "admin.sock"))
		os.WriteFile(f, []byte(cfg), 0o644)
		if out, err := exec.Command("haproxy", "-c", "-q", "-f", f).CombinedOutput(); err != nil {
			t.Errorf("%+v: haproxy -c: %v\n%s\n%s", o, err, out, cfg)
		}
	}
}

// TestVIPConfigTwoRegions: LAB_REGIONS=2 adds a host and puts VIP in front
// of region 1's hosts and VIP2 of region 2's; one region keeps the one VIP
// over every host.
func TestVIPConfigTwoRegions(t *testing.T) {
	t.Setenv("LAB_HOSTS", "")
	t.Setenv("LAB_REGIONS", "2")
	o, err := OptionsFromEnv(t.TempDir())
	if err != nil || o.Hosts != 4 || o.Regions != 2 {
		t.Fatalf("LAB_REGIONS=2: %+v, %v", o, err)
	}
	t.Setenv("LAB_REGIONS", "3")
	if _, err := OptionsFromEnv(t.TempDir()); err == nil || !strings.Contains(err.Error(), "LAB_REGIONS") {
		t.Errorf("LAB_REGIONS=3: %v", err)
	}
	if g := vipGroups(Hosts(3), 1); len(g) != 1 || g[0].addr != VIP || len(g[0].hosts) != 3 {
		t.Errorf("one region: %+v", g)
	}
	cfg := vipConfig(vipGroups(Hosts(4), 2), VIPOptions{})
	// Each backend section lists exactly its region's servers.
	want := map[string]string{"oms_8088": "oms1 oms2", "oms_8089": "oms1 oms2", "oms2_8088": "oms3 oms4", "oms2_8089": "oms3 oms4"}
	got := map[string]string{}
	var backend string
	for _, line := range strings.Split(cfg, "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) == 2 && f[0] == "backend":
			backend = f[1]
		case len(f) > 1 && f[0] == "server":
			got[backend] = strings.TrimSpace(got[backend] + " " + f[1])
		}
	}
	for b, w := range want {
		if got[b] != w {
			t.Errorf("backend %s: servers %q, want %q\n%s", b, got[b], w, cfg)
		}
	}
	for _, bind := range []string{"bind 10.77.0.100:8089", "bind 10.77.0.200:8088", "bind 10.77.0.200:8089"} {
		if !strings.Contains(cfg, bind) {
			t.Errorf("no %q in\n%s", bind, cfg)
		}
	}
	f := filepath.Join(t.TempDir(), "haproxy.cfg")
	cfg = strings.ReplaceAll(cfg, HAProxySocket, filepath.Join(t.TempDir(), "admin.sock"))
	os.WriteFile(f, []byte(cfg), 0o644)
	if out, err := exec.Command("haproxy", "-c", "-q", "-f", f).CombinedOutput(); err != nil {
		t.Errorf("haproxy -c: %v\n%s", err, out)
	}
}
