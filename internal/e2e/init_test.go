package e2e

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"golang.org/x/sys/unix"

	"github.com/omsrun/omsrun/internal/lab/labtest"
	"github.com/omsrun/omsrun/internal/metadb"
	"github.com/omsrun/omsrun/internal/secret"
)

// `omsrun init` and `--oms-config` against the lab's MariaDB and InfluxDB.
// Each test uses its own database-name prefix, so the databases of other
// tests (and of deployments) are never looked at or touched.

// initPrefix is a database-name prefix no other test uses.
func initPrefix(t *testing.T, tag string) string {
	return fmt.Sprintf("inite2e_%s_%d", tag, os.Getpid())
}

// runInit runs omsrun with extra environment variables and stdin from
// /dev/null, the way a script runs it.
func runInit(t *testing.T, env []string, args ...string) cliResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, omsrunBin(t), args...)
	cmd.Dir = repoDir(t)
	cmd.Env = append(append(os.Environ(), "NO_COLOR=1"), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("omsrun %v did not finish (waiting for input?)\nstdout:\n%s\nstderr:\n%s", args, out.String(), errb.String())
	}
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return cliResult{out.String(), errb.String(), code}
}

// initFlags answers every question for the lab, passwords left to env.
func initFlags(l *labtest.Lab, out, prefix string) []string {
	return []string{"init", "--non-interactive", "--out", out,
		"--mode", "multi",
		"--meta-host", l.MetaDB.Host, "--meta-port", strconv.Itoa(l.MetaDB.Port), "--meta-user", l.MetaDB.User,
		"--db-prefix", prefix,
		"--cm-url", l.VIP, "--nodes", strings.Join(l.Addresses(), ","),
		"--tsdb", "--tsdb-url", l.TSDB.URL, "--tsdb-user", l.TSDB.User,
		"--image-file", l.ImagePath(""),
		"--ssh-user", "root", "--ssh-auth", "key", "--ssh-key", l.Key, "--known-hosts", l.KnownHosts,
	}
}

func initEnv(l *labtest.Lab) []string {
	return []string{"OMS_META_PASSWORD=" + l.MetaDB.Password, "OMS_TSDB_PASSWORD=" + l.TSDB.Password}
}

// metaDB opens the lab's MariaDB as the OMS user, to create databases the
// way an earlier deployment would have.
func metaDB(t *testing.T, l *labtest.Lab) *sql.DB {
	t.Helper()
	cfg := metadb.Target{Host: l.MetaDB.Host, Port: l.MetaDB.Port, User: l.MetaDB.User, Password: secret.String(l.MetaDB.Password)}.Config()
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		t.Fatal(err)
	}
	db := sql.OpenDB(conn)
	t.Cleanup(func() { db.Close() })
	return db
}

func createDB(t *testing.T, l *labtest.Lab, name string) {
	t.Helper()
	db := metaDB(t, l)
	if _, err := db.Exec("CREATE DATABASE IF NOT EXISTS `" + name + "`"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Exec("DROP DATABASE IF EXISTS `" + name + "`") })
}

func TestInitNonInteractiveWritesFilesValidateAccepts(t *testing.T) {
	l := labtest.Require(t)
	for _, secrets := range []string{"file", "env"} {
		t.Run(secrets, func(t *testing.T) {
			dir := t.TempDir()
			r := runInit(t, initEnv(l), append(initFlags(l, dir, initPrefix(t, "ok")), "--secrets", secrets)...)
			expectCode(t, r, 0)
			inv, vars := filepath.Join(dir, "oms-inventory.hcl"), filepath.Join(dir, "oms-vars.hcl")
			for _, p := range []string{inv, vars} {
				st, err := os.Stat(p)
				if err != nil {
					t.Fatal(err)
				}
				if st.Mode().Perm() != 0o600 {
					t.Errorf("%s has mode %v, want 0600", p, st.Mode().Perm())
				}
			}
			data, _ := os.ReadFile(vars)
			hasPw := strings.Contains(string(data), l.MetaDB.Password)
			if hasPw != (secrets == "file") {
				t.Errorf("secrets=%s, but the MetaDB password in the vars file: %v\n%s", secrets, hasPw, data)
			}
			if strings.Contains(r.stdout+r.stderr, l.MetaDB.Password) || strings.Contains(r.stdout+r.stderr, l.TSDB.Password) {
				t.Errorf("a password was printed:\n%s\n%s", r.stdout, r.stderr)
			}
			// The printed check command, run as validate, is accepted as it is.
			check := printedCheckCommand(t, r.stdout)
			args := append([]string{"validate"}, check...)
			v := runInit(t, initEnv(l), args...)
			expectCode(t, v, 0)
			// And the printed check command itself runs on the lab's hosts.
			c := runInit(t, initEnv(l), append(check, "--check", "--diff", "--no-color")...)
			expectCode(t, c, 0)
			if !strings.Contains(c.stdout, "check mode: nothing was changed") {
				t.Errorf("not a check run:\n%s", c.stdout)
			}
			if strings.Contains(c.stdout+c.stderr, l.MetaDB.Password) || strings.Contains(c.stdout+c.stderr, l.TSDB.Password) {
				t.Errorf("a password was printed by the check run")
			}
		})
	}
}

