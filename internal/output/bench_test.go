package output

// Benchmarks of the renderers (issue #6): a run's event stream of 1,000 and
// 10,000 events drawn as text (plain and coloured), as text with the
// progress drawer in its plain (non-terminal) mode, and as JSON, into
// io.Discard. Run them with
//
//	go test -run '^$' -bench . -benchmem ./internal/output/

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/omsrun/omsrun/internal/engine"
	"github.com/omsrun/omsrun/internal/secret"
)

// event is one Sink call of a recorded run.
type event struct {
	run      *engine.RunInfo
	stepInfo *engine.StepInfo
	progress *engine.Progress
	result   *engine.HostResult
	stepEnd  *engine.StepEnd
	recap    *engine.Recap
}

func (e event) replay(s engine.Sink) {
	switch {
	case e.run != nil:
		s.RunStart(*e.run)
	case e.stepInfo != nil:
		s.StepStart(*e.stepInfo)
	case e.progress != nil:
		s.Progress(*e.progress)
	case e.result != nil:
		s.HostResult(*e.result)
	case e.stepEnd != nil:
		s.StepEnd(*e.stepEnd)
	case e.recap != nil:
		s.Recap(*e.recap)
	}
}

// benchHosts is how many hosts the recorded runs have.
const benchHosts = 100

// recordedRun makes a run of exactly n events on benchHosts hosts, shaped
// like a deploy: per step, its start, per host a phase report, a byte
// count on transfer steps and the result (mostly ok or changed, some
// skipped, a few failed with stderr, diffs and warnings now and then),
// then its end; the recap closes the run. Messages and errors carry a
// secret now and then, for the redactor to find.
func recordedRun(n int) (evs []event, counts map[string]int) {
	counts = map[string]int{}
	hosts := make([]string, benchHosts)
	for i := range hosts {
		hosts[i] = fmt.Sprintf("oms-%04d", i)
	}
	add := func(kind string, e event) {
		evs = append(evs, e)
		counts[kind]++
	}
	add("run_start", event{run: &engine.RunInfo{Playbook: "playbooks/deploy.hcl", Hosts: hosts, Steps: 40}})
	var steps []engine.StepEnd
	tallies := make([]engine.HostTally, benchHosts)
	for i := range tallies {
		tallies[i].Host = hosts[i]
	}
	// Room for the step's end and the recap, which close the run.
	for step := 0; len(evs) < n-3; step++ {
		name := fmt.Sprintf("step %02d", step)
		transfer := step%5 == 4
		add("step_start", event{stepInfo: &engine.StepInfo{Index: step, Name: name, Module: []string{"shell", "render_config", "container_run", "wait_for", "docker_load"}[step%5], Hosts: hosts}})
		for i, h := range hosts {
			if len(evs) >= n-2 {
				break
			}
			k := step*benchHosts + i
			if k%3 == 0 && len(evs) < n-3 {
				add("progress", event{progress: &engine.Progress{Step: name, Host: h, Phase: "waiting for the container to answer"}})
			}
			if transfer && len(evs) < n-3 {
				add("progress", event{progress: &engine.Progress{Step: name, Host: h, Done: 512 << 20, Total: 1 << 30}})
			}
			if k%97 == 0 && len(evs) < n-3 {
				add("warning", event{progress: &engine.Progress{Step: name, Host: h, Warn: "disk /data is 85% full"}})
			}
			r := engine.HostResult{Step: name, Host: h, Status: engine.StatusOK, Duration: time.Duration(k%5000) * time.Millisecond, Attempts: 1, Msg: "config.yaml up to date"}
			t := &tallies[i]
			switch {
			case k%53 == 0:
				r.Status, r.Msg = engine.StatusFailed, ""
				r.Error = "command failed (rc=1): docker inspect oms\nstderr: Error: No such object: oms\nmetadb password not-a-real-password rejected"
				t.Failed++
			case k%11 == 0:
				r.Status, r.Msg = engine.StatusSkipped, "condition false"
				t.Skipped++
			case k%4 == 0:
				r.Status, r.Msg = engine.StatusChanged, "wrote /data/oms/config.yaml"
				r.Diff = "--- /data/oms/config.yaml\n+++ /data/oms/config.yaml\n-cm_location: 100\n+cm_location: 101\n oms_meta_password: not-a-real-password\n"
				t.Changed++
			default:
				t.OK++
			}
			if k%29 == 0 {
				r.Warnings = []string{"image tag differs from the package's"}
				r.Attempts = 2
			}
			add("host_result", event{result: &r})
		}
		end := engine.StepEnd{Name: name, Duration: 3 * time.Second, Slowest: hosts[step%benchHosts], SlowestDuration: 2900 * time.Millisecond}
		steps = append(steps, end)
		add("step_end", event{stepEnd: &end})
	}
	add("recap", event{recap: &engine.Recap{Hosts: tallies, Steps: steps, Duration: 5 * time.Minute}})
	return evs, counts
}

