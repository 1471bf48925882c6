package modules_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/omsrun/omsrun/internal/transport/transporttest"
	"github.com/omsrun/omsrun/modules"
	"github.com/omsrun/omsrun/modules/modtest"
)

// startInfluxd runs a real InfluxDB 1.x (Debian's influxdb package) with
// authentication on, on free ports in a temporary folder.
func startInfluxd(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("influxd")
	if err != nil {
		t.Skip("influxd not installed (package influxdb, see .ci/deps)")
	}
	free := func() int {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		return l.Addr().(*net.TCPAddr).Port
	}
	dir := t.TempDir()
	httpAddr := fmt.Sprintf("127.0.0.1:%d", free())
	conf := fmt.Sprintf(`reporting-disabled = true
bind-address = "127.0.0.1:%d"
[meta]
  dir = "%[2]s/meta"
[data]
  dir = "%[2]s/data"
  wal-dir = "%[2]s/wal"
[http]
  bind-address = "%[3]s"
  auth-enabled = true
  log-enabled = false
[monitor]
  store-enabled = false
`, free(), dir, httpAddr)
	cf := filepath.Join(dir, "influxdb.conf")
	os.WriteFile(cf, []byte(conf), 0o600)
	cmd := exec.Command(bin, "run", "-config", cf)
	cmd.Stdout, cmd.Stderr = nil, nil
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return httpAddr
}

// influxLogin says whether user/pass can run SHOW DATABASES.
func influxLogin(t *testing.T, addr, user, pass string) bool {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, "http://"+addr+"/query?q=SHOW+DATABASES", nil)
	req.SetBasicAuth(user, pass)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

func TestInfluxDBUserValidate(t *testing.T) {
	err := (&modules.InfluxDBUser{}).Validate(&modules.InfluxDBUserArgs{URL: "http://[::1", Wait: "x"})
	for _, w := range []string{"url:", "admin_user:", "user:", "password:", "wait:"} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("err = %v, want %q", err, w)
		}
	}
}

// TestInfluxDBUser runs the module against a real influxd: a fresh server
// gets the admin then the user, a re-run changes nothing, a changed password
// is applied, and hostile names and passwords arrive exactly.
func TestInfluxDBUser(t *testing.T) {
	addr := startInfluxd(t)
	env := modtest.LocalEnv(transporttest.NewLocal(t), "127.0.0.1")
	m := &modules.InfluxDBUser{}
	yes := true
	admin := &modules.InfluxDBUserArgs{URL: addr, AdminUser: "admin", AdminPassword: `adm'in "pw" \ $(x)`, User: "admin", Password: `adm'in "pw" \ $(x)`, Wait: "20s"}
	oms := &modules.InfluxDBUserArgs{URL: addr, AdminUser: admin.AdminUser, AdminPassword: admin.AdminPassword, User: `oms "mon"`, Password: "it's\n\\secret", Admin: &yes}

	// Before the server listens, check mode cannot know.
	p, err := m.Check(context.Background(), env, &modules.InfluxDBUserArgs{URL: "127.0.0.1:1", AdminUser: "a", AdminPassword: "b", User: "a", Password: "b"})
	if err != nil || !p.Unknown {
		t.Fatalf("down: %+v %v", p, err)
	}
	// Apply waits for /ping, then creates the admin without credentials.
	res, err := m.Apply(context.Background(), env, admin, &modules.Plan{})
	if err != nil || !res.Changed || res.Msg != "create admin user admin" {
		t.Fatalf("admin: %+v %v", res, err)
	}
	if !influxLogin(t, addr, admin.User, admin.Password) {
		t.Fatal("admin cannot log in")
	}
	p, res, err = modtest.RunBoth(t, m, env, oms)
	if err != nil || !p.Change || !res.Changed || strings.Contains(p.Summary+res.Msg, "secret") {
		t.Fatalf("oms user: %+v %+v %v", p, res, err)
	}
	if !influxLogin(t, addr, oms.User, oms.Password) {
		t.Fatal("oms user cannot log in")
	}
	for _, a := range []*modules.InfluxDBUserArgs{admin, oms} {
		if p, err := m.Check(context.Background(), env, a); err != nil || p.Change {
			t.Fatalf("re-run for %s: %+v %v", a.User, p, err)
		}
	}
	// A changed password is applied; the old one stops working.
	old := oms.Password
	oms.Password = "n3w'pw"
	p, res, err = modtest.RunBoth(t, m, env, oms)
	if err != nil || p.Summary != `would set the password of oms "mon"` || !res.Changed {
		t.Fatalf("password change: %+v %+v %v", p, res, err)
	}
	if !influxLogin(t, addr, oms.User, oms.Password) || influxLogin(t, addr, oms.User, old) {
		t.Fatal("the new password is not the one that works")
	}
	// Admin taken away and given back.
	no := false
	oms.Admin = &no
	if _, res, err = modtest.RunBoth(t, m, env, oms); err != nil || !strings.Contains(res.Msg, "take admin") {
		t.Fatalf("revoke: %+v %v", res, err)
	}
	oms.Admin = &yes
	if _, res, err = modtest.RunBoth(t, m, env, oms); err != nil || !strings.Contains(res.Msg, "make") {
		t.Fatalf("grant: %+v %v", res, err)
	}
	// A wrong admin password is a clear error, not a change.
	oms.AdminPassword = "wrong"
	if _, err := m.Check(context.Background(), env, oms); err == nil || !strings.HasPrefix(err.Error(), "admin_password:") {
		t.Fatalf("wrong admin password: %v", err)
	}
	_ = time.Second
}

