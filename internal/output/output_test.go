package output

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/omsrun/omsrun/internal/engine"
	"github.com/omsrun/omsrun/internal/secret"
)

// feed plays one small run into a sink.
func feed(s engine.Sink) {
	s.RunStart(engine.RunInfo{Playbook: "p.hcl", Hosts: []string{"a", "b"}, Steps: 1})
	s.StepStart(engine.StepInfo{Name: "write", Module: "copy", Hosts: []string{"a", "b"}})
	s.Progress(engine.Progress{Step: "write", Host: "a", Log: "$ cat > /etc/x\nsaid s3cret-pw"})
	s.HostResult(engine.HostResult{Step: "write", Host: "a", Status: engine.StatusChanged, Duration: time.Second, Msg: "wrote", Diff: "-old\n+new s3cret-pw"})
	s.HostResult(engine.HostResult{Step: "write", Host: "b", Status: engine.StatusFailed, Error: "cat: denied\nstderr tail"})
	s.StepEnd(engine.StepEnd{Name: "write", Duration: time.Second, Slowest: "a", SlowestDuration: time.Second})
	s.Recap(engine.Recap{Hosts: []engine.HostTally{{Host: "a", Changed: 1}, {Host: "b", Failed: 1}},
		Steps: []engine.StepEnd{{Name: "write", Duration: time.Second, Slowest: "a", SlowestDuration: time.Second}}, Duration: 2 * time.Second})
}

func TestTextOutput(t *testing.T) {
	var b bytes.Buffer
	r := secret.NewRedactor()
	r.Add("s3cret-pw")
	feed(NewText(&b, r, false, 1, nil))
	out := b.String()
	for _, want := range []string{"STEP [write] copy", "changed     a", "failed      b", "cat: denied", "+new ********", "$ cat > /etc/x", "RECAP", "changed=1", "failed=1", "slowest a (1s)"} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in:\n%s", want, out)
		}
	}
	if strings.Contains(out, "s3cret-pw") || strings.Contains(out, "\x1b[") {
		t.Fatalf("secret or colour in plain output:\n%s", out)
	}
}

func TestJSONOutput(t *testing.T) {
	var b bytes.Buffer
	r := secret.NewRedactor()
	r.Add("s3cret-pw")
	feed(&JSON{W: &b, Redactor: r})
	var types []string
	for _, line := range strings.Split(strings.TrimSpace(b.String()), "\n") {
		var ev map[string]any
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Fatalf("not one JSON object per line: %q", line)
		}
		types = append(types, ev["type"].(string))
	}
	if got := strings.Join(types, ","); got != "run_start,step_start,command,host_result,host_result,step_end,recap" {
		t.Fatalf("event types: %s", got)
	}
	if strings.Contains(b.String(), "s3cret-pw") {
		t.Fatal("secret in JSON")
	}
}
