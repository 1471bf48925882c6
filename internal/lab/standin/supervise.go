package main

import (
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"
)

// programs are the supervisor programs of the real image that omsrun names.
var programs = []string{"nginx", "oms_console", "oms_drc_cm", "oms_drc_supervisor", "sshd"}

// successLine is the last log line of a started container; omsrun waits for it.
const successLine = "OMS service start successfully"

// supervisor is PID 1 of the container: it owns the listeners and the
// program states that supervisorctl reports.
type supervisor struct {
	p       paths
	version string

	op sync.Mutex // serialises start, stop and restart, which may take the start-up delay

	mu      sync.Mutex // guards the fields below; never held across the delay
	state   string     // RUNNING, STOPPED, STARTING, FATAL
	since   time.Time
	cfg     config
	closers []func()
	beating bool // the heartbeat goroutine runs (heartbeat.go)
}

func superviseMain(p paths) int {
	s := &supervisor{p: p, version: readVersion(p.version), state: "STOPPED"}
	go reapChildren()
	// Signals first: PID 1 ignores a signal it has no handler for, so a
	// docker stop during the start-up delay would otherwise wait for SIGKILL.
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		got := <-sig
		fmt.Printf("%s [INFO] received %v, stopping\n", time.Now().Format("2006-01-02 15:04:05.000"), got)
		s.stop()
		os.Exit(0)
	}()
	lg := newInitLog(p.logDir)
	if strings.HasSuffix(s.version, "-broken") {
		lg.errorf("OMS %s cannot start: component oms_drc_cm failed its self-check (this stand-in build is broken on purpose)", s.version)
		lg.close()
		return 1
	}
	lg.infof("stand-in OMS %s starting, host ip %q, upgrade %v", s.version, os.Getenv("OMS_HOST_IP"), os.Getenv("IS_UPGRADE") == "true")
	s.op.Lock()
	err := s.start(lg)
	s.op.Unlock()
	if err != nil {
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
	s.serveControl(ln)
	return 0
}

func (s *supervisor) setState(state string) {
	s.mu.Lock()
	s.state, s.since = state, time.Now()
	s.mu.Unlock()
}

// start loads config.yaml, initialises the MetaDB (taking the start-up
// delay, as the real Java services take minutes) and opens the ports.
// The caller holds op.
func (s *supervisor) start(lg *initLog) error {
	s.setState("STARTING")
	cfg, err := loadConfig(s.p.config)
	if err == nil {
		err = checkHostIP(cfg)
	}
	if err != nil {
		s.setState("FATAL")
		return fmt.Errorf("check config failed: %w", err)
	}
	delay := readDelay(s.p.delay)
	lg.infof("config %s loaded: metadb %s:%s user %s, cm_url %s, cm_nodes %s; start-up takes %s", s.p.config,
		cfg.str("oms_meta_host"), cfg.str("oms_meta_port"), cfg.str("oms_meta_user"), cfg.str("cm_url"), cfg.str("cm_nodes"), delay)
	if err := initMetaDB(cfg, delay, lg); err != nil {
		s.setState("FATAL")
		return fmt.Errorf("docker_init: init metadb failed: %w", err)
	}
	if err := registerHost(cfg); err != nil { // hostrow.go
		s.setState("FATAL")
		return fmt.Errorf("docker_init: register host failed: %w", err)
	}
	closers, err := s.listen(cfg)
	if err != nil {
		s.setState("FATAL")
		return err
	}
	s.mu.Lock()
	s.cfg, s.closers = cfg, closers
	s.state, s.since = "RUNNING", time.Now()
	s.mu.Unlock()
	if !s.beating {
		s.beating = true
		go s.heartbeat(cfg)
	}
	lg.started()
	return nil
}

// stop closes the listeners so that clients get refused connections, as
// they do while the real services restart.
func (s *supervisor) stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.closers {
		c()
	}
	s.closers = nil
	s.state, s.since = "STOPPED", time.Now()
}

// closeServer is a closer for an HTTP server.
func closeServer(srv *http.Server) func() { return func() { srv.Close() } }

func readVersion(file string) string {
	b, err := os.ReadFile(file)
	if err != nil {
		return "dev"
	}
	return strings.TrimSpace(string(b))
}

// defaultDelay is the start-up delay without a delay file: the lab's
// default, short so that the end-to-end suite stays fast.
const defaultDelay = 3 * time.Second

// readDelay reads the start-up delay (a Go duration such as "40s") from the
// file the lab writes under the mount folder. omsrun starts the container
// with the real product's flags only, so a file is the one way in.
func readDelay(file string) time.Duration {
	b, err := os.ReadFile(file)
	if err != nil {
		return defaultDelay
	}
	d, err := time.ParseDuration(strings.TrimSpace(string(b)))
	if err != nil || d < 0 {
		fmt.Fprintf(os.Stderr, "stand-in: %s: %q is not a duration; using %s\n", file, strings.TrimSpace(string(b)), defaultDelay)
		return defaultDelay
	}
	return d
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