func benchRedactor() *secret.Redactor {
	r := secret.NewRedactor()
	r.Add("not-a-real-password", "another-secret-token", "s3cret-sudo")
	return r
}

// renderers are the sinks omsrun writes with: App.sink's choices.
var renderers = []struct {
	name string
	new  func(w io.Writer) engine.Sink
}{
	{"text", func(w io.Writer) engine.Sink { return NewText(w, benchRedactor(), false, 0, nil) }},
	{"text-color", func(w io.Writer) engine.Sink { return NewText(w, benchRedactor(), true, 0, nil) }},
	// What a run writes when stdout is not a terminal (CI, a log file).
	{"text-progress-plain", func(w io.Writer) engine.Sink {
		return NewText(w, benchRedactor(), false, 0, NewProgress(w, false))
	}},
	{"json", func(w io.Writer) engine.Sink { return &JSON{W: w, Redactor: benchRedactor()} }},
}

// resultLine is a host's result line, coloured or not.
var resultLine = regexp.MustCompile(`(?m)^  (\x1b\[[0-9;]*m)?(ok|changed|failed|skipped|unreachable|ignored) +(\x1b\[[0-9;]*m)? oms-`)

// checkRendered asserts the renderer wrote the whole run, and no secret.
func checkRendered(b *testing.B, name string, out []byte, counts map[string]int) {
	b.Helper()
	if bytes.Contains(out, []byte("not-a-real-password")) {
		b.Fatalf("%s: a secret got through", name)
	}
	if name == "json" {
		got := map[string]int{}
		sc := bufio.NewScanner(bytes.NewReader(out))
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			var ev struct{ Type string }
			if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
				b.Fatalf("json: %v in %q", err, sc.Text())
			}
			got[ev.Type]++
		}
		// Phases are not in the JSON stream (transfers are, a few a second).
		for _, k := range []string{"run_start", "step_start", "host_result", "step_end", "recap", "warning"} {
			if got[k] != counts[k] {
				b.Fatalf("json: %d %s events, want %d", got[k], k, counts[k])
			}
		}
		return
	}
	text := string(out)
	if got := strings.Count(text, "STEP ["); got != counts["step_start"] {
		b.Fatalf("%s: %d steps drawn, want %d", name, got, counts["step_start"])
	}
	if !strings.Contains(text, "RECAP") || !strings.Contains(text, "oms-0099") {
		b.Fatalf("%s: no recap", name)
	}
	if results := len(resultLine.FindAllStringIndex(text, -1)); results != counts["host_result"] {
		b.Fatalf("%s: %d host lines, want %d", name, len(resultLine.FindAllStringIndex(text, -1)), counts["host_result"])
	}
}

func BenchmarkRender(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		evs, counts := recordedRun(n)
		if len(evs) != n {
			b.Fatalf("recorded %d events, want %d", len(evs), n)
		}
		for _, r := range renderers {
			b.Run(fmt.Sprintf("%s/events=%d", r.name, n), func(b *testing.B) {
				var buf bytes.Buffer
				s := r.new(&buf)
				for _, e := range evs {
					e.replay(s)
				}
				checkRendered(b, r.name, buf.Bytes(), counts)
				b.SetBytes(int64(buf.Len()))
				b.ReportAllocs()
				for b.Loop() {
					s := r.new(io.Discard)
					for _, e := range evs {
						e.replay(s)
					}
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/event")
			})
		}
	}
}
