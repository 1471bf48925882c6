package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/omsrun/omsrun/internal/lab"
)

// stepTime is one step_end event of omsrun's JSON output.
type stepTime struct {
	Step    string  `json:"step"`
	MS      float64 `json:"duration_ms"`
	Slowest string  `json:"slowest_host"`
}

// deployRun is one run of the deploy playbook.
type deployRun struct {
	Wall    time.Duration
	Steps   []stepTime
	Changed int
	Bytes   uint64
}

func (b *bench) deployOnce(ctx context.Context) (deployRun, error) {
	before, err := vethBytes(b.hosts)
	if err != nil {
		return deployRun{}, err
	}
	p, err := run(ctx, procOpts{}, b.omsrun, filepath.Join(b.repo, "playbooks", "deploy.hcl"),
		"-i", b.inventory, "-e", "@"+filepath.Join(b.repo, ".lab", "vars.hcl"), "--json")
	if err != nil {
		return deployRun{}, err
	}
	after, err := vethBytes(b.hosts)
	d := deployRun{Wall: p.Wall, Bytes: after - before}
	sc := bufio.NewScanner(bytes.NewReader(p.Stdout))
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var ev struct {
			Type   string `json:"type"`
			Status string `json:"status"`
			stepTime
		}
		if json.Unmarshal(sc.Bytes(), &ev) != nil {
			continue
		}
		switch ev.Type {
		case "step_end":
			d.Steps = append(d.Steps, ev.stepTime)
		case "host_result":
			if ev.Status == "changed" {
				d.Changed++
			}
		}
	}
	if len(d.Steps) == 0 {
		return d, fmt.Errorf("no step_end events in omsrun's output:\n%s", tail(string(p.Stdout), 10))
	}
	return d, err
}

// deploy is part 3: playbooks/deploy.hcl on bare hosts, then again with
// nothing to change. The hosts are reset before and after, so the part
// leaves the lab as bare as it found it.
func (b *bench) deploy(ctx context.Context) error {
	logf("  resetting the lab hosts to bare")
	if err := lab.Reset(ctx, b.hosts, true); err != nil {
		return fmt.Errorf("reset: %w", err)
	}
	defer func() {
		if err := lab.Reset(context.Background(), b.hosts, true); err != nil {
			logf("  reset after deploy: %v", err)
		}
	}()
	first, err := b.deployOnce(ctx)
	if err != nil {
		return fmt.Errorf("deploy: %w", err)
	}
	logf("  deploy: %s, %d host results changed", secs(first.Wall), first.Changed)
	again, err := b.deployOnce(ctx)
	if err != nil {
		return fmt.Errorf("deploy re-run: %w", err)
	}
	logf("  re-run: %s, %d host results changed", secs(again.Wall), again.Changed)

	inSteps := func(d deployRun) time.Duration {
		var sum float64
		for _, s := range d.Steps {
			sum += s.MS
		}
		return time.Duration(sum * float64(time.Millisecond))
	}
	n := len(b.hosts)
	b.add(row{Part: "3", Measure: fmt.Sprintf("deploy on %d bare hosts: whole process vs the steps' own time", n),
		Omsrun: secs(first.Wall), Ref: secs(inSteps(first)), Ratio: ratio(float64(first.Wall) / float64(inSteps(first)))})
	b.add(row{Part: "3", Measure: "deploy re-run, no changes: wall vs first run",
		Omsrun: secs(again.Wall), Ref: secs(first.Wall), Ratio: ratio(float64(again.Wall) / float64(first.Wall)),
		Target: "0 changed", Verdict: verdict(again.Changed == 0)})
	b.add(row{Part: "3", Measure: "deploy re-run: bytes on the veths vs first run",
		Omsrun: fmt.Sprintf("%.1f KB", float64(again.Bytes)/1e3), Ref: mb(int64(first.Bytes)),
		Ratio: ratio(float64(again.Bytes) / float64(first.Bytes))})

	b.obdRatio(first)

	var sb strings.Builder
	fmt.Fprintf(&sb, "Part 3, per step (ms, slowest host), from the step_end events; %d/%d host results changed:\n\n", first.Changed, again.Changed)
	fmt.Fprintf(&sb, "| step | first run | re-run |\n|---|---|---|\n")
	rerun := map[string]stepTime{}
	for _, s := range again.Steps {
		rerun[s.Step] = s
	}
	for _, s := range first.Steps {
		r, ok := rerun[s.Step]
		rs := "skipped"
		if ok {
			rs = fmt.Sprintf("%.0f (%s)", r.MS, r.Slowest)
		}
		fmt.Fprintf(&sb, "| %s | %.0f (%s) | %s |\n", s.Step, s.MS, s.Slowest, rs)
	}
	b.note("%s", sb.String())
	return nil
}

// obdSleep is what obd waits after starting each OMS node before it starts
// the next (docs/oms-facts.md H6).
const obdSleep = 60 * time.Second

// obdRatio compares omsrun's container start on a first deployment (one
// node alone until healthy, then the rest at once) with obd's sequence on
// the same lab: every node started in turn, n × (start-to-healthy + 60 s),
// taking start-to-healthy from the node omsrun started alone.
func (b *bench) obdRatio(first deployRun) {
	var alone, rest time.Duration
	for _, s := range first.Steps {
		d := time.Duration(s.MS * float64(time.Millisecond))
		switch s.Step {
		case "container (first new node)":
			alone = d
		case "container (other new nodes)":
			rest = d
		}
	}
	if alone == 0 {
		b.note("Part 3: no \"container (first new node)\" step in the first run, so no comparison with obd's start sequence.")
		return
	}
	n := len(b.hosts)
	obd := time.Duration(n) * (alone + obdSleep)
	b.add(row{Part: "3", Measure: fmt.Sprintf("%d-node first start (first node alone, then the rest) vs obd's n × (start-to-healthy + 60 s)", n),
		Omsrun: secs(alone + rest), Ref: secs(obd), Ratio: ratio(float64(alone+rest) / float64(obd)),
		Target: "< 1", Verdict: verdict(alone+rest < obd)})
}
