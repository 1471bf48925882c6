package modules

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/zclconf/go-cty/cty"

	"github.com/omsrun/omsrun/internal/probe"
	"github.com/omsrun/omsrun/internal/tsdbcheck"
)

// InfluxDBUser makes an InfluxDB 1.x user exist with a password and admin
// flag, through the HTTP API reached from the host (SSH direct-tcpip), so
// passwords travel in a POST body and never in a command line. On a fresh
// server with authentication on it first creates the admin user, which is
// the one statement InfluxDB then accepts without credentials.
type InfluxDBUser struct{}

var _ Module = (*InfluxDBUser)(nil)
var _ Validator = (*InfluxDBUser)(nil)

// InfluxDBUserArgs are the arguments of influxdb_user.
type InfluxDBUserArgs struct {
	URL           string `hcl:"url,optional"`
	AdminUser     string `hcl:"admin_user"`
	AdminPassword string `hcl:"admin_password"`
	User          string `hcl:"user"`
	Password      string `hcl:"password"`
	Admin         *bool  `hcl:"admin,optional"`
	Wait          string `hcl:"wait,optional"`
}

// Doc describes the module.
func (*InfluxDBUser) Doc() Doc {
	return Doc{
		Name:    "influxdb_user",
		Summary: "Make an InfluxDB 1.x user exist with its password and admin flag, over the HTTP API from the host; creates the admin user first on a fresh server.",
		Args: map[string]string{
			"url":            `string: InfluxDB's host:port as the host reaches it (default "127.0.0.1:8086")`,
			"admin_user":     "string, required: the admin user (created when the server has no user yet)",
			"admin_password": "string, required, sensitive: its password; a wrong one is an error, since only the admin can change it",
			"user":           "string, required: the user to manage (may be admin_user itself)",
			"password":       "string, required, sensitive: its password; a different one is applied",
			"admin":          "bool: whether user has ALL PRIVILEGES (default false)",
			"wait":           `duration: how long Apply waits for InfluxDB to answer /ping (default "60s")`,
		},
	}
}

// NewArgs returns empty arguments.
func (*InfluxDBUser) NewArgs() any { return &InfluxDBUserArgs{} }

