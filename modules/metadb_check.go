package modules

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/zclconf/go-cty/cty"

	"github.com/omsrun/omsrun/internal/omsconfig"
)

// MetadbCheck connects to the MetaDB, reports its version and whether the
// three OMS databases exist. Existing databases stop the run with the seed's
// warning unless the user confirmed or omsrun itself deployed them. It only
// reads, so check mode runs it for real.
type MetadbCheck struct{}

var _ Module = (*MetadbCheck)(nil)
var _ Validator = (*MetadbCheck)(nil)

func init() { register("metadb_check", func() Module { return &MetadbCheck{} }) }

// MetadbCheckArgs are the arguments of metadb_check.
type MetadbCheckArgs struct {
	Host      string   `hcl:"host"`
	Port      int      `hcl:"port"`
	User      string   `hcl:"user"`
	Password  string   `hcl:"password"`
	Databases []string `hcl:"databases"`
	// AllowExisting is the user's confirmation that existing databases are fine.
	AllowExisting bool `hcl:"allow_existing,optional"`
	// ExistingDeployment says an OMS deployed by omsrun already uses these
	// databases (the playbook sets it from the hosts' facts).
	ExistingDeployment bool `hcl:"existing_deployment,optional"`
	// ViaHost dials from the current host over SSH, for a MetaDB only the OMS nodes reach.
	ViaHost bool    `hcl:"via_host,optional"`
	Timeout *string `hcl:"timeout,optional"`
}

// Doc describes the module.
func (*MetadbCheck) Doc() Doc {
	return Doc{
		Name:    "metadb_check",
		Summary: "Connect to the MetaDB, report its version, and stop when the OMS databases already exist unless confirmed.",
		Args: map[string]string{
			"host":                "string, required: the MetaDB address",
			"port":                "number, required: the MetaDB port",
			"user":                "string, required: the MetaDB user (user@tenant#cluster for OceanBase)",
			"password":            "string, required, sensitive: the MetaDB password",
			"databases":           "list(string), required: drc_rm_db, drc_cm_db, drc_cm_heartbeat_db",
			"allow_existing":      "bool: existing databases are fine (also --yes)",
			"existing_deployment": "bool: an OMS deployed earlier uses these databases, so their existing is expected",
			"via_host":            "bool: connect from the current host through SSH instead of from the control machine",
			"timeout":             `string: connect and query timeout (default "10s")`,
		},
	}
}

// NewArgs returns empty arguments.
func (*MetadbCheck) NewArgs() any { return &MetadbCheckArgs{} }

func (a *MetadbCheckArgs) timeout() (time.Duration, error) {
	if a.Timeout == nil {
		return 10 * time.Second, nil
	}
	d, err := time.ParseDuration(*a.Timeout)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("timeout: %q is not a duration such as \"10s\"", *a.Timeout)
	}
	return d, nil
}

