package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/go-sql-driver/mysql"
)

// programs are the supervisor programs of the real image that omsrun names.
var programs = []string{"nginx", "oms_console", "oms_drc_cm", "oms_drc_supervisor", "sshd"}

// restartPause is how long a restart keeps the ports closed. The real
// services take seconds to come back; a rolling restart that does not wait
// for health would be caught by the VIP probe.
const restartPause = 2500 * time.Millisecond

// successLine is the last log line of a started container; omsrun waits for it.
const successLine = "OMS service start successfully"

// supervisor is PID 1 of the container: it owns the HTTP listeners and the
// program states that supervisorctl reports.
type supervisor struct {
	p       paths
	version string
	ports   []int

	mu      sync.Mutex // serialises start/stop; guards the fields below
	state   string     // RUNNING, STOPPED, STARTING, FATAL
	since   time.Time
	cfg     config
	servers []*http.Server
}

func superviseMain(p paths) int {
	s := &supervisor{p: p, version: readVersion(p.version), ports: listenPorts(), state: "STOPPED"}
	go reapChildren()
	lg := newInitLog(p.logDir)
	if strings.HasSuffix(s.version, "-broken") {
		lg.errorf("OMS %s cannot start: component oms_drc_cm failed its self-check (this stand-in build is broken on purpose)", s.version)
		lg.close()
		return 1
	}
	lg.infof("stand-in OMS %s starting, host ip %q, upgrade %v", s.version, os.Getenv("OMS_HOST_IP"), os.Getenv("IS_UPGRADE") == "true")
	if err := s.start(lg); err != nil {
		lg.errorf("%v", err)
		lg.close()
		return 1
	}
	lg.close()

	ln, err := listenControl(p.socket)
	if err != nil {
		fmt.Fprintf(os.Stderr, "stand-in: control socket: %v\n", err)
		return 1
	}
	go s.serveControl(ln)

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	got := <-sig
	fmt.Printf("%s [INFO] received %v, stopping\n", time.Now().Format("2006-01-02 15:04:05.000"), got)
	s.stop()
	ln.Close()
	return 0
}

// start loads config.yaml, initialises the MetaDB and opens the ports.
func (s *supervisor) start(lg *initLog) error {
	s.state, s.since = "STARTING", time.Now()
	cfg, err := loadConfig(s.p.config)
	if err == nil {
		err = checkHostIP(cfg)
	}
	if err != nil {
		s.state = "FATAL"
		return fmt.Errorf("check config failed: %w", err)
	}
	lg.infof("config %s loaded: metadb %s:%s user %s, cm_url %s, cm_nodes %s", s.p.config,
		cfg.str("oms_meta_host"), cfg.str("oms_meta_port"), cfg.str("oms_meta_user"), cfg.str("cm_url"), cfg.str("cm_nodes"))
	if err := initMetaDB(cfg); err != nil {
		s.state = "FATAL"
		return fmt.Errorf("init metadb failed: %w", err)
	}
	lg.infof("metadb databases ready: %s", strings.Join(cfg.databases(), ", "))
	s.cfg = cfg
	if err := s.listen(); err != nil {
		s.state = "FATAL"
		return err
	}
	s.state, s.since = "RUNNING", time.Now()
	lg.infof("%s", successLine)
	return nil
}

// stop closes the listeners so that clients get refused connections, as
// they do while the real services restart.
func (s *supervisor) stop() {
	for _, srv := range s.servers {
		srv.Close()
	}
	s.servers = nil
	s.state, s.since = "STOPPED", time.Now()
}

func (s *supervisor) listen() error {
	for _, port := range s.ports {
		ln, err := net.Listen("tcp", ":"+strconv.Itoa(port))
		if err != nil {
			s.stop()
			return fmt.Errorf("listen on %d: %w", port, err)
		}
		srv := &http.Server{Handler: s.handler(port), ReadHeaderTimeout: 5 * time.Second}
		s.servers = append(s.servers, srv)
		go srv.Serve(ln)
	}
	return nil
}

func (s *supervisor) handler(port int) http.Handler {
	cfg, version := s.cfg, s.version
	mux := http.NewServeMux()
	mux.HandleFunc("GET /oms/health", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, map[string]any{"success": true, "data": map[string]any{
			"healthy": true, "version": version, "host_ip": os.Getenv("OMS_HOST_IP"), "port": port,
			"is_upgrade": os.Getenv("IS_UPGRADE") == "true", "https": httpsMounted(),
		}})
	})
	mux.HandleFunc("GET /oms/config", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, cfg)
	})
	mux.HandleFunc("GET /", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "OMS stand-in %s on port %d\n", version, port)
	})
	return mux
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	if err := json.NewEncoder(w).Encode(v); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
	}
}

// initMetaDB creates the three databases as OMS init does, retrying for a
// while because the MetaDB may come up after the container.
func initMetaDB(cfg config) error {
	mc := mysql.NewConfig()
	mc.User = cfg.str("oms_meta_user")
	mc.Passwd = cfg.str("oms_meta_password")
	mc.Net = "tcp"
	mc.Addr = net.JoinHostPort(cfg.str("oms_meta_host"), cfg.str("oms_meta_port"))
	mc.Timeout = 3 * time.Second
	conn, err := mysql.NewConnector(mc)
	if err != nil {
		return err
	}
	db := sql.OpenDB(conn)
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		err = db.PingContext(ctx)
		if err == nil || ctx.Err() != nil {
			break
		}
		var me *mysql.MySQLError
		if errors.As(err, &me) {
			break // a server answer (bad password, no privilege) will not change by retrying
		}
		time.Sleep(500 * time.Millisecond)
	}
	if err != nil {
		return fmt.Errorf("connect to %s as %s: %w", mc.Addr, mc.User, err)
	}
	for _, name := range cfg.databases() {
		if _, err := db.ExecContext(ctx, "CREATE DATABASE IF NOT EXISTS `"+name+"`"); err != nil {
			return fmt.Errorf("create database %s: %w", name, err)
		}
	}
	return nil
}

// httpsMounted reports whether the SSL certificate and key of the seed's
// HTTPS option are mounted where the real image's nginx reads them.
func httpsMounted() bool {
	root := os.Getenv("OMS_STANDIN_ROOT")
	for _, f := range []string{"/etc/pki/nginx/oms_server.crt", "/etc/pki/nginx/oms_server.key"} {
		if st, err := os.Stat(root + f); err != nil || st.Size() == 0 {
			return false
		}
	}
	return true
}

func readVersion(file string) string {
	b, err := os.ReadFile(file)
	if err != nil {
		return "dev"
	}
	return strings.TrimSpace(string(b))
}

// listenPorts are 8088 (CM) and 8089 (console) unless OMS_STANDIN_PORTS
// says otherwise, which only tests outside a container need.
func listenPorts() []int {
	v := os.Getenv("OMS_STANDIN_PORTS")
	if v == "" {
		return []int{8088, 8089}
	}
	var out []int
	for _, f := range strings.Split(v, ",") {
		if n, err := strconv.Atoi(strings.TrimSpace(f)); err == nil {
			out = append(out, n)
		}
	}
	return out
}

// reapChildren collects orphans re-parented to PID 1 (processes left by
// `docker exec`), which would otherwise linger as zombies.
func reapChildren() {
	if os.Getpid() != 1 {
		return
	}
	ch := make(chan os.Signal, 8)
	signal.Notify(ch, syscall.SIGCHLD)
	for range ch {
		for {
			var ws syscall.WaitStatus
			pid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil)
			if pid <= 0 || err != nil {
				break
			}
		}
	}
}