// Validate checks the arguments before any host is touched.
func (*InfluxDBUser) Validate(args any) error {
	a := args.(*InfluxDBUserArgs)
	var errs []error
	if _, err := tsdbcheck.BaseURL(a.url()); err != nil {
		errs = append(errs, fmt.Errorf("url: %w", err))
	}
	for _, f := range []struct{ name, v string }{{"admin_user", a.AdminUser}, {"user", a.User}, {"admin_password", a.AdminPassword}, {"password", a.Password}} {
		if f.v == "" {
			errs = append(errs, fmt.Errorf("%s: must not be empty", f.name))
		}
	}
	for _, f := range []struct{ name, v string }{{"admin_user", a.AdminUser}, {"user", a.User}} {
		if strings.ContainsAny(f.v, "\r\n\x00") {
			errs = append(errs, fmt.Errorf("%s: a user name cannot hold a line break", f.name))
		}
	}
	if _, err := ParseDuration("wait", a.Wait, 0); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func (a *InfluxDBUserArgs) url() string {
	if a.URL == "" {
		return "127.0.0.1:8086"
	}
	return a.URL
}

func (a *InfluxDBUserArgs) admin() bool { return a.Admin != nil && *a.Admin || a.User == a.AdminUser }

// influxState is what one read of the server found.
type influxState struct {
	fresh    bool            // no user yet: only the first admin can be created
	users    map[string]bool // name → admin
	userAuth bool            // user's password is accepted
}

// influxWork is what Apply must run, in order, with a word for each.
type influxWork struct {
	stmts, what []string
}

// String shows the words only: the statements hold passwords.
func (w influxWork) String() string { return strings.Join(w.what, ", ") }

// Check reads the server's users and tries the passwords.
func (*InfluxDBUser) Check(ctx context.Context, env *Env, args any) (*Plan, error) {
	a := args.(*InfluxDBUserArgs)
	c := newInfluxClient(env, a.url())
	st, err := a.read(ctx, c)
	if errors.Is(err, errInfluxDown) {
		// In check mode an earlier step would have started it.
		return &Plan{Unknown: true, Summary: "InfluxDB does not answer yet: would create " + a.User}, nil
	}
	if err != nil {
		return nil, err
	}
	w := a.plan(st)
	p := &Plan{Change: len(w.stmts) > 0, Data: w, Summary: "user " + a.User + " up to date"}
	if p.Change {
		p.Summary = "would " + strings.Join(w.what, ", then ")
	}
	return p, nil
}

// read finds the users with the admin's credentials and tries user's.
func (a *InfluxDBUserArgs) read(ctx context.Context, c *influxClient) (influxState, error) {
	st := influxState{users: map[string]bool{}}
	rows, err := c.query(ctx, a.AdminUser, a.AdminPassword, "SHOW USERS")
	var he *influxHTTPError
	switch {
	case errors.As(err, &he) && he.status == http.StatusForbidden && strings.Contains(he.msg, "create admin user first"):
		st.fresh = true
		return st, nil
	case errors.As(err, &he) && he.status == http.StatusUnauthorized:
		return st, fmt.Errorf("admin_password: InfluxDB refused admin user %q (a changed admin password needs the old one: change it with SET PASSWORD by hand)", a.AdminUser)
	case err != nil:
		return st, err
	}
	for _, r := range rows {
		if len(r) == 2 {
			name, _ := r[0].(string)
			adm, _ := r[1].(bool)
			st.users[name] = adm
		}
	}
	if _, ok := st.users[a.User]; ok {
		_, err := c.query(ctx, a.User, a.Password, "SHOW DATABASES")
		switch {
		case err == nil:
			st.userAuth = true
		case errors.As(err, &he) && he.status == http.StatusUnauthorized:
		case errors.As(err, &he) && he.status == http.StatusForbidden:
			// Authenticated, just not allowed to list: the password is right.
			st.userAuth = true
		default:
			return st, err
		}
	}
	return st, nil
}

// plan turns a read into statements. Passwords are in the statements only,
// never in the words shown.
func (a *InfluxDBUserArgs) plan(st influxState) influxWork {
	var w influxWork
	add := func(stmt, what string) { w.stmts = append(w.stmts, stmt); w.what = append(w.what, what) }
	if st.fresh {
		add("CREATE USER "+influxIdent(a.AdminUser)+" WITH PASSWORD "+influxString(a.AdminPassword)+" WITH ALL PRIVILEGES",
			"create admin user "+a.AdminUser)
		st.users = map[string]bool{a.AdminUser: true}
		st.userAuth = a.User == a.AdminUser && a.Password == a.AdminPassword
	}
	isAdmin, exists := st.users[a.User]
	switch {
	case !exists:
		stmt := "CREATE USER " + influxIdent(a.User) + " WITH PASSWORD " + influxString(a.Password)
		if a.admin() {
			stmt += " WITH ALL PRIVILEGES"
		}
		add(stmt, "create user "+a.User)
		return w
	case !st.userAuth:
		add("SET PASSWORD FOR "+influxIdent(a.User)+" = "+influxString(a.Password), "set the password of "+a.User)
	}
	if isAdmin != a.admin() {
		if a.admin() {
			add("GRANT ALL PRIVILEGES TO "+influxIdent(a.User), "make "+a.User+" an admin")
		} else {
			add("REVOKE ALL PRIVILEGES FROM "+influxIdent(a.User), "take admin from "+a.User)
		}
	}
	return w
}

// Apply waits for the server, re-reads it and runs what it finds missing.
func (*InfluxDBUser) Apply(ctx context.Context, env *Env, args any, plan *Plan) (*Result, error) {
	a := args.(*InfluxDBUserArgs)
	c := newInfluxClient(env, a.url())
	wait, _ := ParseDuration("wait", a.Wait, 60*time.Second)
	if err := c.waitPing(ctx, env, wait); err != nil {
		return nil, err
	}
	st, err := a.read(ctx, c)
	if err != nil {
		return nil, err
	}
	w := a.plan(st)
	for i, stmt := range w.stmts {
		// The first admin is created without credentials; everything after as the admin.
		user, pass := a.AdminUser, a.AdminPassword
		if st.fresh && i == 0 {
			user, pass = "", ""
		}
		if _, err := c.query(ctx, user, pass, stmt); err != nil {
			return nil, fmt.Errorf("%s: %w", w.what[i], err)
		}
	}
	out := map[string]cty.Value{"user": cty.StringVal(a.User)}
	if len(w.stmts) == 0 {
		return &Result{Msg: "user " + a.User + " up to date", Outputs: out}, nil
	}
	return &Result{Changed: true, Msg: strings.Join(w.what, ", "), Outputs: out}, nil
}

// influxIdent quotes an InfluxQL identifier.
func influxIdent(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

// influxString quotes an InfluxQL string literal; InfluxQL's scanner
// refuses a raw line break inside one, so it travels as \n.
func influxString(s string) string {
	return `'` + strings.NewReplacer(`\`, `\\`, `'`, `\'`, "\n", `\n`).Replace(s) + `'`
}

// influxClient speaks InfluxDB's HTTP API through the host's connection.
type influxClient struct {
	base string
	http *http.Client
}

var errInfluxDown = errors.New("InfluxDB does not answer")

func newInfluxClient(env *Env, addr string) *influxClient {
	base, _ := tsdbcheck.BaseURL(addr)
	return &influxClient{base: base, http: &http.Client{Timeout: 15 * time.Second,
		Transport: &http.Transport{DialContext: probe.Bounded(env.Host.Dial), DisableKeepAlives: true}}}
}

// influxHTTPError is a refused query: its status and InfluxDB's message.
type influxHTTPError struct {
	status int
	msg    string
}

func (e *influxHTTPError) Error() string { return fmt.Sprintf("InfluxDB: %d %s", e.status, e.msg) }

// query POSTs one statement (credentials and statement in the body and
// header, never the URL) and returns the first series' rows.
func (c *influxClient) query(ctx context.Context, user, pass, q string) ([][]any, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+"/query", strings.NewReader(url.Values{"q": {q}}.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w at %s: %v", errInfluxDown, c.base, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	var ans struct {
		Error   string `json:"error"`
		Results []struct {
			Error  string `json:"error"`
			Series []struct {
				Values [][]any `json:"values"`
			} `json:"series"`
		} `json:"results"`
	}
	jerr := json.Unmarshal(body, &ans)
	if resp.StatusCode != http.StatusOK {
		return nil, &influxHTTPError{status: resp.StatusCode, msg: ans.Error}
	}
	if jerr != nil {
		return nil, fmt.Errorf("%s does not answer like InfluxDB 1.x: %w", c.base, jerr)
	}
	if ans.Error != "" {
		return nil, &influxHTTPError{status: resp.StatusCode, msg: ans.Error}
	}
	for _, r := range ans.Results {
		if r.Error != "" {
			return nil, &influxHTTPError{status: resp.StatusCode, msg: r.Error}
		}
		if len(r.Series) > 0 {
			return r.Series[0].Values, nil
		}
	}
	return nil, nil
}

// waitPing waits until /ping answers 204, as a freshly started container
// takes a moment to listen.
func (c *influxClient) waitPing(ctx context.Context, env *Env, d time.Duration) error {
	deadline := time.Now().Add(d)
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, c.base+"/ping", nil)
		resp, err := c.http.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusNoContent {
				return nil
			}
			err = fmt.Errorf("/ping answered %s", resp.Status)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%w at %s after %s: %v", errInfluxDown, c.base, d, err)
		}
		env.Report.Phase("waiting for InfluxDB")
		if err := SleepCtx(ctx, 500*time.Millisecond); err != nil {
			return err
		}
	}
}