// printedCheckCommand finds the `omsrun … --check --diff` line init printed
// and returns its arguments without the check flags (shell quoting is not
// needed: the test's paths have no spaces).
func printedCheckCommand(t *testing.T, out string) []string {
	t.Helper()
	for _, line := range strings.Split(out, "\n") {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "omsrun playbooks/deploy.hcl ") && strings.HasSuffix(line, " --check --diff") {
			f := strings.Fields(strings.TrimSuffix(line, " --check --diff"))
			return f[1:]
		}
	}
	t.Fatalf("no check command printed:\n%s", out)
	return nil
}

func TestInitNonInteractiveProblems(t *testing.T) {
	l := labtest.Require(t)
	existing := initPrefix(t, "exist")
	createDB(t, l, existing+"_cm")
	tests := []struct {
		name   string
		env    []string
		extra  []string
		prefix string
		want   []string
		code   int
	}{
		{name: "wrong MetaDB password", env: []string{"OMS_META_PASSWORD=not-the-password", "OMS_TSDB_PASSWORD=" + l.TSDB.Password},
			want: []string{"--meta-password", "wrong user name or password"}, code: 4},
		{name: "MetaDB unreachable", env: initEnv(l), extra: []string{"--meta-port", "1"},
			want: []string{"--meta-host", "cannot reach the MetaDB"}, code: 4},
		{name: "wrong TSDB password", env: []string{"OMS_META_PASSWORD=" + l.MetaDB.Password, "OMS_TSDB_PASSWORD=nope"},
			want: []string{"--tsdb-password", "wrong user name or password"}, code: 4},
		{name: "existing databases", env: initEnv(l), prefix: existing,
			want: []string{"--allow-existing", "already exist"}, code: 4},
		{name: "existing databases allowed", env: initEnv(l), prefix: existing, extra: []string{"--allow-existing"}, code: 0},
		{name: "missing flags", env: initEnv(l), extra: []string{"--image-file", "", "--cm-url", ""},
			want: []string{"--image-file", "--cm-url"}, code: 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			prefix := tt.prefix
			if prefix == "" {
				prefix = initPrefix(t, "p")
			}
			r := runInit(t, tt.env, append(initFlags(l, dir, prefix), tt.extra...)...)
			expectCode(t, r, tt.code)
			for _, w := range tt.want {
				if !strings.Contains(r.stdout+r.stderr, w) {
					t.Errorf("output lacks %q:\nstdout:\n%s\nstderr:\n%s", w, r.stdout, r.stderr)
				}
			}
			_, err := os.Stat(filepath.Join(dir, "oms-vars.hcl"))
			if written := err == nil; written != (tt.code == 0) {
				t.Errorf("vars file written: %v, exit %d", written, tt.code)
			}
			if tt.code == 0 {
				data, _ := os.ReadFile(filepath.Join(dir, "oms-vars.hcl"))
				if !strings.Contains(string(data), "allow_existing_databases = true") {
					t.Errorf("the confirmation is not carried into the vars file:\n%s", data)
				}
			}
		})
	}
}

// TestInitRemediesFollowed follows init's refusals as printed
// (docs/remedies.md): without a terminal, "pass --non-interactive with the
// answers as flags"; over files written before, "pass --force to replace
// it, or --out to write elsewhere" — each way.
func TestInitRemediesFollowed(t *testing.T) {
	l := labtest.Require(t)
	dir := t.TempDir()
	r := runInit(t, nil, "init", "--out", dir)
	expectCode(t, r, 4)
	m := regexp.MustCompile(`not a terminal.*pass (--non-interactive) with the answers as flags`).FindStringSubmatch(r.stderr)
	if m == nil {
		t.Fatalf("unclear message:\n%s", r.stderr)
	}
	answers := initFlags(l, dir, initPrefix(t, "remedy")) // init, --non-interactive, the answers
	if answers[1] != m[1] {
		t.Fatalf("initFlags does not start with %s: %v", m[1], answers)
	}
	expectCode(t, runInit(t, initEnv(l), answers...), 0)

	r = runInit(t, initEnv(l), answers...)
	expectCode(t, r, 4)
	m = regexp.MustCompile(`already exists \(pass (--force) to replace it, or (--out) to write elsewhere\)`).FindStringSubmatch(r.stderr)
	if m == nil {
		t.Fatalf("init over written files does not say what to do:\n%s", r.stderr)
	}
	expectCode(t, runInit(t, initEnv(l), append(answers, m[1])...), 0)
	elsewhere := t.TempDir()
	expectCode(t, runInit(t, initEnv(l), append(answers, m[2], elsewhere)...), 0)
	if _, err := os.Stat(filepath.Join(elsewhere, "oms-vars.hcl")); err != nil {
		t.Errorf("%s %s wrote no vars file there: %v", m[2], elsewhere, err)
	}
}