// TestInfluxDBUserHostile: names and passwords made of the hostile values
// of modules/oms/hostile_test.go reach InfluxDB exactly (the user can log
// in with exactly that password), or are refused by Validate.
func TestInfluxDBUserHostile(t *testing.T) {
	addr := startInfluxd(t)
	env := modtest.LocalEnv(transporttest.NewLocal(t), "127.0.0.1")
	m := &modules.InfluxDBUser{}
	adm := &modules.InfluxDBUserArgs{URL: addr, AdminUser: "admin", AdminPassword: "a", User: "admin", Password: "a", Wait: "20s"}
	if _, err := m.Apply(context.Background(), env, adm, &modules.Plan{}); err != nil {
		t.Fatal(err)
	}
	for i, v := range []string{"it's", `say "hi"`, "a  b c", "$(touch PWNED)", "`touch PWNED`", "x; touch PWNED", "x\ntouch PWNED",
		"x\n", "$HOME", "*", `x\ny\\z\c`, "-rf", "a\tb", "数据-ümlaut-✓", "> PWNED | touch PWNED &", `'"$(touch PWNED)"'`} {
		a := &modules.InfluxDBUserArgs{URL: addr, AdminUser: "admin", AdminPassword: "a", User: fmt.Sprintf("u%d %s", i, v), Password: v + " pw"}
		if strings.ContainsAny(v, "\r\n") {
			if err := m.Validate(a); err == nil || !strings.Contains(err.Error(), "user:") {
				t.Errorf("%q: Validate %v", v, err)
			}
			a.User = fmt.Sprintf("u%d", i)
		}
		if err := m.Validate(a); err != nil {
			t.Fatalf("%q: %v", v, err)
		}
		if _, _, err := modtest.RunBoth(t, m, env, a); err != nil {
			t.Fatalf("%q: %v", v, err)
		}
		if !influxLogin(t, addr, a.User, a.Password) {
			t.Errorf("%q: user %q cannot log in with %q", v, a.User, a.Password)
		}
		if p, err := m.Check(context.Background(), env, a); err != nil || p.Change {
			t.Errorf("%q: not converged: %v %v", v, p.Summary, err)
		}
	}
}
