package lab

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// The MetaDB is a lab-owned MariaDB (own datadir, socket and port binding)
// rather than the system service, so that lab-down can stop it without
// touching anything the machine runs for itself.
var (
	mariaData   = filepath.Join(StateDir, "mariadb")
	mariaRun    = filepath.Join(RunDir, "mariadb")
	mariaSocket = filepath.Join(mariaRun, "mariadb.sock")
	mariaPID    = filepath.Join(mariaRun, "mariadb.pid")
)

// StartMariaDB starts the MetaDB (initialising its datadir on first use)
// and waits until it answers on the bridge address.
func StartMariaDB() error {
	if err := os.MkdirAll(mariaRun, 0o755); err != nil {
		return err
	}
	if _, err := run("chown", "mysql:mysql", mariaRun); err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(mariaData, "mysql")); err != nil {
		os.RemoveAll(mariaData)
		if err := os.MkdirAll(mariaData, 0o755); err != nil {
			return err
		}
		run("chown", "mysql:mysql", mariaData)
		if _, err := run("mariadb-install-db", "--no-defaults", "--user=mysql", "--datadir="+mariaData,
			"--auth-root-authentication-method=socket", "--skip-test-db"); err != nil {
			return fmt.Errorf("initialise MetaDB datadir: %w", err)
		}
	}
	if alive(readPID(mariaPID)) {
		return nil
	}
	_, err := startDetached(filepath.Join(mariaRun, "mariadbd.out"), "mariadbd", "--no-defaults", "--user=mysql",
		"--datadir="+mariaData, "--socket="+mariaSocket, "--pid-file="+mariaPID,
		"--bind-address="+Controller, "--port="+strconv.Itoa(MetaPort),
		"--log-error="+filepath.Join(mariaRun, "mariadb.err"), "--skip-name-resolve",
		"--innodb-buffer-pool-size=64M", "--max-connections=2000", "--innodb-flush-log-at-trx-commit=2",
		"--skip-log-bin", "--innodb-buffer-pool-dump-at-shutdown=0", "--innodb-buffer-pool-load-at-startup=0")
	if err != nil {
		return err
	}
	return waitFor("MetaDB", 60*time.Second, func() error {
		c, err := net.DialTimeout("tcp", net.JoinHostPort(Controller, strconv.Itoa(MetaPort)), time.Second)
		if err != nil {
			return err
		}
		return c.Close()
	})
}

// StopMariaDB stops the MetaDB cleanly (InnoDB would recover from a kill,
// at the cost of a slow next start).
func StopMariaDB() error {
	stopPID(readPID(mariaPID), 20*time.Second)
	return nil
}

// MariaDBSQL runs SQL as the MetaDB's root over its unix socket; the SQL
// goes on stdin so passwords never reach a process list.
func MariaDBSQL(sql string) (string, error) {
	return runIn(context.Background(), []byte(sql), "mariadb", "--no-defaults", "--socket="+mariaSocket, "-uroot", "-N", "-B")
}

