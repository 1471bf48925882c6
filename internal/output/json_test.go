package output

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/omsrun/omsrun/internal/engine"
)

// TestJSONLinesUnchanged: the per-event lines are written from structs, for
// speed; each must be byte for byte the line the map of the same keys gives
// (what the stream always was), so no consumer sees a difference.
func TestJSONLinesUnchanged(t *testing.T) {
	res := engine.HostResult{Step: "write <conf>", Host: "oms1", Status: engine.StatusChanged, Duration: 1234567 * time.Microsecond,
		Msg: "wrote \"x\" & y", Diff: "-a\n+b", Error: "", Warnings: []string{"w1", "w2"}, Attempts: 2}
	noWarn := res
	noWarn.Warnings = nil
	for _, tc := range []struct {
		name string
		feed func(*JSON)
		want map[string]any
	}{
		{"step_start", func(j *JSON) {
			j.StepStart(engine.StepInfo{Index: 3, Name: "copy", Module: "copy", Hosts: []string{"a", "b"}})
		}, map[string]any{"type": "step_start", "index": 3, "step": "copy", "module": "copy", "hosts": []string{"a", "b"}, "dropped": []any{}}},
		{"step_start with dropped hosts", func(j *JSON) {
			j.StepStart(engine.StepInfo{Index: 4, Name: "next", Module: "copy", Hosts: []string{"a"}, Dropped: []engine.Dropped{{Host: "b", Why: `failed at step "copy"`}}})
		}, map[string]any{"type": "step_start", "index": 4, "step": "next", "module": "copy", "hosts": []string{"a"},
			"dropped": []map[string]string{{"host": "b", "why": `failed at step "copy"`}}}},
		{"step_start no hosts", func(j *JSON) {
			j.StepStart(engine.StepInfo{Name: "none"})
		}, map[string]any{"type": "step_start", "index": 0, "step": "none", "module": "", "hosts": []string(nil), "dropped": []any{}}},
		{"command", func(j *JSON) {
			j.Progress(engine.Progress{Step: "s", Host: "h", Log: "$ ls\nout"})
		}, map[string]any{"type": "command", "step": "s", "host": "h", "log": "$ ls\nout"}},
		{"warning", func(j *JSON) {
			j.Progress(engine.Progress{Step: "s", Host: "h", Warn: "disk full"})
		}, map[string]any{"type": "warning", "step": "s", "host": "h", "msg": "disk full"}},
		{"host_result", func(j *JSON) { j.HostResult(res) }, map[string]any{"type": "host_result", "step": res.Step, "host": res.Host, "status": res.Status,
			"duration_ms": ms(res.Duration), "msg": res.Msg, "diff": res.Diff, "error": res.Error, "warnings": res.Warnings, "attempts": res.Attempts}},
		{"host_result no warnings", func(j *JSON) { j.HostResult(noWarn) }, map[string]any{"type": "host_result", "step": res.Step, "host": res.Host, "status": res.Status,
			"duration_ms": ms(res.Duration), "msg": res.Msg, "diff": res.Diff, "error": res.Error, "warnings": noWarn.Warnings, "attempts": res.Attempts}},
		{"step_end", func(j *JSON) {
			j.StepEnd(engine.StepEnd{Name: "copy", Duration: 1500 * time.Millisecond, Slowest: "b", SlowestDuration: 1499 * time.Millisecond})
		}, map[string]any{"type": "step_end", "step": "copy", "duration_ms": 1500.0, "slowest_host": "b", "slowest_ms": 1499.0, "not_reached": []any{}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			tc.feed(&JSON{W: &b})
			want, err := json.Marshal(tc.want)
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.TrimSuffix(b.String(), "\n"); got != string(want) {
				t.Errorf("got  %s\nwant %s", got, want)
			}
		})
	}
}

// A transfer's progress: its first count at once (a consumer can act while
// the bytes cross), then at most one a second a host, and the count that
// reaches the total; phases never.
func TestJSONProgress(t *testing.T) {
	var b bytes.Buffer
	j := &JSON{W: &b}
	j.Progress(engine.Progress{Step: "load", Host: "a", Phase: "relay: receiving from b"})
	j.Progress(engine.Progress{Step: "load", Host: "a", Done: 10, Total: 100})
	j.Progress(engine.Progress{Step: "load", Host: "a", Done: 20, Total: 100}) // within the second
	j.Progress(engine.Progress{Step: "load", Host: "b", Done: 5, Total: 100})  // another host
	j.Progress(engine.Progress{Step: "load", Host: "a", Done: 100, Total: 100})
	j.Progress(engine.Progress{Step: "load", Host: "a", Done: 100, Total: 100}) // the same count again
	var got []string
	for _, line := range strings.Split(strings.TrimSpace(b.String()), "\n") {
		got = append(got, line)
	}
	want := []string{
		`{"done":10,"host":"a","step":"load","total":100,"type":"progress"}`,
		`{"done":5,"host":"b","step":"load","total":100,"type":"progress"}`,
		`{"done":100,"host":"a","step":"load","total":100,"type":"progress"}`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
