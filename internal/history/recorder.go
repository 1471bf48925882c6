package history

import (
	"os"
	"sync"
	"time"

	"github.com/zclconf/go-cty/cty"

	"github.com/omsrun/omsrun/internal/engine"
	"github.com/omsrun/omsrun/internal/output"
	"github.com/omsrun/omsrun/internal/secret"
)

// Recorder is an engine.Sink that hands every event to the run's own output
// and writes it to the run's record as well, redacted like --json.
type Recorder struct {
	inner  engine.Sink
	events *os.File
	json   *output.JSON

	mu      sync.Mutex
	rec     *Record
	backups map[string]bool // steps whose module is metadb_backup
}

var _ engine.Sink = (*Recorder)(nil)

// Run describes the run being recorded.
type Run struct {
	Playbook string
	// Command is what an exec ran, secrets masked; empty for a playbook.
	Command string
	Hosts   []string
	Check   bool
	// Vars are the variables' final values; Redactor knows the secret ones.
	Vars     map[string]cty.Value
	Redactor *secret.Redactor
}

// Start opens the next record in the state folder and returns the sink to
// run with.
func Start(state string, inner engine.Sink, run Run) (*Recorder, error) {
	n, dir, err := create(state)
	if err != nil {
		return nil, err
	}
	rec := &Record{Number: n, Playbook: run.Playbook, Command: run.Command, Hosts: run.Hosts, Check: run.Check, Start: time.Now().UTC(),
		Vars: MaskVars(run.Vars, run.Redactor), Dir: dir}
	if err := rec.save(); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(rec.EventsFile(), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	return &Recorder{inner: inner, events: f, json: &output.JSON{W: f, Redactor: run.Redactor}, rec: rec, backups: map[string]bool{}}, nil
}

// Number is the run's number in `omsrun history`.
func (r *Recorder) Number() int { return r.rec.Number }

// RunStart implements engine.Sink.
func (r *Recorder) RunStart(i engine.RunInfo) { r.inner.RunStart(i); r.json.RunStart(i) }

// StepStart implements engine.Sink.
func (r *Recorder) StepStart(s engine.StepInfo) {
	r.inner.StepStart(s)
	r.json.StepStart(s)
	if s.Module == "metadb_backup" {
		r.mu.Lock()
		r.backups[s.Name] = true
		r.mu.Unlock()
	}
}

// Progress implements engine.Sink.
func (r *Recorder) Progress(p engine.Progress) { r.inner.Progress(p); r.json.Progress(p) }

// HostResult implements engine.Sink; a MetaDB backup's file (its output
// "path") is kept in the summary.
func (r *Recorder) HostResult(h engine.HostResult) {
	r.inner.HostResult(h)
	r.json.HostResult(h)
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.backups[h.Step] || h.Status != engine.StatusChanged {
		return
	}
	if p, ok := h.Outputs["path"]; ok && p.IsKnown() && !p.IsNull() && p.Type() == cty.String && p.AsString() != "" {
		r.rec.Backups = append(r.rec.Backups, p.AsString())
		r.rec.save()
	}
}

// StepEnd implements engine.Sink.
func (r *Recorder) StepEnd(s engine.StepEnd) { r.inner.StepEnd(s); r.json.StepEnd(s) }

// Recap implements engine.Sink: the run's end, duration and exit code.
func (r *Recorder) Recap(c engine.Recap) {
	r.inner.Recap(c)
	r.json.Recap(c)
	r.mu.Lock()
	defer r.mu.Unlock()
	end := time.Now().UTC()
	code := c.ExitCode
	r.rec.End, r.rec.ExitCode, r.rec.DurationMS = &end, &code, c.Duration.Milliseconds()
	r.rec.save()
}

// Close closes the events file.
func (r *Recorder) Close() error { return r.events.Close() }

// MaskVars renders the variables for the record: a value whose name says it
// is a secret (secret.IsSecretName, at any depth) or that is marked
// sensitive becomes secret.Mask, and any secret the redactor knows is
// scrubbed from what remains.
func MaskVars(vars map[string]cty.Value, red *secret.Redactor) map[string]any {
	out := map[string]any{}
	for name, v := range vars {
		out[name] = maskValue(name, v, red)
	}
	return out
}

func maskValue(name string, v cty.Value, red *secret.Redactor) any {
	if secret.IsSecretName(name) || v.HasMark(secret.Mark) {
		return secret.Mask
	}
	v, _ = v.Unmark()
	if v.IsNull() || !v.IsKnown() {
		return nil
	}
	t := v.Type()
	switch {
	case t == cty.String:
		return red.Scrub(v.AsString())
	case t == cty.Bool:
		return v.True()
	case t == cty.Number:
		f, _ := v.AsBigFloat().Float64()
		return f
	case t.IsObjectType() || t.IsMapType():
		m := map[string]any{}
		for it := v.ElementIterator(); it.Next(); {
			k, e := it.Element()
			m[k.AsString()] = maskValue(k.AsString(), e, red)
		}
		return m
	case t.IsListType() || t.IsTupleType() || t.IsSetType():
		var l []any
		for it := v.ElementIterator(); it.Next(); {
			_, e := it.Element()
			l = append(l, maskValue("", e, red))
		}
		return l
	}
	return red.Scrub(v.GoString())
}