func sqlString(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

// setupMetaUser creates the OMS user, and drops databases earlier runs left,
// so a fresh lab has a MetaDB without OMS databases.
func setupMetaUser() error {
	pw := sqlString(MetaPassword)
	_, err := MariaDBSQL(fmt.Sprintf("CREATE USER IF NOT EXISTS '%s'@'%%' IDENTIFIED BY %s;\nALTER USER '%s'@'%%' IDENTIFIED BY %s;\nGRANT ALL PRIVILEGES ON *.* TO '%s'@'%%' WITH GRANT OPTION;\nFLUSH PRIVILEGES;\n",
		MetaUser, pw, MetaUser, pw, MetaUser))
	if err != nil {
		return fmt.Errorf("create MetaDB user: %w", err)
	}
	return DropMetaDatabases()
}

// DropMetaDatabases drops every non-system database in the MetaDB.
func DropMetaDatabases() error {
	out, err := MariaDBSQL("SHOW DATABASES;")
	if err != nil {
		return err
	}
	var drops strings.Builder
	for _, name := range strings.Fields(out) {
		switch name {
		case "information_schema", "mysql", "performance_schema", "sys":
			continue
		}
		fmt.Fprintf(&drops, "DROP DATABASE `%s`;\n", strings.ReplaceAll(name, "`", "``"))
	}
	if drops.Len() == 0 {
		return nil
	}
	_, err = MariaDBSQL(drops.String())
	return err
}

var (
	influxData = filepath.Join(StateDir, "influxdb")
	influxRun  = filepath.Join(RunDir, "influxdb")
	influxPID  = filepath.Join(influxRun, "influxd.pid")
)

// TSDBURL is the InfluxDB HTTP endpoint.
var TSDBURL = "http://" + net.JoinHostPort(Controller, strconv.Itoa(TSDBPort))

// startInflux starts InfluxDB 1.x with authentication on and makes sure the
// lab user exists (the seed: "manually create a user").
func startInflux() error {
	if err := os.MkdirAll(influxRun, 0o755); err != nil {
		return err
	}
	conf := fmt.Sprintf(`# omslab: InfluxDB of the lab
reporting-disabled = true
bind-address = "127.0.0.1:18088"
[meta]
  dir = %q
[data]
  dir = %q
  wal-dir = %q
  query-log-enabled = false
[http]
  enabled = true
  bind-address = "%s:%d"
  auth-enabled = true
  log-enabled = false
[monitor]
  store-enabled = false
[logging]
  level = "warn"
`, filepath.Join(influxData, "meta"), filepath.Join(influxData, "data"), filepath.Join(influxData, "wal"), Controller, TSDBPort)
	cf := filepath.Join(influxRun, "influxdb.conf")
	if err := os.WriteFile(cf, []byte(conf), 0o644); err != nil {
		return err
	}
	if !alive(readPID(influxPID)) {
		if _, err := startDetached(filepath.Join(influxRun, "influxd.log"), "influxd", "run", "-config", cf, "-pidfile", influxPID); err != nil {
			return err
		}
	}
	if err := waitFor("TSDB", 30*time.Second, func() error {
		resp, err := http.Get(TSDBURL + "/ping")
		if err != nil {
			return err
		}
		resp.Body.Close()
		return nil
	}); err != nil {
		return err
	}
	// With auth on and no user yet, InfluxDB accepts exactly this: creating the first admin.
	q := fmt.Sprintf("CREATE USER %q WITH PASSWORD '%s' WITH ALL PRIVILEGES", TSDBUser, strings.ReplaceAll(TSDBPassword, "'", `\'`))
	if err := influxQuery(q, false); err == nil {
		return nil
	}
	return influxQuery("SHOW DATABASES", true)
}

func influxQuery(q string, auth bool) error {
	req, err := http.NewRequest(http.MethodPost, TSDBURL+"/query", strings.NewReader(url.Values{"q": {q}}.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if auth {
		req.SetBasicAuth(TSDBUser, TSDBPassword)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || strings.Contains(string(body), `"error"`) {
		return fmt.Errorf("influxdb %q: %s: %s", q, resp.Status, strings.TrimSpace(string(body)))
	}
	return nil
}

var (
	haproxyRun = filepath.Join(RunDir, "haproxy")
	haproxyPID = filepath.Join(haproxyRun, "haproxy.pid")
	// HAProxySocket is haproxy's admin socket, for tests that look at backend states.
	HAProxySocket = filepath.Join(RunDir, "haproxy", "admin.sock")
)

// VIPOptions are the haproxy settings a test may change.
type VIPOptions struct {
	// NoRetries turns off re-sending a refused request to another node, to
	// measure what a balancer without retries lets through.
	NoRetries bool
	// TLSCheck checks the nodes' nginx port with TLS (no verification), for
	// nodes whose console serves HTTPS only.
	TLSCheck bool
	// CMPort and NginxPort are the nodes' ports behind the VIP's 8088 and
	// 8089 (0: the same), for nodes configured with other ports
	// (cm_server_port, nginx_server_port), as a real balancer maps them.
	CMPort, NginxPort int
}

// Balancer settings a real one would use (README, "The VIP"): a node is
// checked on its nginx port's /oms/health every 2 s, out after 3 failed
// checks and back after 2 good ones. CM has no health endpoint, so the 8088
// backend follows the same check.
const (
	vipInter = "2s"
	vipFall  = 3
	vipRise  = 2
)

// startHAProxy puts the VIP in front of every host's 8088 and 8089; with
// two regions, VIP in front of region 1's hosts and VIP2 of region 2's.
func startHAProxy(hosts []Host, regions int) error {
	return configureVIPs(vipGroups(hosts, regions), VIPOptions{})
}

// vipGroup is one VIP address and the hosts behind it.
type vipGroup struct {
	addr  string
	hosts []Host
}

// vipGroups gives each region its VIP: VIP for the first (all hosts with
// one region), VIP2 for the second.
func vipGroups(hosts []Host, regions int) []vipGroup {
	var out []vipGroup
	for i, hs := range RegionHosts(hosts, regions) {
		out = append(out, vipGroup{addr: []string{VIP, VIP2}[i], hosts: hs})
	}
	return out
}

// vipConfig is haproxy.cfg for the VIPs. The first VIP's frontends and
// backends keep the single-region names (vip_8088, oms_8088), which tests
// read from haproxy's admin socket; the second's are vip2_/oms2_.
func vipConfig(groups []vipGroup, o VIPOptions) string {
	// redispatch 1: every retry may go to another node, not only the last.
	retries := `  option redispatch 1
  retries 3
  retry-on conn-failure empty-response response-timeout
`
	if o.NoRetries {
		retries = "  retries 0\n"
	}
	var b strings.Builder
	fmt.Fprintf(&b, `# omslab: the VIP
global
  maxconn 4000
  stats socket %s mode 600 level admin
defaults
  mode http
  timeout connect 1s
  timeout client 60s
  timeout server 60s
  timeout check 2s
%s  default-server inter %s fall %d rise %d
`, HAProxySocket, retries, vipInter, vipFall, vipRise)
	backend := map[int]int{8088: cmp.Or(o.CMPort, 8088), 8089: cmp.Or(o.NginxPort, 8089)}
	for i, g := range groups {
		n := ""
		if i > 0 {
			n = strconv.Itoa(i + 1)
		}
		for _, port := range []int{8088, 8089} {
			fmt.Fprintf(&b, "frontend vip%s_%d\n  bind %s:%d\n  default_backend oms%s_%d\n", n, port, g.addr, port, n, port)
			fmt.Fprintf(&b, "backend oms%s_%d\n  option httpchk GET /oms/health\n  http-check expect status 200\n", n, port)
			check := fmt.Sprintf("check port %d", backend[8089])
			switch {
			case o.TLSCheck && port == 8089:
				check = "check ssl verify none" // the console itself speaks only TLS then
			case o.TLSCheck:
				check += " check-ssl verify none"
			}
			for _, h := range g.hosts {
				fmt.Fprintf(&b, "  server %s %s:%d %s\n", h.Name, h.Address, backend[port], check)
			}
		}
	}
	return b.String()
}

// ConfigureVIP (re)starts haproxy with the given options, the one VIP in
// front of hosts (a single-region lab).
func ConfigureVIP(hosts []Host, o VIPOptions) error {
	return configureVIPs([]vipGroup{{VIP, hosts}}, o)
}

func configureVIPs(groups []vipGroup, o VIPOptions) error {
	if err := os.MkdirAll(haproxyRun, 0o755); err != nil {
		return err
	}
	cf := filepath.Join(haproxyRun, "haproxy.cfg")
	if err := os.WriteFile(cf, []byte(vipConfig(groups, o)), 0o644); err != nil {
		return err
	}
	if _, err := run("haproxy", "-c", "-q", "-f", cf); err != nil {
		return err
	}
	stopPID(readPID(haproxyPID), 5*time.Second)
	if _, err := run("haproxy", "-D", "-f", cf, "-p", haproxyPID); err != nil {
		return err
	}
	for _, g := range groups {
		if err := waitFor("VIP "+g.addr, 10*time.Second, func() error {
			c, err := net.DialTimeout("tcp", net.JoinHostPort(g.addr, "8088"), time.Second)
			if err != nil {
				return err
			}
			return c.Close()
		}); err != nil {
			return err
		}
	}
	return nil
}

// httpGet fetches url with a short timeout, for status checks.
func httpGet(ctx context.Context, u string) (int, string, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return 0, "", err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	return resp.StatusCode, string(body), nil
}

// freePort makes sure the lab can listen on Controller:port. A listener on
// every address (the Debian package's own service, started by apt on a
// machine with systemd) would make the lab's copy fail to bind, so that
// service is stopped; anything else holding the port is an error.
func freePort(port int, service string, log io.Writer) error {
	addr := net.JoinHostPort(Controller, strconv.Itoa(port))
	try := func() error {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return err
		}
		return ln.Close()
	}
	if try() == nil {
		return nil
	}
	fmt.Fprintf(log, "port %d is taken; stopping the system's %s service\n", port, service)
	if _, err := run("systemctl", "stop", service); err != nil {
		run("service", service, "stop")
	}
	if err := waitFor("port "+addr, 10*time.Second, try); err != nil {
		return fmt.Errorf("the lab needs %s, which another program holds (is the system's %s running?): %w", addr, service, err)
	}
	return nil
}
