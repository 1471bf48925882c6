package e2e

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/omsrun/omsrun/internal/lab/labtest"
)

// tsdbInventory is the lab's inventory plus a tsdb group holding the last
// lab host, so InfluxDB shares a host with an OMS node as it may on a small
// real deployment.
func tsdbInventory(t *testing.T, l *labtest.Lab) (path, addr string) {
	t.Helper()
	b, err := os.ReadFile(l.InventoryHCL)
	if err != nil {
		t.Fatal(err)
	}
	addr = l.Hosts[len(l.Hosts)-1].Address
	path = filepath.Join(t.TempDir(), "inventory.hcl")
	inv := string(b) + "\ngroup \"tsdb\" {\n  host \"" + l.Hosts[len(l.Hosts)-1].Name + "\" {}\n}\n"
	if err := os.WriteFile(path, []byte(inv), 0o600); err != nil {
		t.Fatal(err)
	}
	return path, addr
}

// influxLogin says whether user can run SHOW DATABASES on the InfluxDB at addr.
func influxLogin(t *testing.T, addr, user, pass string) bool {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, "http://"+addr+"/query?q=SHOW+DATABASES", nil)
	req.SetBasicAuth(user, pass)
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// TestTSDBPlaybook: tsdb.hcl deploys the real InfluxDB (Debian's, in the
// lab's image) on a lab host with authentication on and both users; a
// re-run changes nothing; a changed OMS password is applied; then deploy.hcl
// with tsdb_url empty finds it through the tsdb group, and preflight's
// authenticated login passes.
func TestTSDBPlaybook(t *testing.T) {
	l := labtest.Require(t)
	l.Reset(t)
	l.DropMetaDatabases(t)
	inv, addr := tsdbInventory(t, l)
	img := l.Images["influxdb"]
	tsdbHost := l.Hosts[len(l.Hosts)-1].Name
	t.Cleanup(func() { l.Exec(t, tsdbHost, "docker rm -f influxdb >/dev/null 2>&1; rm -rf /data/influxdb") })
	vars := []string{"-e", "tsdb_url=", "-e", "tsdb_image=" + img.Ref, "-e", "tsdb_image_file=" + img.Path,
		"-e", "tsdb_admin_password=Adm1n'pw", "-e", "tsdb_username=oms_monitor", "-e", "tsdb_password=Mon'1tor pw"}

	r := deploy(t, l, "tsdb.hcl", inv, vars...)
	expectCode(t, r, 0)
	influx := addr + ":8086"
	if !influxLogin(t, influx, "admin", "Adm1n'pw") || !influxLogin(t, influx, "oms_monitor", "Mon'1tor pw") {
		t.Fatalf("the users cannot log in:\n%s", r.stdout)
	}
	if influxLogin(t, influx, "oms_monitor", "wrong") {
		t.Fatal("authentication is off")
	}
	if strings.Contains(r.stdout+r.stderr, "Mon'1tor") || strings.Contains(r.stdout+r.stderr, "Adm1n'pw") {
		t.Fatal("a password was printed")
	}
	if ps := l.Exec(t, tsdbHost, "ps -eo args | grep [i]nfluxd"); strings.Contains(ps, "pw") {
		t.Fatalf("a password is in a process argument: %s", ps)
	}
	if got := l.Exec(t, tsdbHost, "ls /data/influxdb"); !strings.Contains(got, "meta") || !strings.Contains(got, "data") {
		t.Fatalf("data not under the mount folder: %q", got)
	}

	r = deploy(t, l, "tsdb.hcl", inv, vars...)
	expectCode(t, r, 0)
	if n := recapChanged(t, r.stdout); n != 0 {
		t.Fatalf("re-run changed %d:\n%s", n, r.stdout)
	}
	vars[len(vars)-1] = "tsdb_password=N3w-monitor"
	r = deploy(t, l, "tsdb.hcl", inv, vars...)
	expectCode(t, r, 0)
	if n := recapChanged(t, r.stdout); n != 1 || !influxLogin(t, influx, "oms_monitor", "N3w-monitor") || influxLogin(t, influx, "oms_monitor", "Mon'1tor pw") {
		t.Fatalf("changed password: %d changes:\n%s", n, r.stdout)
	}

	// OMS, pointed at it through the tsdb group.
	r = deploy(t, l, "deploy.hcl", inv, append(vars, "-e", "tsdb_enabled=true")...)
	expectCode(t, r, 0)
	preflight := 0
	for _, ev := range jsonEvents(t, r.stdout) {
		if ev["type"] == "host_result" && ev["step"] == "preflight" && ev["status"] != "failed" {
			preflight++
		}
	}
	if preflight != len(l.Hosts) {
		t.Fatalf("preflight passed on %d hosts:\n%s", preflight, r.stdout)
	}
	if cfg := l.Exec(t, l.Hosts[0].Name, "cat /data/oms/config.yaml"); !strings.Contains(cfg, influx) || !strings.Contains(cfg, "oms_monitor") {
		t.Fatalf("config.yaml does not point at the deployed InfluxDB:\n%s", cfg)
	}
}
