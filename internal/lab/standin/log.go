package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"
)

// initLog writes one docker_init.log.<YYYY-MM-DD>.<HH:MM:SS> under the logs
// folder, the real product's name for the file the seed tells users to read
// when a deployment fails (docs/oms-facts.md L1), and echoes each line to
// stdout, which is what `docker logs` shows.
type initLog struct {
	f *os.File
}

func newInitLog(dir string) *initLog {
	_ = os.MkdirAll(dir, 0o755)
	// Two inits in the same second (a restart right after the start) share
	// the file, as they would on the real image: lines are appended.
	name := filepath.Join(dir, "docker_init.log."+time.Now().Format("2006-01-02.15:04:05"))
	f, err := os.OpenFile(name, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		fmt.Fprintf(os.Stderr, "stand-in: cannot write %s: %v\n", name, err)
		return &initLog{}
	}
	return &initLog{f: f}
}

func (l *initLog) write(level, format string, args ...any) {
	line := fmt.Sprintf("%s [%s] %s\n", time.Now().Format("2006-01-02 15:04:05.000"), level, fmt.Sprintf(format, args...))
	var w io.Writer = os.Stdout
	if level == "ERROR" {
		w = os.Stderr
	}
	io.WriteString(w, line)
	if l.f != nil {
		io.WriteString(l.f, line)
		l.f.Sync()
	}
}

func (l *initLog) infof(format string, args ...any) { l.write("INFO", format, args...) }

// started prints the success line bare as docker logs' last line — obd
// compares that whole line with it (docs/oms-facts.md H1), so a timestamp
// in front would hide the start — and stamped in the init log like the rest.
func (l *initLog) started() {
	io.WriteString(os.Stdout, successLine+"\n")
	if l.f != nil {
		fmt.Fprintf(l.f, "%s [INFO] %s\n", time.Now().Format("2006-01-02 15:04:05.000"), successLine)
		l.f.Sync()
	}
}
func (l *initLog) errorf(format string, args ...any) { l.write("ERROR", format, args...) }

func (l *initLog) close() {
	if l.f != nil {
		l.f.Close()
	}
}
