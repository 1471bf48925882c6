package metadb

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
)

func TestClassify(t *testing.T) {
	tg := Target{Host: "10.0.0.1", Port: 2881, User: "root@oms#c", Password: "pw"}
	tests := []struct {
		name string
		err  error
		kind Kind
		msg  string
	}{
		{name: "wrong password", err: &mysql.MySQLError{Number: 1045, Message: "Access denied"}, kind: AccessDenied, msg: "wrong user name or password"},
		{name: "host not allowed", err: &mysql.MySQLError{Number: 1130}, kind: AccessDenied},
		{name: "no privilege", err: &mysql.MySQLError{Number: 1142, Message: "SELECT command denied"}, kind: NoPrivilege, msg: "lacks privileges"},
		{name: "refused", err: &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}, kind: Unreachable, msg: "cannot reach the MetaDB at 10.0.0.1:2881"},
		{name: "timeout", err: context.DeadlineExceeded, kind: Unreachable},
		{name: "other", err: errors.New("boom"), kind: Other},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var e *Error
			if !errors.As(tg.classify(tt.err), &e) || e.Kind != tt.kind {
				t.Fatalf("classify(%v) = %+v, want kind %v", tt.err, e, tt.kind)
			}
			if tt.msg != "" && !strings.Contains(e.Error(), tt.msg) {
				t.Errorf("message %q lacks %q", e.Error(), tt.msg)
			}
			if strings.Contains(e.Error(), "pw") && tt.kind != Other {
				t.Errorf("message shows the password: %q", e.Error())
			}
		})
	}
}

// The driver config is built field by field: characters that would break a
// DSN string (OceanBase users, passwords with @ : / ?) reach the server intact.
func TestConfigKeepsSpecialCharacters(t *testing.T) {
	tg := Target{Host: "fd00::1", Port: 2881, User: "root@oms_tenant#cluster", Password: "p@ss:/w?rd", Timeout: 3 * time.Second}
	c := tg.Config()
	if c.User != tg.User || c.Passwd != "p@ss:/w?rd" || c.Addr != "[fd00::1]:2881" || c.Timeout != 3*time.Second {
		t.Fatalf("config = %+v", c)
	}
}

func TestCheckUnreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().(*net.TCPAddr)
	l.Close() // nothing listens there now
	_, err = Check(context.Background(), Target{Host: "127.0.0.1", Port: addr.Port, User: "u", Password: "p", Timeout: time.Second}, nil)
	var e *Error
	if !errors.As(err, &e) || e.Kind != Unreachable {
		t.Fatalf("err = %v, want Unreachable", err)
	}
}
