package lab

import (
	"os"
	"os/exec"
	"path/filepath"
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
