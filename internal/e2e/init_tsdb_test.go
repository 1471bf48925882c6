package e2e

import (
	"strings"
	"testing"

	"github.com/omsrun/omsrun/internal/lab/labtest"
)

// TestInitOffersToDeployTheTSDB: an operator without a time-series database
// lets init deploy one. init writes the lab host as group tsdb and prints
// tsdb.hcl first; that command, run as printed, deploys the real InfluxDB
// with OMS's user, and the deployment's printed check command then passes
// (its preflight logs in to that InfluxDB through the tsdb group).
func TestInitOffersToDeployTheTSDB(t *testing.T) {
	l := labtest.Require(t)
	host := l.Hosts[len(l.Hosts)-1]
	img := l.Images["influxdb"]
	t.Cleanup(func() { l.Exec(t, host.Name, "docker rm -f influxdb >/dev/null 2>&1; rm -rf /data/influxdb") })
	// The lab's flags without the TSDB that exists: init deploys another.
	base := initFlags(l, t.TempDir(), initPrefix(t, "tsdb"))
	var flags []string
	for i := 0; i < len(base); i++ {
		if base[i] == "--tsdb-url" || base[i] == "--tsdb-user" {
			i++
			continue
		}
		flags = append(flags, base[i])
	}
	flags = append(flags, "--tsdb-deploy", "--tsdb-host", host.Address, "--tsdb-image-file", img.Path, "--tsdb-image", img.Ref, "--secrets", "env")
	env := []string{"OMS_META_PASSWORD=" + l.MetaDB.Password, "OMS_TSDB_PASSWORD=Mon1tor-pw", "OMS_TSDB_ADMIN_PASSWORD=Adm1n-pw"}
	r := runInit(t, env, flags...)
	expectCode(t, r, 0)
	var tsdb []string
	for _, line := range strings.Split(r.stdout, "\n") {
		if line = strings.TrimSpace(line); strings.HasPrefix(line, "omsrun playbooks/tsdb.hcl ") {
			tsdb = strings.Fields(line)[1:]
		}
	}
	if tsdb == nil || strings.Index(r.stdout, "playbooks/tsdb.hcl") > strings.Index(r.stdout, "playbooks/deploy.hcl") {
		t.Fatalf("tsdb.hcl is not printed before the deployment:\n%s", r.stdout)
	}
	d := runInit(t, env, tsdb...)
	expectCode(t, d, 0)
	if !influxLogin(t, host.Address+":8086", "oms_tsdb", "Mon1tor-pw") || !influxLogin(t, host.Address+":8086", "admin", "Adm1n-pw") {
		t.Fatalf("the users cannot log in after the printed tsdb.hcl command:\n%s", d.stdout)
	}
	c := runInit(t, env, append(printedCheckCommand(t, r.stdout), "--check", "--diff", "--no-color")...)
	expectCode(t, c, 0)
	for _, out := range []string{r.stdout + r.stderr, d.stdout + d.stderr, c.stdout + c.stderr} {
		if strings.Contains(out, "Mon1tor") || strings.Contains(out, "Adm1n") {
			t.Fatal("a password was printed")
		}
	}
}