// Validate checks the arguments before any connection.
func (*MetadbCheck) Validate(args any) error {
	a := args.(*MetadbCheckArgs)
	var errs []error
	if a.Host == "" {
		errs = append(errs, errors.New("host: the MetaDB address is required"))
	}
	if a.Port < 1 || a.Port > 65535 {
		errs = append(errs, fmt.Errorf("port: %d is not a TCP port", a.Port))
	}
	if a.User == "" {
		errs = append(errs, errors.New("user: the MetaDB user is required"))
	}
	if len(a.Databases) == 0 {
		errs = append(errs, errors.New("databases: list the OMS database names"))
	}
	for _, d := range a.Databases {
		if err := omsconfig.CheckDBName(d); err != nil {
			errs = append(errs, fmt.Errorf("databases: %w", err))
		}
	}
	if _, err := a.timeout(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// MetaDBTarget is how to reach the MetaDB and which databases to look for.
type MetaDBTarget struct {
	Host      string
	Port      int
	User      string
	Password  string
	Databases []string
	Timeout   time.Duration
	// Dial, when set, opens the TCP connection (e.g. through an SSH host).
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// Via names where Dial connects from, for messages ("from host n1").
	Via string
}

// MetaDBProbe is what a connection to the MetaDB learned.
type MetaDBProbe struct {
	Version  string
	Existing []string
	Absent   []string
}

// MetaDBErrorKind tells the failures a user fixes differently apart.
type MetaDBErrorKind int

// The kinds of MetaDB failure.
const (
	MetaDBOther MetaDBErrorKind = iota
	MetaDBUnreachable
	MetaDBAuth
	MetaDBPrivileges
)

// MetaDBError is a failed MetaDB check with a message written for the user.
type MetaDBError struct {
	Kind MetaDBErrorKind
	Msg  string
	Err  error
}

func (e *MetaDBError) Error() string { return e.Msg }
func (e *MetaDBError) Unwrap() error { return e.Err }

// ProbeMetaDB connects to the MetaDB, reads its version and, for each
// database, whether it exists. Shared with `omsrun init`, which asks the
// same questions interactively.
func ProbeMetaDB(ctx context.Context, t MetaDBTarget) (MetaDBProbe, error) {
	ctx, cancel := context.WithTimeout(ctx, t.Timeout)
	defer cancel()
	cfg := mysql.NewConfig()
	cfg.Net = "tcp"
	cfg.Addr = net.JoinHostPort(t.Host, strconv.Itoa(t.Port))
	cfg.User, cfg.Passwd = t.User, t.Password
	cfg.Timeout, cfg.ReadTimeout, cfg.WriteTimeout = t.Timeout, t.Timeout, t.Timeout
	// The driver would log to stderr; modules never print, the error says it all.
	cfg.Logger = &mysql.NopLogger{}
	if t.Dial != nil {
		dial := t.Dial
		cfg.DialFunc = func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := dial(ctx, network, addr)
			if err != nil {
				return nil, &viaDialError{err}
			}
			return &deadlineConn{Conn: c}, nil
		}
	}
	connector, err := mysql.NewConnector(cfg)
	if err != nil {
		return MetaDBProbe{}, &MetaDBError{Msg: "MetaDB settings: " + err.Error(), Err: err}
	}
	db := sql.OpenDB(connector)
	defer db.Close()
	conn, err := db.Conn(ctx)
	if err != nil {
		return MetaDBProbe{}, classifyMetaDB(err, t)
	}
	defer conn.Close()

	var p MetaDBProbe
	if err := conn.QueryRowContext(ctx, "SELECT VERSION()").Scan(&p.Version); err != nil {
		return MetaDBProbe{}, classifyMetaDB(err, t)
	}
	// USE tells existence and privilege apart where information_schema would
	// silently hide a database the user may not see: 1049 is "unknown
	// database" (absent, and the user could create it), 1044 is "access denied".
	for _, name := range t.Databases {
		_, err := conn.ExecContext(ctx, "USE `"+strings.ReplaceAll(name, "`", "``")+"`")
		var me *mysql.MySQLError
		switch {
		case err == nil:
			p.Existing = append(p.Existing, name)
		case errors.As(err, &me) && me.Number == 1049:
			p.Absent = append(p.Absent, name)
		default:
			return p, classifyMetaDB(err, t)
		}
	}
	return p, nil
}

// classifyMetaDB turns a driver error into one of the distinct messages.
func classifyMetaDB(err error, t MetaDBTarget) error {
	addr := net.JoinHostPort(t.Host, strconv.Itoa(t.Port))
	from := ""
	if t.Via != "" {
		from = " from " + t.Via
	}
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		switch me.Number {
		case 1045:
			return &MetaDBError{Kind: MetaDBAuth, Err: err, Msg: fmt.Sprintf(
				"the MetaDB at %s refused user %q: wrong password, or the user may not connect from this address (MySQL error 1045)", addr, t.User)}
		case 1044, 1142, 1227:
			return &MetaDBError{Kind: MetaDBPrivileges, Err: err, Msg: fmt.Sprintf(
				"user %q lacks privileges on the MetaDB at %s: %s (MySQL error %d); OMS needs to create and use its databases, e.g. GRANT ALL PRIVILEGES ON `oms_%%`.* TO the user",
				t.User, addr, me.Message, me.Number)}
		}
		return &MetaDBError{Err: err, Msg: fmt.Sprintf("the MetaDB at %s answered: %s (MySQL error %d)", addr, me.Message, me.Number)}
	}
	var ne net.Error
	if errors.As(err, &ne) || errors.Is(err, context.DeadlineExceeded) || isDialError(err) {
		return &MetaDBError{Kind: MetaDBUnreachable, Err: err, Msg: fmt.Sprintf(
			"cannot reach the MetaDB at %s%s: %v (check oms_meta_host/oms_meta_port and that a firewall lets the connection through)", addr, from, err)}
	}
	return &MetaDBError{Err: err, Msg: fmt.Sprintf("talking to the MetaDB at %s%s: %v", addr, from, err)}
}

