package output

import (
	"encoding/json"
	"io"
	"sync"
	"time"

	"github.com/omsrun/omsrun/internal/engine"
	"github.com/omsrun/omsrun/internal/secret"
)

// JSON writes one JSON object per line per event, each with a "type".
type JSON struct {
	W        io.Writer
	Redactor *secret.Redactor
	mu       sync.Mutex
}

var _ engine.Sink = (*JSON)(nil)

func (j *JSON) emit(v map[string]any) {
	b, err := json.Marshal(v)
	if err != nil {
		return
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	s := j.Redactor.Scrub(string(b))
	io.WriteString(j.W, s+"\n")
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// RunStart implements engine.Sink.
func (j *JSON) RunStart(r engine.RunInfo) {
	j.emit(map[string]any{"type": "run_start", "playbook": r.Playbook, "hosts": r.Hosts, "check": r.Check, "steps": r.Steps, "time": time.Now().UTC().Format(time.RFC3339Nano)})
}

// StepStart implements engine.Sink.
func (j *JSON) StepStart(s engine.StepInfo) {
	j.emit(map[string]any{"type": "step_start", "index": s.Index, "step": s.Name, "module": s.Module, "hosts": s.Hosts})
}

// Progress implements engine.Sink; only warnings are emitted, to keep the stream small.
func (j *JSON) Progress(p engine.Progress) {
	if p.Log != "" {
		j.emit(map[string]any{"type": "command", "step": p.Step, "host": p.Host, "log": p.Log})
	}
	if p.Warn != "" {
		j.emit(map[string]any{"type": "warning", "step": p.Step, "host": p.Host, "msg": p.Warn})
	}
}

// HostResult implements engine.Sink.
func (j *JSON) HostResult(r engine.HostResult) {
	j.emit(map[string]any{"type": "host_result", "step": r.Step, "host": r.Host, "status": r.Status,
		"duration_ms": ms(r.Duration), "msg": r.Msg, "diff": r.Diff, "error": r.Error, "warnings": r.Warnings, "attempts": r.Attempts})
}

// StepEnd implements engine.Sink.
func (j *JSON) StepEnd(s engine.StepEnd) {
	j.emit(map[string]any{"type": "step_end", "step": s.Name, "duration_ms": ms(s.Duration), "slowest_host": s.Slowest, "slowest_ms": ms(s.SlowestDuration)})
}

// Recap implements engine.Sink.
func (j *JSON) Recap(r engine.Recap) {
	hosts := map[string]any{}
	for _, h := range r.Hosts {
		hosts[h.Host] = map[string]int{"ok": h.OK, "changed": h.Changed, "failed": h.Failed, "skipped": h.Skipped, "unreachable": h.Unreachable, "ignored": h.Ignored}
	}
	steps := []map[string]any{}
	for _, s := range r.Steps {
		steps = append(steps, map[string]any{"step": s.Name, "duration_ms": ms(s.Duration), "slowest_host": s.Slowest})
	}
	j.emit(map[string]any{"type": "recap", "hosts": hosts, "steps": steps, "duration_ms": ms(r.Duration), "interrupted": r.Interrupted, "check": r.Check, "stopped": r.Stopped})
}
