package oms

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/omsrun/omsrun/internal/metadb"
	"github.com/omsrun/omsrun/internal/transport/transporttest"
	"github.com/omsrun/omsrun/modules"
	"github.com/omsrun/omsrun/modules/modtest"
)

func TestMetadbCheckValidate(t *testing.T) {
	m := &MetadbCheck{}
	ok := &MetadbCheckArgs{Host: "10.0.0.1", Port: 3306, User: "oms@t#c", Password: "x", Databases: []string{"oms_rm", "oms_cm", "oms_cm_hb"}}
	if err := m.Validate(ok); err != nil {
		t.Fatal(err)
	}
	bad := &MetadbCheckArgs{Port: 0, Databases: []string{"oms-rm", ""}, Timeout: cfgPtr("soon")}
	err := m.Validate(bad)
	for _, want := range []string{"host:", "port: 0", "user:", `"oms-rm" is not a plain`, "database name is empty", "timeout:"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("err = %v; want %q", err, want)
		}
	}
}

func TestMetadbCheckExplain(t *testing.T) {
	a := &MetadbCheckArgs{ViaHost: true}
	env := &modules.Env{HostName: "n1"}
	tests := []struct {
		kind metadb.Kind
		want string
	}{
		{metadb.Unreachable, "check oms_meta_host and oms_meta_port"},
		{metadb.AccessDenied, "check oms_meta_user and oms_meta_password"},
		{metadb.NoPrivilege, "grant the user all privileges"},
	}
	for _, tt := range tests {
		err := a.explain(env, &metadb.Error{Kind: tt.kind, Addr: "db:3306", User: "oms", Err: errors.New("x")})
		var me *metadb.Error
		if !errors.As(err, &me) || me.Kind != tt.kind || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "from host n1") {
			t.Errorf("explain(kind %d) = %v", tt.kind, err)
		}
	}
	plain := errors.New("plain")
	if a.explain(env, plain) != plain {
		t.Error("an unclassified error was rewritten")
	}
}

func TestMetadbCheckUnreachable(t *testing.T) {
	// A port that was just free: nothing listens there.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	h := transporttest.NewLocal(t)
	a := &MetadbCheckArgs{Host: "127.0.0.1", Port: port, User: "u", Password: "p", Databases: []string{"oms_rm"}, ViaHost: true, Timeout: cfgPtr("3s")}
	start := time.Now()
	_, err = (&MetadbCheck{}).Check(context.Background(), modtest.LocalEnv(h, "10.0.0.2"), a)
	var me *metadb.Error
	if !errors.As(err, &me) || me.Kind != metadb.Unreachable || !strings.Contains(err.Error(), "from host n1") {
		t.Fatalf("err = %v; want unreachable from host n1", err)
	}
	if time.Since(start) > 5*time.Second {
		t.Fatalf("took %v; the timeout is 3s", time.Since(start))
	}
}

// TestAuthWarning covers MySQL 8, which the lab (MariaDB) cannot show.
func TestAuthWarning(t *testing.T) {
	cases := []struct {
		version, plugin string
		warn            bool
	}{
		{"8.0.36", "caching_sha2_password", true},
		{"8.0.36", "mysql_native_password", false},
		{"8.0.36", "", false},
		{"5.7.44", "caching_sha2_password", false},
		{"10.11.6-MariaDB-0+deb12u1", "mysql_native_password", false},
		{"5.7.25-OceanBase_CE-v4.2.1.8", "", false},
	}
	for _, tc := range cases {
		if got := authWarning(tc.version, tc.plugin); (got != "") != tc.warn {
			t.Errorf("%s %s: %q", tc.version, tc.plugin, got)
		}
	}
}

// MetaDB backups go to omsrun's state folder unless dir says otherwise,
// not into whatever folder omsrun ran from.
func TestMetadbBackupDefaultDir(t *testing.T) {
	t.Setenv("XDG_STATE_HOME", "/srv/state")
	if got := (&MetadbBackupArgs{}).dir(); got != "/srv/state/omsrun/backups" {
		t.Errorf("default dir %q", got)
	}
	if got := (&MetadbBackupArgs{Dir: "/b"}).dir(); got != "/b" {
		t.Errorf("dir %q, want /b", got)
	}
}
