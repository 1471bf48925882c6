package output

import (
	"encoding/json"
	"io"
	"sync"
	"time"

	"github.com/omsrun/omsrun/internal/engine"
	"github.com/omsrun/omsrun/internal/secret"
	"github.com/zclconf/go-cty/cty"
	ctyjson "github.com/zclconf/go-cty/cty/json"
)

// JSON writes one JSON object per line per event, each with a "type".
type JSON struct {
	W        io.Writer
	Redactor *secret.Redactor
	mu       sync.Mutex
	// transfers are the last progress event of each step and host.
	transfers map[string]transferSeen
}

var _ engine.Sink = (*JSON)(nil)

// emit writes v as one line: a map (keys come out sorted) or one of the
// event structs below, whose fields are in key order so that every event
// reads the same either way. The structs are for the events a run has many
// of: encoding a map sorts its keys by reflection each time, which made
// JSON output several times slower than text.
func (j *JSON) emit(v any) {
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

// The per-event lines; fields in the order of their keys (see emit).
type (
	stepStartLine struct {
		Dropped []droppedHost `json:"dropped"`
		Hosts   []string      `json:"hosts"`
		Index   int           `json:"index"`
		Module  string        `json:"module"`
		Step    string        `json:"step"`
		Type    string        `json:"type"`
	}
	commandLine struct {
		Host string `json:"host"`
		Log  string `json:"log"`
		Step string `json:"step"`
		Type string `json:"type"`
	}
	progressLine struct {
		Done  int64  `json:"done"`
		Host  string `json:"host"`
		Step  string `json:"step"`
		Total int64  `json:"total"`
		Type  string `json:"type"`
	}
	warningLine struct {
		Host string `json:"host"`
		Msg  string `json:"msg"`
		Step string `json:"step"`
		Type string `json:"type"`
	}
	hostResultLine struct {
		Attempts   int     `json:"attempts"`
		Diff       string  `json:"diff"`
		DurationMS float64 `json:"duration_ms"`
		Error      string  `json:"error"`
		Host       string  `json:"host"`
		Msg        string  `json:"msg"`
		// Outputs are the module's outputs as fields (oms_status's state,
		// programs, healthy…), not only in msg's table row.
		Outputs  json.RawMessage `json:"outputs,omitempty"`
		Status   engine.Status   `json:"status"`
		Step     string          `json:"step"`
		Type     string          `json:"type"`
		Warnings []string        `json:"warnings"`
	}
	stepEndLine struct {
		DurationMS  float64  `json:"duration_ms"`
		NotReached  []string `json:"not_reached"`
		SlowestHost string   `json:"slowest_host"`
		SlowestMS   float64  `json:"slowest_ms"`
		Step        string   `json:"step"`
		Type        string   `json:"type"`
	}
	droppedHost struct {
		Host string `json:"host"`
		Why  string `json:"why"`
	}
)

// StepStart implements engine.Sink.
func (j *JSON) StepStart(s engine.StepInfo) {
	dropped := make([]droppedHost, len(s.Dropped))
	for i, d := range s.Dropped {
		dropped[i] = droppedHost{Host: d.Host, Why: d.Why}
	}
	j.emit(stepStartLine{Type: "step_start", Index: s.Index, Step: s.Name, Module: s.Module, Hosts: s.Hosts, Dropped: dropped})
}

// Progress implements engine.Sink. Phases are not emitted and transfers
// at most once a second a host, to keep the stream small; a transfer's
// first count is, so that a consumer can act while the bytes cross (the
// interruption matrix kills a run there).
func (j *JSON) Progress(p engine.Progress) {
	if p.Log != "" {
		j.emit(commandLine{Type: "command", Step: p.Step, Host: p.Host, Log: p.Log})
	}
	if p.Warn != "" {
		j.emit(warningLine{Type: "warning", Step: p.Step, Host: p.Host, Msg: p.Warn})
	}
	if p.Done > 0 && j.transferDue(p) {
		j.emit(progressLine{Type: "progress", Step: p.Step, Host: p.Host, Done: p.Done, Total: p.Total})
	}
}

// transferEvery spaces a host's progress events.
const transferEvery = time.Second

// transferDue says whether a transfer's count is emitted: the first of
// the step and host, one a transferEvery after the last, and the count
// that reaches the total.
func (j *JSON) transferDue(p engine.Progress) bool {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.transfers == nil {
		j.transfers = map[string]transferSeen{}
	}
	k := p.Step + "\x00" + p.Host
	last, seen := j.transfers[k]
	now := time.Now()
	due := !seen || now.Sub(last.at) >= transferEvery || (p.Total > 0 && p.Done >= p.Total && last.done < p.Total)
	if due && p.Done != last.done {
		j.transfers[k] = transferSeen{at: now, done: p.Done}
		return true
	}
	return false
}

// transferSeen is a host's last progress event.
type transferSeen struct {
	at   time.Time
	done int64
}

// HostResult implements engine.Sink.
func (j *JSON) HostResult(r engine.HostResult) {
	j.emit(hostResultLine{Type: "host_result", Step: r.Step, Host: r.Host, Status: r.Status,
		DurationMS: ms(r.Duration), Msg: r.Msg, Diff: r.Diff, Error: r.Error, Warnings: r.Warnings, Attempts: r.Attempts,
		Outputs: outputsJSON(r.Outputs)})
}

// outputsJSON is a module's outputs as one JSON object; nil when it has
// none or they cannot be written (emit scrubs secrets from the line).
func outputsJSON(outs map[string]cty.Value) json.RawMessage {
	if len(outs) == 0 {
		return nil
	}
	v, _ := cty.ObjectVal(outs).UnmarkDeep()
	b, err := ctyjson.Marshal(v, v.Type())
	if err != nil {
		return nil
	}
	return b
}

// StepEnd implements engine.Sink.
func (j *JSON) StepEnd(s engine.StepEnd) {
	j.emit(stepEndLine{Type: "step_end", Step: s.Name, DurationMS: ms(s.Duration), SlowestHost: s.Slowest, SlowestMS: ms(s.SlowestDuration), NotReached: list(s.NotReached)})
}

// Recap implements engine.Sink.
func (j *JSON) Recap(r engine.Recap) {
	hosts := map[string]any{}
	for _, h := range r.Hosts {
		hosts[h.Host] = map[string]int{"ok": h.OK, "changed": h.Changed, "failed": h.Failed, "skipped": h.Skipped, "unreachable": h.Unreachable, "ignored": h.Ignored}
	}
	steps := []map[string]any{}
	notReached := map[string][]string{}
	for _, s := range r.Steps {
		steps = append(steps, map[string]any{"step": s.Name, "duration_ms": ms(s.Duration), "slowest_host": s.Slowest})
		if len(s.NotReached) > 0 {
			notReached[s.Name] = s.NotReached
		}
	}
	j.emit(map[string]any{"type": "recap", "hosts": hosts, "steps": steps, "duration_ms": ms(r.Duration), "interrupted": r.Interrupted, "check": r.Check, "stopped": r.Stopped,
		"declined": r.Declined, "error": r.Error, "exit_code": r.ExitCode, "unhealthy": list(r.Unhealthy), "not_reached": notReached,
		"unreached": list(r.NotReached)})
}

// list is a list for JSON, empty rather than null.
func list(u []string) []string {
	if u == nil {
		return []string{}
	}
	return u
}
