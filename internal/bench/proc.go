package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// proc is one measured child process: wall time from fork to reap, and what
// the kernel says about it afterwards, so no figure comes from the program
// measuring itself.
type proc struct {
	Start   time.Time
	Wall    time.Duration
	MaxRSS  int64 // bytes, from wait4's rusage
	PeakFDs int   // most entries seen in /proc/PID/fd while it ran
	Stdout  []byte
	Stderr  []byte
}

// procOpts are the knobs of run.
type procOpts struct {
	Stdin     string // a file fed as the child's stdin (the fd itself, no copy)
	SampleFDs bool
}

// run starts argv, waits for it and fails when it exits non-zero.
func run(ctx context.Context, o procOpts, argv ...string) (proc, error) {
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if o.Stdin != "" {
		f, err := os.Open(o.Stdin)
		if err != nil {
			return proc{}, err
		}
		defer f.Close()
		cmd.Stdin = f
	}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return proc{}, err
	}
	var peak int
	var wg sync.WaitGroup
	stop := make(chan struct{})
	if o.SampleFDs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			peak = sampleFDs(cmd.Process.Pid, stop)
		}()
	}
	err := cmd.Wait()
	p := proc{Start: start, Wall: time.Since(start), Stdout: out.Bytes(), Stderr: errb.Bytes()}
	close(stop)
	wg.Wait()
	p.PeakFDs = peak
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		p.MaxRSS = ru.Maxrss << 10 // Linux reports KiB
	}
	if err != nil {
		return p, fmt.Errorf("%s: %w\n%s", strings.Join(argv, " "), err, tail(errb.String()+out.String(), 15))
	}
	return p, nil
}

// sampleFDs counts the process's open descriptors every few milliseconds
// until stop closes, and returns the largest count seen.
func sampleFDs(pid int, stop <-chan struct{}) int {
	dir := "/proc/" + strconv.Itoa(pid) + "/fd"
	peak := 0
	t := time.NewTicker(3 * time.Millisecond)
	defer t.Stop()
	for {
		if f, err := os.Open(dir); err == nil {
			names, _ := f.Readdirnames(-1)
			f.Close()
			peak = max(peak, len(names))
		}
		select {
		case <-stop:
			return peak
		case <-t.C:
		}
	}
}

// parallel runs fn for every i at once and returns the wall time of the
// slowest and the first error.
func parallel(n int, fn func(i int) error) (time.Duration, error) {
	start := time.Now()
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = fn(i)
		}()
	}
	wg.Wait()
	took := time.Since(start)
	for _, err := range errs {
		if err != nil {
			return took, err
		}
	}
	return took, nil
}

func median(ds []time.Duration) time.Duration {
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	if len(s) == 0 {
		return 0
	}
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func numCPU() int { return runtime.NumCPU() }
