package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"time"
)

// split divides one omsrun run's wall time by what its JSON events say, to
// show where the time over the floor goes: start-up (fork to run_start:
// loading the binary, parsing playbook and inventory), connecting and taking
// the run lock on every host (one remote command each) and everything else
// outside the steps, the steps, of which the wait at each step's barrier
// for the slowest host, and what follows the recap (releasing the lock and
// appending the audit line: another remote command per host) and exit.
type split struct {
	Startup, Connect, Steps, Barrier, Exit time.Duration
}

func splitRun(p proc) (split, error) {
	var s split
	var begun time.Time
	var recap time.Duration
	perHost := map[string]time.Duration{}
	sc := bufio.NewScanner(bytes.NewReader(p.Stdout))
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var ev struct {
			Type string    `json:"type"`
			Time time.Time `json:"time"`
			Host string    `json:"host"`
			MS   float64   `json:"duration_ms"`
		}
		if json.Unmarshal(sc.Bytes(), &ev) != nil {
			continue
		}
		d := time.Duration(ev.MS * float64(time.Millisecond))
		switch ev.Type {
		case "run_start":
			begun = ev.Time
		case "step_end":
			s.Steps += d
		case "host_result":
			perHost[ev.Host] += d
		case "recap":
			recap = d
		}
	}
	if begun.IsZero() || recap == 0 {
		return s, fmt.Errorf("no run_start or recap event")
	}
	var slowest time.Duration
	for _, d := range perHost {
		slowest = max(slowest, d)
	}
	s.Startup = begun.Sub(p.Start)
	s.Connect = recap - s.Steps
	s.Barrier = s.Steps - slowest
	s.Exit = p.Wall - s.Startup - recap
	return s, nil
}

// medianSplit is the component-wise median.
func medianSplit(ss []split) split {
	pick := func(f func(split) time.Duration) time.Duration {
		ds := make([]time.Duration, len(ss))
		for i, s := range ss {
			ds[i] = f(s)
		}
		return median(ds)
	}
	return split{
		Startup: pick(func(s split) time.Duration { return s.Startup }),
		Connect: pick(func(s split) time.Duration { return s.Connect }),
		Steps:   pick(func(s split) time.Duration { return s.Steps }),
		Barrier: pick(func(s split) time.Duration { return s.Barrier }),
		Exit:    pick(func(s split) time.Duration { return s.Exit }),
	}
}

func (s split) String() string {
	return fmt.Sprintf("start-up and parse %s, connect, run lock and between steps %s, steps %s (of which waiting at barriers for the slowest host %s), unlock, audit line and exit %s",
		ms(s.Startup), ms(s.Connect), ms(s.Steps), ms(s.Barrier), ms(s.Exit))
}
