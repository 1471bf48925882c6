package modules

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/omsrun/omsrun/internal/transport/transporttest"
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

func TestClassifyMetaDB(t *testing.T) {
	tgt := MetaDBTarget{Host: "db", Port: 3306, User: "oms"}
	tests := []struct {
		name string
		err  error
		kind MetaDBErrorKind
		want string
	}{
		{"wrong password", &mysql.MySQLError{Number: 1045, Message: "Access denied"}, MetaDBAuth, "wrong password"},
		{"no db privilege", &mysql.MySQLError{Number: 1044, Message: "Access denied for user to database 'oms_rm'"}, MetaDBPrivileges, "lacks privileges"},
		{"no table privilege", &mysql.MySQLError{Number: 1142, Message: "SELECT command denied"}, MetaDBPrivileges, "MySQL error 1142"},
		{"refused", &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connect: connection refused")}, MetaDBUnreachable, "cannot reach the MetaDB at db:3306"},
		{"timeout", context.DeadlineExceeded, MetaDBUnreachable, "cannot reach"},
		{"other server error", &mysql.MySQLError{Number: 1040, Message: "Too many connections"}, MetaDBOther, "Too many connections"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := classifyMetaDB(tt.err, tgt)
			var me *MetaDBError
			if !errors.As(err, &me) || me.Kind != tt.kind || !strings.Contains(me.Msg, tt.want) {
				t.Fatalf("classify = %#v; want kind %d with %q", err, tt.kind, tt.want)
			}
		})
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
	_, err = (&MetadbCheck{}).Check(context.Background(), cfgEnv(h, "10.0.0.2"), a)
	var me *MetaDBError
	if !errors.As(err, &me) || me.Kind != MetaDBUnreachable || !strings.Contains(me.Msg, "from host n1") {
		t.Fatalf("err = %v; want unreachable from host n1", err)
	}
	if time.Since(start) > 5*time.Second {
		t.Fatalf("took %v; the timeout is 3s", time.Since(start))
	}
}