// pty is a pseudo-terminal driving one omsrun process like a user at a keyboard.
type pty struct {
	t      *testing.T
	master *os.File
	cmd    *exec.Cmd
	mu     sync.Mutex
	buf    bytes.Buffer
	pos    int
	done   chan struct{}
}

func startPTY(t *testing.T, args ...string) *pty {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	// A real terminal has a size; progress bars need one to draw.
	if err := unix.IoctlSetWinsize(int(m.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: 40, Col: 120}); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetUint32(int(m.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	s, err := os.OpenFile("/dev/pts/"+strconv.Itoa(int(n)), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(omsrunBin(t), args...)
	cmd.Dir = repoDir(t)
	cmd.Env = append(os.Environ(), "NO_COLOR=1", "TERM=dumb")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = s, s, s
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s.Close()
	p := &pty{t: t, master: m, cmd: cmd, done: make(chan struct{})}
	go func() {
		defer close(p.done)
		b := make([]byte, 4096)
		for {
			n, err := m.Read(b)
			p.mu.Lock()
			p.buf.Write(b[:n])
			p.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		m.Close()
	})
	return p
}

// expect waits until the output after the last match contains s.
func (p *pty) expect(s string) {
	p.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		p.mu.Lock()
		rest := p.buf.String()[p.pos:]
		if i := strings.Index(rest, s); i >= 0 {
			p.pos += i + len(s)
			p.mu.Unlock()
			return
		}
		p.mu.Unlock()
		time.Sleep(20 * time.Millisecond)
	}
	p.t.Fatalf("no %q in the terminal; transcript:\n%s", s, p.transcript())
}

func (p *pty) send(s string) {
	p.t.Helper()
	if _, err := io.WriteString(p.master, s+"\r"); err != nil {
		p.t.Fatal(err)
	}
}

func (p *pty) transcript() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.buf.String()
}

// wait waits for the process and the last of its output.
func (p *pty) wait() int {
	p.t.Helper()
	err := p.cmd.Wait()
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	if err != nil {
		p.t.Fatal(err)
	}
	return 0
}

func TestInitInteractiveThroughTerminal(t *testing.T) {
	l := labtest.Require(t)
	prefix := initPrefix(t, "tty")
	createDB(t, l, prefix+"_rm")
	dir := t.TempDir()
	p := startPTY(t, "init", "--out", dir)
	const wrongPw = "wrong-Pw-e2e-4711"

	p.expect("Deployment mode [2]: ")
	p.send("")
	p.expect("MetaDB host (IP or domain name): ")
	p.send(l.MetaDB.Host)
	p.expect("MetaDB port [2881]: ")
	p.send("99999") // wrong: asked again
	p.expect("is not a TCP port")
	p.expect("MetaDB port [2881]: ")
	p.send(strconv.Itoa(l.MetaDB.Port))
	p.expect("MetaDB user: ")
	p.send(l.MetaDB.User)
	p.expect("MetaDB password: ")
	p.send(wrongPw)
	p.expect("Prefix of the MetaDB database names [oms]: ")
	p.send(prefix)
	p.expect(prefix + "_rm, " + prefix + "_cm, " + prefix + "_cm_hb")
	p.expect("Are these settings correct? (y/n) [y]: ")
	p.send("y")
	// The wrong password is said right away, before any other question.
	p.expect("wrong user name or password")
	p.expect("MetaDB host (IP or domain name) [" + l.MetaDB.Host + "]: ")
	p.send("")
	p.expect("MetaDB port [" + strconv.Itoa(l.MetaDB.Port) + "]: ")
	p.send("")
	p.expect("MetaDB user [" + l.MetaDB.User + "]: ")
	p.send("")
	p.expect("MetaDB password: ")
	p.send(l.MetaDB.Password)
	p.expect("Prefix of the MetaDB database names [" + prefix + "]: ")
	p.send("")
	p.expect("Are these settings correct? (y/n) [y]: ")
	p.send("")
	p.expect("The specified database names already exist in the MetaDB. Are you sure that you want to continue? (y/n) [n]: ")
	p.send("y")

	p.expect("CM URL (the VIP or domain name; http:// and :8088 are optional): ")
	p.send(l.VIP + " 8088") // IP and port apart, as the seed allows
	p.expect("→ http://" + l.VIP + ":8088")
	p.expect("IP addresses of all nodes, comma-separated: ")
	p.send(strings.Join(l.Addresses(), ", "))
	p.expect("Are these settings correct? (y/n) [y]: ")
	p.send("y")

	p.expect("Enable historical data monitoring (needs a deployed time-series database)? (y/n) [n]: ")
	p.send("y")
	p.expect("No time-series database yet? Let omsrun deploy InfluxDB (playbooks/tsdb.hcl) (y/n) [n]: ")
	p.send("n") // the lab has its TSDB; deploying one is TestInitOffersToDeployTheTSDB
	p.expect("Time-series database type [INFLUXDB]: ")
	p.send("")
	p.expect("Time-series database URL (host:port): ")
	p.send(strings.TrimPrefix(l.TSDB.URL, "http://"))
	p.expect("Time-series database user: ")
	p.send(l.TSDB.User)
	p.expect("Time-series database password: ")
	p.send(wrongPw)
	p.expect("Are these settings correct? (y/n) [y]: ")
	p.send("")
	p.expect("wrong user name or password")
	p.expect("Enable historical data monitoring (needs a deployed time-series database)? (y/n) [y]: ")
	p.send("")
	p.expect("No time-series database yet? Let omsrun deploy InfluxDB (playbooks/tsdb.hcl) (y/n) [n]: ")
	p.send("")
	p.expect("Time-series database type [INFLUXDB]: ")
	p.send("")
	p.expect("Time-series database URL (host:port) [")
	p.send("")
	p.expect("Time-series database user [" + l.TSDB.User + "]: ")
	p.send("")
	p.expect("Time-series database password: ")
	p.send(l.TSDB.Password)
	p.expect("Are these settings correct? (y/n) [y]: ")
	p.send("")
	p.expect("ok")

	p.expect("Write audit logs to Simple Log Service (SLS)? (y/n) [n]: ")
	p.send("")
	p.expect("(use one with a large capacity) [/data/oms]: ")
	p.send("")
	p.expect("OMS package (.tar.gz) on this machine: ")
	p.send(l.ImagePath(""))
	p.expect("Name the OMS image as (OMS_IMAGE) [" + l.Images["v1"].Ref + "]: ")
	p.send("")
	p.expect("Are these settings correct? (y/n) [y]: ")
	p.send("")
	p.expect("Install an SSL certificate for the OMS container? (y/n) [n]: ")
	p.send("n")
	p.expect("User [root]: ")
	p.send("")
	p.expect("Log on with a key or a password (key/password) [")
	p.send("key")
	p.expect("Private key file")
	p.send(l.Key)
	p.expect("known_hosts file with the nodes' host keys (empty: ~/.ssh/known_hosts): ")
	p.send(l.KnownHosts)
	p.expect("Are these settings correct? (y/n) [y]: ")
	p.send("")
	p.expect("Where should the passwords go (file/env) [file]: ")
	p.send("")
	p.expect("--check --diff")
	if code := p.wait(); code != 0 {
		t.Fatalf("exit %d; transcript:\n%s", code, p.transcript())
	}
	out := p.transcript()
	for _, pw := range []string{wrongPw, l.MetaDB.Password, l.TSDB.Password} {
		if strings.Contains(out, pw) {
			t.Errorf("password %q echoed on the terminal:\n%s", pw, out)
		}
	}
	data, err := os.ReadFile(filepath.Join(dir, "oms-vars.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`db_prefix         = "` + prefix + `"`, "allow_existing_databases = true", `cm_url   = "http://` + l.VIP + `:8088"`, "tsdb_enabled  = true"} {
		if !strings.Contains(string(data), want) {
			t.Errorf("vars file lacks %q:\n%s", want, data)
		}
	}
	v := runInit(t, nil, append([]string{"validate"}, printedCheckCommand(t, out)...)...)
	expectCode(t, v, 0)
}

// The seed's steps 7–8 through a terminal: SLS y, wrong answers asked
// again, the AccessKey Secret read with echo off and never shown, the
// settings displayed and confirmed (n, then y with the first answers
// offered). The other questions are answered by flags, except the MetaDB
// password. The vars file is accepted by validate and by a check run, whose
// output never shows the secret.
func TestInitInteractiveSLSThroughTerminal(t *testing.T) {
	l := labtest.Require(t)
	dir := t.TempDir()
	const sk = "sls-Secret-e2e-4711"
	p := startPTY(t, "init", "--out", dir, "--mode", "multi",
		"--meta-host", l.MetaDB.Host, "--meta-port", strconv.Itoa(l.MetaDB.Port), "--meta-user", l.MetaDB.User,
		"--db-prefix", initPrefix(t, "sls"), "--cm-url", l.VIP, "--nodes", strings.Join(l.Addresses(), ","), "--tsdb=no",
		"--mount-dir", "/data/oms", "--image-file", l.ImagePath(""), "--image", l.Images["v1"].Ref, "--ssl=no",
		"--ssh-user", "root", "--ssh-auth", "key", "--ssh-key", l.Key, "--known-hosts", l.KnownHosts, "--secrets", "file")
	echoOff := func(what string) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for time.Now().Before(deadline) {
			if st, err := unix.IoctlGetTermios(int(p.master.Fd()), unix.TCGETS); err == nil && st.Lflag&unix.ECHO == 0 {
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
		t.Fatalf("echo is on at the %s prompt; transcript:\n%s", what, p.transcript())
	}

	p.expect("MetaDB password: ")
	echoOff("MetaDB password")
	p.send(l.MetaDB.Password)
	p.expect("Are these settings correct? (y/n) [y]: ")
	p.send("")
	p.expect("ok (")

	p.expect("Write audit logs to Simple Log Service (SLS)? (y/n) [n]: ")
	p.send("y")
	p.expect("SLS endpoint (e.g. cn-hangzhou.log.aliyuncs.com): ")
	p.send("bad!host")
	p.expect("is not a valid IP address or host name")
	p.expect("SLS endpoint (e.g. cn-hangzhou.log.aliyuncs.com): ")
	p.send("HTTPS://CN-Hangzhou.log.aliyuncs.com/")
	p.expect("→ https://cn-hangzhou.log.aliyuncs.com")
	p.expect("SLS topic of the operations site: ")
	p.send("")
	p.expect("the SLS topic of the operations site's audit logs is required")
	p.expect("SLS topic of the operations site: ")
	p.send("oms-ops")
	p.expect("SLS topic of the user site: ")
	p.send("oms-user")
	p.expect("AccessKey ID: ")
	p.send("LTAI 5t")
	p.expect("is not an AccessKey ID")
	p.expect("AccessKey ID: ")
	p.send("LTAI5tExampleKeyID")
	p.expect("AccessKey Secret: ")
	echoOff("AccessKey Secret")
	p.send(sk)
	p.expect("AccessKey Secret: ******** (not shown)")
	p.expect("Are these settings correct? (y/n) [y]: ")
	p.send("n")
	p.expect("Enter the SLS settings again.")
	p.expect("Write audit logs to Simple Log Service (SLS)? (y/n) [y]: ")
	p.send("")
	p.expect("SLS endpoint (e.g. cn-hangzhou.log.aliyuncs.com) [https://cn-hangzhou.log.aliyuncs.com]: ")
	p.send("")
	p.expect("SLS topic of the operations site [oms-ops]: ")
	p.send("")
	p.expect("SLS topic of the user site [oms-user]: ")
	p.send("oms-user2")
	p.expect("AccessKey ID [LTAI5tExampleKeyID]: ")
	p.send("")
	p.expect("AccessKey Secret (empty: keep the one given before): ")
	echoOff("AccessKey Secret")
	p.send("")
	p.expect("oms-user2")
	p.expect("Are these settings correct? (y/n) [y]: ")
	p.send("y")
	p.expect("--check --diff")
	if code := p.wait(); code != 0 {
		t.Fatalf("exit %d; transcript:\n%s", code, p.transcript())
	}
	out := p.transcript()
	for _, pw := range []string{sk, l.MetaDB.Password} {
		if strings.Contains(out, pw) {
			t.Errorf("secret %q shown on the terminal:\n%s", pw, out)
		}
	}
	data, err := os.ReadFile(filepath.Join(dir, "oms-vars.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`apsara_audit_sls_endpoint        = "https://cn-hangzhou.log.aliyuncs.com"`,
		`apsara_audit_sls_ops_site_topic  = "oms-ops"`, `apsara_audit_sls_user_site_topic = "oms-user2"`,
		`apsara_audit_sls_access_key      = "LTAI5tExampleKeyID"`, `apsara_audit_sls_access_secret   = "` + sk + `"`} {
		if !strings.Contains(string(data), want) {
			t.Errorf("vars file lacks %q:\n%s", want, data)
		}
	}
	check := printedCheckCommand(t, out)
	v := runInit(t, nil, append([]string{"validate"}, check...)...)
	expectCode(t, v, 0)
	c := runInit(t, nil, append(check, "--check", "--diff", "--no-color")...)
	expectCode(t, c, 0)
	if strings.Contains(c.stdout+c.stderr, sk) {
		t.Errorf("the AccessKey Secret was printed by the check run:\n%s", c.stdout)
	}
	// The diff shows the five keys OMS reads, the AccessKey and its secret masked.
	for _, want := range []string{"+apsara_audit_sls_access_secret: ********", "+apsara_audit_sls_access_key: ********",
		`+apsara_audit_sls_user_site_topic: "oms-user2"`, `+apsara_audit_sls_endpoint: "https://cn-hangzhou.log.aliyuncs.com"`} {
		if !strings.Contains(c.stdout, want) {
			t.Errorf("the check run's diff lacks %q:\n%s", want, c.stdout)
		}
	}
}

// The seed's own example config.yaml, with its bare ******** passwords.
const seedExample = `oms_meta_host: xxx.xxx.xxx.1
oms_meta_port: 2883
oms_meta_user: oms_meta_user
oms_meta_password: ********
drc_rm_db: oms_rm
drc_cm_db: oms_cm
drc_cm_heartbeat_db: oms_cm_heartbeat
cm_url: http://VIP:8088
cm_location: 100
cm_region: cn-anhui
cm_region_cn: cn-anhui
cm_is_default: true
cm_nodes:
 - xxx.xxx.xxx.2
 - xxx.xxx.xxx.3
tsdb_service: 'INFLUXDB'
tsdb_enabled: true
tsdb_url: 'xxx.xxx.xxx.5:8086'
tsdb_username: username
tsdb_password: *************
`

// The seed's configuration file template, placeholders and comments as printed.
const seedTemplate = `# Information about the OMS Community Edition MetaDB
oms_meta_host: ${oms_meta_host}
oms_meta_port: ${oms_meta_port}
oms_meta_user: ${oms_meta_user}
oms_meta_password: ${oms_meta_password}

# You can customize the names of the following three databases, which are created in the MetaDB when you deploy OMS Community Edition.
drc_rm_db: ${drc_rm_db}
drc_cm_db: ${drc_cm_db}
drc_cm_heartbeat_db: ${drc_cm_heartbeat_db}

# Configurations of the OMS Community Edition cluster
# To deploy OMS Community Edition on multiple nodes in a single region, you must set the cm_url parameter to a VIP or domain name to which all CM servers in the region are mounted.
cm_url: ${cm_url}
cm_location: ${cm_location}
# The cm_region parameter is not required for single-region deployment.
# cm_region: ${cm_region}
# The cm_region_cn parameter is not required for single-region deployment.
# cm_region_cn: ${cm_region_cn}
cm_is_default: true
cm_nodes:
 - ${host_ip1}
 - ${host_ip2}
     
# Configurations of the time-series database
# Default value: false. To enable metric reporting, set the parameter to ` + "`true`" + ` and delete the comments for the parameter.
# tsdb_enabled: false 
# If the ` + "`tsdb_enabled`" + ` parameter is set to ` + "`true`" + `, delete comments for the following parameters and specify the values based on your actual configurations.
# tsdb_service: 'INFLUXDB'
# tsdb_url: '${tsdb_url}'
# tsdb_username: ${tsdb_user}
# tsdb_password: ${tsdb_password}
`

// seedTemplateFor fills the template's placeholders with the lab's values.
func seedTemplateFor(l *labtest.Lab, nodes []string, prefix string) string {
	var list strings.Builder
	for _, n := range nodes {
		list.WriteString(" - " + n + "\n")
	}
	r := strings.NewReplacer(
		"${oms_meta_host}", l.MetaDB.Host, "${oms_meta_port}", strconv.Itoa(l.MetaDB.Port),
		"${oms_meta_user}", l.MetaDB.User, "${oms_meta_password}", "'"+strings.ReplaceAll(l.MetaDB.Password, "'", "''")+"'",
		"${drc_rm_db}", prefix+"_rm", "${drc_cm_db}", prefix+"_cm", "${drc_cm_heartbeat_db}", prefix+"_cm_hb",
		"${cm_url}", l.VIP, "${cm_location}", "100",
		" - ${host_ip1}\n - ${host_ip2}\n", list.String(),
	)
	return r.Replace(seedTemplate)
}

// seedExampleFor fills the seed's example with the lab's values, the way a
// user replaces the x's, quoting the passwords.
func seedExampleFor(l *labtest.Lab, nodes []string, prefix string) string {
	q := func(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
	r := strings.NewReplacer(
		"oms_meta_host: xxx.xxx.xxx.1", "oms_meta_host: "+l.MetaDB.Host,
		"oms_meta_port: 2883", "oms_meta_port: "+strconv.Itoa(l.MetaDB.Port),
		"oms_meta_user: oms_meta_user", "oms_meta_user: "+l.MetaDB.User,
		"oms_meta_password: ********", "oms_meta_password: "+q(l.MetaDB.Password),
		"drc_rm_db: oms_rm", "drc_rm_db: "+prefix+"_rm",
		"drc_cm_db: oms_cm", "drc_cm_db: "+prefix+"_cm",
		"drc_cm_heartbeat_db: oms_cm_heartbeat", "drc_cm_heartbeat_db: "+prefix+"_cm_heartbeat",
		"http://VIP:8088", l.CMURL,
		" - xxx.xxx.xxx.2\n - xxx.xxx.xxx.3\n", " - "+strings.Join(nodes, "\n - ")+"\n",
		"'xxx.xxx.xxx.5:8086'", q(strings.TrimPrefix(l.TSDB.URL, "http://")),
		"tsdb_username: username", "tsdb_username: "+l.TSDB.User,
		"tsdb_password: *************", "tsdb_password: "+q(l.TSDB.Password),
	)
	return r.Replace(seedExample)
}

func writeConfig(t *testing.T, src string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(p, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestOMSConfigValidate(t *testing.T) {
	l := labtest.Require(t)
	img := []string{"-e", "image=" + l.Images["v1"].Ref, "-e", "image_file=" + l.ImagePath("")}
	validate := func(cfg string, extra ...string) cliResult {
		args := append([]string{"validate", "playbooks/deploy.hcl", "-i", l.InventoryHCL, "--oms-config", cfg}, img...)
		return runInit(t, nil, append(args, extra...)...)
	}

	t.Run("seed example as printed", func(t *testing.T) {
		r := validate(writeConfig(t, seedExample))
		expectCode(t, r, 4)
		for _, want := range []string{"config.yaml:4:20", "Put the value in quotes", "config.yaml:20:"} {
			if !strings.Contains(r.stderr, want) {
				t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
			}
		}
	})
	t.Run("seed example with the lab's values", func(t *testing.T) {
		r := validate(writeConfig(t, seedExampleFor(l, l.Addresses(), initPrefix(t, "cfg"))))
		expectCode(t, r, 0)
		if strings.Contains(r.stdout+r.stderr, l.MetaDB.Password) {
			t.Errorf("password printed")
		}
	})
	t.Run("seed template as printed", func(t *testing.T) {
		r := validate(writeConfig(t, seedTemplate))
		expectCode(t, r, 4)
		if !strings.Contains(r.stderr, "template placeholder ${oms_meta_host}") {
			t.Errorf("placeholders not named:\n%s", r.stderr)
		}
	})
	t.Run("seed template with the lab's values", func(t *testing.T) {
		r := validate(writeConfig(t, seedTemplateFor(l, l.Addresses(), initPrefix(t, "tpl"))))
		expectCode(t, r, 0)
	})
	t.Run("cm_nodes disagrees with the inventory", func(t *testing.T) {
		r := validate(writeConfig(t, seedExampleFor(l, l.Addresses()[:2], initPrefix(t, "cfg"))))
		expectCode(t, r, 4)
		if !strings.Contains(r.stderr, "does not list "+l.Hosts[2].Address) || !strings.Contains(r.stderr, "config.yaml:") {
			t.Errorf("stderr:\n%s", r.stderr)
		}
	})
	t.Run("out-of-range value names its line", func(t *testing.T) {
		r := validate(writeConfig(t, strings.Replace(seedExampleFor(l, l.Addresses(), initPrefix(t, "cfg")), "cm_location: 100", "cm_location: 300", 1)))
		expectCode(t, r, 4)
		if !strings.Contains(r.stderr, "config.yaml:9:") || !strings.Contains(r.stderr, "cm_location") {
			t.Errorf("cm_location 300 not refused at its line:\n%s", r.stderr)
		}
	})
	t.Run("-e wins over the config", func(t *testing.T) {
		// The config's cm_location 100 is fine; -e's 300 must be the one checked.
		r := validate(writeConfig(t, seedExampleFor(l, l.Addresses(), initPrefix(t, "cfg"))), "-e", "cm_location=300")
		expectCode(t, r, 4)
		if !strings.Contains(r.stderr, "cm_location") {
			t.Errorf("-e cm_location=300 did not win:\n%s", r.stderr)
		}
	})
	t.Run("unknown key is warned about", func(t *testing.T) {
		r := validate(writeConfig(t, seedExampleFor(l, l.Addresses(), initPrefix(t, "cfg"))+"cm_nodez: 1\n"))
		expectCode(t, r, 0)
		if !strings.Contains(r.stderr, "Unknown key cm_nodez") || !strings.Contains(r.stderr, "cm_nodes") {
			t.Errorf("stderr:\n%s", r.stderr)
		}
	})
	t.Run("no -i: the inventory is cm_nodes", func(t *testing.T) {
		cfg := writeConfig(t, seedExampleFor(l, l.Addresses(), initPrefix(t, "cfg")))
		args := append([]string{"validate", "playbooks/deploy.hcl", "--oms-config", cfg, "--user", "root", "--key", l.Key, "--known-hosts", l.KnownHosts}, img...)
		r := runInit(t, nil, args...)
		expectCode(t, r, 0)
		if want := fmt.Sprintf("%d host(s) targeted", len(l.Hosts)); !strings.Contains(r.stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, r.stdout)
		}
	})
	t.Run("YAML syntax error names the line", func(t *testing.T) {
		r := validate(writeConfig(t, "oms_meta_host: a\noms_meta_port: [\n"))
		expectCode(t, r, 4)
		if !strings.Contains(r.stderr, "config.yaml:") || !strings.Contains(r.stderr, "Invalid YAML") {
			t.Errorf("stderr:\n%s", r.stderr)
		}
	})
}

// The seed's example config.yaml, filled with the lab's values, deploys OMS
// through --oms-config: the VIP answers, every node runs with that config,
// and the databases it names exist.
func TestOMSConfigDeployOnLab(t *testing.T) {
	l := labtest.Require(t)
	if !l.Docker {
		t.Skip("the lab runs without Docker")
	}
	l.Reset(t)
	t.Cleanup(func() { l.Reset(t) })
	nodes := l.Addresses()
	if len(nodes) > 3 {
		nodes = nodes[:3]
	}
	var inv strings.Builder
	fmt.Fprintf(&inv, "defaults {\n  user = \"root\"\n  key_file = %q\n  known_hosts_file = %q\n}\ngroup \"oms\" {\n", l.Key, l.KnownHosts)
	for i, n := range nodes {
		fmt.Fprintf(&inv, "  host \"oms%d\" { address = %q }\n", i+1, n)
	}
	inv.WriteString("}\n")
	invPath := filepath.Join(t.TempDir(), "inventory.hcl")
	if err := os.WriteFile(invPath, []byte(inv.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	prefix := initPrefix(t, "deploy")
	cfg := writeConfig(t, seedExampleFor(l, nodes, prefix))

	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, omsrunBin(t), "playbooks/deploy.hcl", "-i", invPath, "--oms-config", cfg,
		"-e", "image="+l.Images["v1"].Ref, "-e", "image_file="+l.ImagePath(""), "--no-color")
	cmd.Dir = repoDir(t)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("deploy with --oms-config: %v\n%s", err, out)
	}
	if strings.Contains(string(out), l.MetaDB.Password) || strings.Contains(string(out), l.TSDB.Password) {
		t.Errorf("a password was printed:\n%s", out)
	}

	get := func(url string) (int, string) {
		c := &http.Client{Timeout: 5 * time.Second}
		resp, err := c.Get(url)
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get("http://" + l.VIP + ":8089/oms/health"); code != http.StatusOK {
		t.Errorf("VIP health: %d %s", code, body)
	}
	for _, n := range nodes {
		code, body := get("http://" + n + ":8089/oms/config")
		if code != http.StatusOK {
			t.Errorf("%s /oms/config: %d %s", n, code, body)
			continue
		}
		for _, want := range append([]string{prefix + "_cm_heartbeat", "cn-anhui"}, nodes...) {
			if !strings.Contains(body, want) {
				t.Errorf("%s runs a config without %q:\n%s", n, want, body)
			}
		}
	}
	dbs := l.MetaSQL(t, "SHOW DATABASES;")
	for _, d := range []string{prefix + "_rm", prefix + "_cm", prefix + "_cm_heartbeat"} {
		if !strings.Contains(dbs, d) {
			t.Errorf("database %s does not exist; have:\n%s", d, dbs)
		}
	}
}

// Ctrl-C at the password prompt (echo off) ends init at once, writes
// nothing, and leaves the terminal echoing again.
func TestInitInterruptAtPasswordPrompt(t *testing.T) {
	l := labtest.Require(t)
	dir := t.TempDir()
	p := startPTY(t, "init", "--out", dir, "--mode", "multi", "--meta-host", l.MetaDB.Host, "--meta-port", strconv.Itoa(l.MetaDB.Port), "--meta-user", l.MetaDB.User)
	p.expect("MetaDB password: ")
	// The master sees the terminal's modes: echo goes off while the password
	// is asked (the prompt is written just before, so wait for it).
	echoOff := false
	for deadline := time.Now().Add(5 * time.Second); !echoOff && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		st, err := unix.IoctlGetTermios(int(p.master.Fd()), unix.TCGETS)
		echoOff = err == nil && st.Lflag&unix.ECHO == 0
	}
	if !echoOff {
		t.Fatal("echo is on at the password prompt")
	}
	if _, err := p.master.Write([]byte{3}); err != nil {
		t.Fatal(err)
	}
	done := make(chan int, 1)
	go func() { done <- p.wait() }()
	select {
	case code := <-done:
		if code != 130 {
			t.Errorf("exit %d, want 130; transcript:\n%s", code, p.transcript())
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("init did not end on Ctrl-C; transcript:\n%s", p.transcript())
	}
	st, err := unix.IoctlGetTermios(int(p.master.Fd()), unix.TCGETS)
	if err != nil {
		t.Fatal(err)
	}
	if st.Lflag&unix.ECHO == 0 {
		t.Errorf("the terminal was left without echo")
	}
	if _, err := os.Stat(filepath.Join(dir, "oms-vars.hcl")); err == nil {
		t.Errorf("a vars file was written")
	}
}
