package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The control protocol between supervisorctl and PID 1 is one request line
// ("restart oms_console sshd") answered by output lines and a final
// "EXIT <code>" line.

func listenControl(sock string) (net.Listener, error) {
	if err := os.MkdirAll(filepath.Dir(sock), 0o755); err != nil {
		return nil, err
	}
	os.Remove(sock)
	return net.Listen("unix", sock)
}

func (s *supervisor) serveControl(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go s.handleControl(c)
	}
}

func (s *supervisor) handleControl(c net.Conn) {
	defer c.Close()
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil && line == "" {
		return
	}
	args := strings.Fields(line)
	if len(args) == 0 {
		fmt.Fprintf(c, "EXIT 2\n")
		return
	}
	code := s.command(c, args[0], args[1:])
	fmt.Fprintf(c, "EXIT %d\n", code)
}

// command runs one supervisorctl command, writing its output to w.
func (s *supervisor) command(w io.Writer, verb string, names []string) int {
	names, bad := expand(names)
	if bad != "" {
		fmt.Fprintf(w, "%s: ERROR (no such process)\n", bad)
		return 1
	}
	switch verb {
	case "status":
		s.mu.Lock()
		defer s.mu.Unlock()
		code := 0
		for _, name := range names {
			fmt.Fprintf(w, "%-33s%s\n", name, s.describe(name))
			if s.state != "RUNNING" {
				code = 3
			}
		}
		return code
	case "stop":
		s.op.Lock()
		defer s.op.Unlock()
		s.stop()
		for _, name := range names {
			fmt.Fprintf(w, "%s: stopped\n", name)
		}
		return 0
	case "start", "restart":
		// op, not mu, is held while the services come back, so status
		// answers STARTING meanwhile, as the real supervisord does.
		s.op.Lock()
		defer s.op.Unlock()
		if verb == "restart" {
			s.stop()
			for _, name := range names {
				fmt.Fprintf(w, "%s: stopped\n", name)
			}
		}
		// Every program restart takes the whole service down for the
		// start-up delay: the stand-in has one process, and the callers
		// only need "ports closed, then the new config served".
		lg := newInitLog(s.p.logDir)
		defer lg.close()
		if err := s.start(lg); err != nil {
			lg.errorf("%v", err)
			for _, name := range names {
				fmt.Fprintf(w, "%s: ERROR (spawn error)\n", name)
			}
			return 7
		}
		for _, name := range names {
			fmt.Fprintf(w, "%s: started\n", name)
		}
		return 0
	}
	fmt.Fprintf(w, "*** Unknown syntax: %s\n", verb)
	return 2
}

func (s *supervisor) describe(name string) string {
	i := slices.Index(programs, name)
	up := time.Since(s.since).Truncate(time.Second)
	switch s.state {
	case "RUNNING":
		h := int(up.Hours())
		m := int(up.Minutes()) % 60
		sec := int(up.Seconds()) % 60
		return fmt.Sprintf("RUNNING   pid %d, uptime %d:%02d:%02d", 100+i, h, m, sec)
	case "STOPPED":
		return "STOPPED   " + s.since.Format("Jan 02 03:04 PM")
	case "FATAL":
		return "FATAL     Exited too quickly (process log may have details)"
	}
	return s.state
}

// expand turns "all" or no names into every program and reports the first unknown one.
func expand(names []string) ([]string, string) {
	if len(names) == 0 || slices.Contains(names, "all") {
		return programs, ""
	}
	for _, n := range names {
		n = strings.TrimSuffix(n, ":*")
		if !slices.Contains(programs, n) {
			return nil, n
		}
	}
	return names, ""
}

// ctlMain is supervisorctl: it forwards the command to PID 1 and relays the answer.
func ctlMain(p paths, args []string) int {
	for len(args) > 0 && strings.HasPrefix(args[0], "-") {
		args = args[1:] // -c FILE and friends of the real client mean nothing here
		if len(args) > 0 && !strings.HasPrefix(args[0], "-") && !isVerb(args[0]) {
			args = args[1:]
		}
	}
	if len(args) == 0 {
		args = []string{"status"}
	}
	c, err := net.Dial("unix", p.socket)
	if err != nil {
		fmt.Fprintf(os.Stderr, "unix://%s no such file (is the supervisor running?): %v\n", p.socket, err)
		return 7
	}
	defer c.Close()
	if _, err := fmt.Fprintln(c, strings.Join(args, " ")); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 7
	}
	sc := bufio.NewScanner(c)
	for sc.Scan() {
		line := sc.Text()
		if rest, ok := strings.CutPrefix(line, "EXIT "); ok {
			code, _ := strconv.Atoi(rest)
			return code
		}
		fmt.Println(line)
	}
	fmt.Fprintln(os.Stderr, "supervisor closed the connection without an answer")
	return 7
}

func isVerb(s string) bool {
	return slices.Contains([]string{"status", "start", "stop", "restart"}, s)
}