// isDialError recognises a failure to connect that the dial path did not
// wrap as a net.Error (an SSH direct-tcpip refusal, for one).
func isDialError(err error) bool {
	var op *net.OpError
	var via *viaDialError
	if errors.As(err, &op) || errors.As(err, &via) {
		return true
	}
	s := strings.ToLower(err.Error())
	return strings.Contains(s, "connection refused") || strings.Contains(s, "no route to host") ||
		strings.Contains(s, "i/o timeout") || strings.Contains(s, "open failed") || errors.Is(err, mysql.ErrInvalidConn)
}

func (a *MetadbCheckArgs) target(env *Env) MetaDBTarget {
	d, _ := a.timeout()
	t := MetaDBTarget{Host: a.Host, Port: a.Port, User: a.User, Password: a.Password, Databases: a.Databases, Timeout: d}
	if a.ViaHost {
		t.Dial = env.Host.Dial
		t.Via = "host " + env.HostName
	}
	return t
}

// existsMsg is the seed's warning, with what to do about it in omsrun.
func existsMsg(names []string) string {
	return "The specified database names already exist in the MetaDB: " + strings.Join(names, ", ") +
		". This may be caused by a repeated deployment or an upgrade of OMS. " +
		"No OMS deployed by omsrun uses them; if you are sure, set allow_existing = true or run with --yes."
}

// Check connects and reads; existing databases stop here unless confirmed.
func (*MetadbCheck) Check(ctx context.Context, env *Env, args any) (*Plan, error) {
	a := args.(*MetadbCheckArgs)
	p, err := ProbeMetaDB(ctx, a.target(env))
	if err != nil {
		return nil, err
	}
	if len(p.Existing) > 0 && !a.AllowExisting && !a.ExistingDeployment && !env.Yes {
		return nil, errors.New(existsMsg(p.Existing))
	}
	summary := "MetaDB " + p.Version + ": databases absent, OMS will create them"
	if len(p.Existing) > 0 {
		summary = "MetaDB " + p.Version + ": existing databases " + strings.Join(p.Existing, ", ")
		if a.ExistingDeployment {
			summary += " (used by this OMS deployment)"
		} else {
			summary += " (confirmed)"
		}
	}
	return &Plan{Summary: summary, Data: p}, nil
}

// Apply reports what Check found; it changes nothing.
func (m *MetadbCheck) Apply(ctx context.Context, env *Env, args any, plan *Plan) (*Result, error) {
	p, ok := plan.Data.(MetaDBProbe)
	if !ok {
		pl, err := m.Check(ctx, env, args)
		if err != nil {
			return nil, err
		}
		p, plan = pl.Data.(MetaDBProbe), pl
	}
	res := &Result{Msg: plan.Summary, Outputs: map[string]cty.Value{
		"version":  cty.StringVal(p.Version),
		"existing": metadbNames(p.Existing),
		"absent":   metadbNames(p.Absent),
	}}
	a := args.(*MetadbCheckArgs)
	if len(p.Existing) > 0 && !a.ExistingDeployment {
		res.Warnings = append(res.Warnings, "MetaDB databases already exist and will be reused: "+strings.Join(p.Existing, ", "))
	}
	return res, nil
}

// metadbNames is a list output, empty rather than null when there are none.
func metadbNames(ss []string) cty.Value {
	if len(ss) == 0 {
		return cty.ListValEmpty(cty.String)
	}
	vals := make([]cty.Value, len(ss))
	for i, s := range ss {
		vals[i] = cty.StringVal(s)
	}
	return cty.ListVal(vals)
}

// viaDialError marks a failure of the dial through a host.
type viaDialError struct{ err error }

func (e *viaDialError) Error() string { return e.err.Error() }
func (e *viaDialError) Unwrap() error { return e.err }

// deadlineConn gives deadlines to a connection that has none (an SSH
// direct-tcpip channel refuses them, and the MySQL driver sets them on every
// packet): when a deadline passes, the connection is closed, which fails the
// pending read or write just as a timeout would.
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
