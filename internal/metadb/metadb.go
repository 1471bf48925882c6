// Package metadb talks to the OMS MetaDB (MySQL, or an OceanBase MySQL
// tenant): it connects with the settings config.yaml will hold, tells the
// usual failures apart, and finds which of the OMS databases already exist.
// `omsrun init` asks it while the user is still at the keyboard; the
// metadb_check module can ask it during a run.
package metadb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/omsrun/omsrun/internal/secret"
)

// Target is where and as whom to connect.
type Target struct {
	Host     string
	Port     int
	User     string
	Password secret.String
	// Timeout bounds the connection attempt; 0 means 5 seconds.
	Timeout time.Duration
	// Dial, when set, opens the TCP connection, e.g. through an SSH host
	// when only the OMS nodes can reach the MetaDB.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
}

// Addr is host:port.
func (t Target) Addr() string { return net.JoinHostPort(t.Host, strconv.Itoa(t.Port)) }

// Report is what a successful check learned.
type Report struct {
	// Version is the server's version string (OceanBase reports a MySQL-compatible one).
	Version string
	// Existing are the asked-for databases that already exist, in the order asked.
	Existing []string
}

// Kind says which of the failures a user can act on happened.
type Kind int

// The kinds of failure, each with its own advice.
const (
	Other Kind = iota
	Unreachable
	AccessDenied
	NoPrivilege
)

// Error is a failed check, classified.
type Error struct {
	Kind Kind
	Addr string
	User string
	Err  error
}

func (e *Error) Error() string {
	switch e.Kind {
	case Unreachable:
		return fmt.Sprintf("cannot reach the MetaDB at %s: %v", e.Addr, e.Err)
	case AccessDenied:
		return fmt.Sprintf("the MetaDB at %s refused user %q: wrong user name or password", e.Addr, e.User)
	case NoPrivilege:
		return fmt.Sprintf("user %q lacks privileges on the MetaDB at %s: %v", e.User, e.Addr, e.Err)
	}
	return fmt.Sprintf("MetaDB at %s: %v", e.Addr, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// Config is the driver configuration for t, built field by field so that no
// character of a password or an OceanBase user (user@tenant#cluster) needs
// escaping in a DSN string.
func (t Target) Config() *mysql.Config {
	c := mysql.NewConfig()
	c.Net = "tcp"
	c.Addr = t.Addr()
	c.User = t.User
	c.Passwd = t.Password.Reveal()
	c.Timeout = t.timeout()
	c.ReadTimeout = t.timeout()
	c.WriteTimeout = t.timeout()
	// OceanBase and older MySQL servers still offer only mysql_native_password.
	c.AllowNativePasswords = true
	c.DialFunc = t.Dial
	return c
}

func (t Target) timeout() time.Duration {
	if t.Timeout > 0 {
		return t.Timeout
	}
	return 5 * time.Second
}

// Check connects, reads the server version and looks up which of dbs exist.
func Check(ctx context.Context, t Target, dbs []string) (Report, error) {
	var r Report
	conn, err := mysql.NewConnector(t.Config())
	if err != nil {
		return r, &Error{Kind: Other, Addr: t.Addr(), User: t.User, Err: err}
	}
	db := sql.OpenDB(conn)
	defer db.Close()
	ctx, cancel := context.WithTimeout(ctx, 2*t.timeout())
	defer cancel()
	if err := db.PingContext(ctx); err != nil {
		return r, t.classify(err)
	}
	if err := db.QueryRowContext(ctx, "SELECT VERSION()").Scan(&r.Version); err != nil {
		return r, t.classify(err)
	}
	// information_schema rather than SHOW DATABASES LIKE: one round trip, no
	// pattern escaping, and OceanBase's MySQL mode answers it the same way.
	rows, err := db.QueryContext(ctx, "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA")
	if err != nil {
		return r, t.classify(err)
	}
	defer rows.Close()
	have := map[string]bool{}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return r, t.classify(err)
		}
		have[name] = true
	}
	if err := rows.Err(); err != nil {
		return r, t.classify(err)
	}
	for _, d := range dbs {
		if have[d] {
			r.Existing = append(r.Existing, d)
		}
	}
	return r, nil
}

// MySQL server error numbers the check tells apart.
const (
	erAccessDenied      = 1045 // wrong password or unknown user
	erDBAccessDenied    = 1044
	erTableAccessDenied = 1142
	erHostNotPrivileged = 1130 // user exists but not for this client host
)

func (t Target) classify(err error) error {
	e := &Error{Kind: Other, Addr: t.Addr(), User: t.User, Err: err}
	var me *mysql.MySQLError
	var ne net.Error
	switch {
	case errors.As(err, &me):
		switch me.Number {
		case erAccessDenied, erHostNotPrivileged:
			e.Kind = AccessDenied
		case erDBAccessDenied, erTableAccessDenied:
			e.Kind = NoPrivilege
		}
	case errors.As(err, &ne), errors.Is(err, context.DeadlineExceeded), errors.Is(err, mysql.ErrInvalidConn):
		e.Kind = Unreachable
	}
	return e
}
