package output

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/zclconf/go-cty/cty"

	"github.com/omsrun/omsrun/internal/engine"
	"github.com/omsrun/omsrun/internal/secret"
	"github.com/omsrun/omsrun/modules"
)

// TestTextSaysWhatHappened: the same diff on several hosts is printed once
// naming them; a step says why it skips the hosts an earlier step failed
// on (not "no hosts matched"); a stopped rollout names the hosts it did not
// reach, at the step and in the recap.
func TestTextSaysWhatHappened(t *testing.T) {
	var b bytes.Buffer
	tx := NewText(&b, secret.NewRedactor(), false, 0, nil)
	tx.StepStart(engine.StepInfo{Name: "config.yaml", Module: "render_config", Hosts: []string{"oms1", "oms2", "oms3"}})
	for _, h := range []string{"oms1", "oms2", "oms3"} {
		d := "-cm_location: 100\n+cm_location: 101"
		if h == "oms3" {
			d = "+cm_nodes: [oms3]"
		}
		tx.HostResult(engine.HostResult{Step: "config.yaml", Host: h, Status: engine.StatusChanged, Diff: d})
	}
	tx.StepEnd(engine.StepEnd{Name: "config.yaml"})
	roll := engine.StepEnd{Name: "reload", NotReached: []string{"oms3"}}
	tx.StepStart(engine.StepInfo{Name: "reload", Module: "supervisor_restart", Hosts: []string{"oms1", "oms3"}, Dropped: []engine.Dropped{{Host: "oms2", Why: `failed at step "config.yaml"`}}})
	tx.HostResult(engine.HostResult{Step: "reload", Host: "oms1", Status: engine.StatusFailed, Error: "not healthy"})
	tx.StepEnd(roll)
	tx.StepStart(engine.StepInfo{Name: "VIP", Module: "wait_for", Dropped: []engine.Dropped{{Host: "oms1", Why: `failed at step "reload"`}, {Host: "oms2", Why: `failed at step "config.yaml"`}}})
	tx.StepEnd(engine.StepEnd{Name: "VIP"})
	tx.Recap(engine.Recap{Steps: []engine.StepEnd{{Name: "config.yaml"}, roll}})
	out := b.String()
	if n := strings.Count(out, "+cm_location: 101"); n != 1 {
		t.Errorf("the diff shared by oms1 and oms2 printed %d times:\n%s", n, out)
	}
	for _, want := range []string{
		"diff on oms1, oms2:",
		"diff on oms3:",
		`skipped     oms2: failed at step "config.yaml"`,
		`skipped     oms1: failed at step "reload"`,
		"rollout stopped: not reached oms3",
		`rollout "reload" stopped: not reached oms3`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in:\n%s", want, out)
		}
	}
	if strings.Contains(out, "no hosts matched") {
		t.Errorf("a step that skips failed hosts says no hosts matched:\n%s", out)
	}
}

// TestWaitShowsItsTimeOnce: a wait's progress line carries its own time,
// so the line shows one time, not "(0s) (0s)".
func TestWaitShowsItsTimeOnce(t *testing.T) {
	var b bytes.Buffer
	p := NewProgress(&b, false)
	p.interval = 0
	p.Update(engine.Progress{Step: "s", Host: "oms1", Phase: modules.WaitPhase("http://vip:8088", time.Now(), time.Minute)})
	p.Update(engine.Progress{Step: "s", Host: "oms2", Phase: "docker run oms"})
	out := b.String()
	if !strings.Contains(out, "oms1: waiting for http://vip:8088 0s / 1m0s\n") || !strings.Contains(out, "oms2: docker run oms (0s)\n") {
		t.Errorf("progress lines:\n%s", out)
	}
}

// TestJSONStatusFields: --json carries a module's outputs as fields and the
// exit code and unreached hosts in the recap.
func TestJSONStatusFields(t *testing.T) {
	var b bytes.Buffer
	j := &JSON{W: &b, Redactor: secret.NewRedactor()}
	j.HostResult(engine.HostResult{Step: "status", Host: "oms1", Status: engine.StatusOK, Msg: "running  oms:1   programs 5/5 RUNNING",
		Outputs: map[string]cty.Value{"state": cty.StringVal("running"), "programs": cty.NumberIntVal(5), "healthy": cty.True}})
	j.Recap(engine.Recap{ExitCode: 6, Steps: []engine.StepEnd{{Name: "reload", NotReached: []string{"oms3"}}}})
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	var res struct {
		Outputs struct {
			State    string `json:"state"`
			Programs int    `json:"programs"`
			Healthy  bool   `json:"healthy"`
		} `json:"outputs"`
	}
	if err := json.Unmarshal([]byte(lines[0]), &res); err != nil || res.Outputs.State != "running" || res.Outputs.Programs != 5 || !res.Outputs.Healthy {
		t.Errorf("host_result outputs %+v (%v): %s", res.Outputs, err, lines[0])
	}
	var recap struct {
		ExitCode   *int                `json:"exit_code"`
		NotReached map[string][]string `json:"not_reached"`
	}
	if err := json.Unmarshal([]byte(lines[1]), &recap); err != nil || recap.ExitCode == nil || *recap.ExitCode != 6 || len(recap.NotReached["reload"]) != 1 {
		t.Errorf("recap %+v (%v): %s", recap, err, lines[1])
	}
}

// TestStoppedRecapNamesUnreached: a run stopped between steps names, in the
// text recap and the JSON recap, the hosts the remaining steps would have
// run on.
func TestStoppedRecapNamesUnreached(t *testing.T) {
	rc := engine.Recap{ExitCode: 2, Stopped: `any_errors_fatal: a host failed step "reload OMS, first node"`, NotReached: []string{"oms2", "oms3"}}
	var b bytes.Buffer
	NewText(&b, secret.NewRedactor(), false, 0, nil).Recap(rc)
	if want := "not reached (the remaining steps would have run on them): oms2, oms3"; !strings.Contains(b.String(), want) {
		t.Errorf("text recap lacks %q:\n%s", want, b.String())
	}
	b.Reset()
	(&JSON{W: &b, Redactor: secret.NewRedactor()}).Recap(rc)
	var recap struct {
		Stopped   string   `json:"stopped"`
		Unreached []string `json:"unreached"`
	}
	if err := json.Unmarshal(b.Bytes(), &recap); err != nil || recap.Stopped == "" || strings.Join(recap.Unreached, ",") != "oms2,oms3" {
		t.Errorf("JSON recap %+v (%v): %s", recap, err, b.String())
	}
}
