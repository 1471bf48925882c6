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
	"sync"
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
	// Absent are the asked-for databases that do not exist (and that the user
	// may create), in the order asked.
	Absent []string
	// AuthPlugin is the user's authentication plugin when the server lets
	// the user read it (mysql.user), else "".
	AuthPlugin string
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
	// The driver would log to stderr; the returned errors say it all.
	c.Logger = &mysql.NopLogger{}
	if t.Dial != nil {
		dial := t.Dial
		c.DialFunc = func(ctx context.Context, network, addr string) (net.Conn, error) {
			conn, err := dial(ctx, network, addr)
			if err != nil {
				return nil, &dialError{err}
			}
			return &deadlineConn{Conn: conn}, nil
		}
	}
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
	c, err := db.Conn(ctx)
	if err != nil {
		return r, t.classify(err)
	}
	defer c.Close()
	if err := c.QueryRowContext(ctx, "SELECT VERSION()").Scan(&r.Version); err != nil {
		return r, t.classify(err)
	}
	// Best effort: most MetaDB users may not read mysql.user, and then the
	// plugin stays unknown. CURRENT_USER() is the account the server matched.
	var plugin sql.NullString
	if c.QueryRowContext(ctx, "SELECT plugin FROM mysql.user WHERE CONCAT(user, '@', host) = CURRENT_USER()").Scan(&plugin) == nil {
		r.AuthPlugin = plugin.String
	}
	// USE rather than information_schema, which silently hides a database
	// the user may not see: USE answers 1049 (unknown database: absent, and
	// the user could create it) apart from 1044 (access denied), so missing
	// privileges are reported now rather than when OMS first starts.
	for _, d := range dbs {
		_, err := c.ExecContext(ctx, "USE "+quoteIdent(d))
		var me *mysql.MySQLError
		switch {
		case err == nil:
			r.Existing = append(r.Existing, d)
		case errors.As(err, &me) && me.Number == erBadDB:
			r.Absent = append(r.Absent, d)
		default:
			return r, t.classify(err)
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
	erBadDB             = 1049 // unknown database
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
	case errors.As(err, &ne), errors.Is(err, context.DeadlineExceeded), errors.Is(err, mysql.ErrInvalidConn), isDialError(err):
		e.Kind = Unreachable
	}
	return e
}

// isDialError recognises a failed dial through Target.Dial (an SSH
// direct-tcpip refusal is no net.Error).
func isDialError(err error) bool {
	var d *dialError
	return errors.As(err, &d)
}

// dialError marks a failure of Target.Dial.
type dialError struct{ err error }

func (e *dialError) Error() string { return e.err.Error() }
func (e *dialError) Unwrap() error { return e.err }

// deadlineConn gives deadlines to a connection that has none: an SSH
// direct-tcpip channel refuses them ("deadline not supported") and the driver
// sets them on every packet when ReadTimeout/WriteTimeout are set. When a
// deadline passes the connection is closed, which fails the pending read or
// write as a timeout would.
type deadlineConn struct {
	net.Conn
	mu    sync.Mutex
	timer *time.Timer
}

func (c *deadlineConn) SetDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.timer != nil {
		c.timer.Stop()
		c.timer = nil
	}
	if !t.IsZero() {
		c.timer = time.AfterFunc(time.Until(t), func() { c.Conn.Close() })
	}
	return nil
}

func (c *deadlineConn) SetReadDeadline(t time.Time) error  { return c.SetDeadline(t) }
func (c *deadlineConn) SetWriteDeadline(t time.Time) error { return c.SetDeadline(t) }

func (c *deadlineConn) Close() error {
	c.mu.Lock()
	if c.timer != nil {
		c.timer.Stop()
	}
	c.mu.Unlock()
	return c.Conn.Close()
}
