package oms

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/zclconf/go-cty/cty"

	"github.com/omsrun/omsrun/modules"
	"github.com/omsrun/omsrun/modules/modtest"
)

// TestSettleLeft: how long until the balancer can have a node back, from
// what was read on it, all on the node's clock.
func TestSettleLeft(t *testing.T) {
	now := time.Unix(1_000_000, 0)
	started := now.Add(-time.Hour)
	healthy := func() error { return nil }
	down := func() error { return errors.New("connection refused") }
	cases := []struct {
		name    string
		r       sinceReading
		health  func() error
		want    time.Duration
		summary string
	}{
		{"not running", sinceReading{now: now}, healthy, 0, "not running"},
		{"healthy 2s ago", sinceReading{running: true, now: now, started: started, record: now.Add(-2 * time.Second)}, healthy, 4 * time.Second, "healthy for 2s: the load balancer can have it back in 4s"},
		{"healthy long ago", sinceReading{running: true, now: now, started: started, record: now.Add(-10 * time.Minute)}, down, 0, "back in the load balancer"},
		// The record is written after the start, within the same second
		// by a supervisor_restart's own reload too: it counts.
		{"record at the start", sinceReading{running: true, now: now, started: now.Add(-time.Second), record: now.Add(-time.Second)}, healthy, 5 * time.Second, "healthy for 1s"},
		{"record ahead of the clock", sinceReading{running: true, now: now, started: started, record: now.Add(time.Minute)}, healthy, 6 * time.Second, "healthy for 0s"},
		// docker restart (or a reboot) after omsrun saw it healthy: unknown
		// since when, so a full settle from now, when it is healthy now.
		{"restarted outside omsrun", sinceReading{running: true, now: now, started: now.Add(-time.Second), record: now.Add(-time.Hour)}, healthy, 6 * time.Second, "started again after omsrun last saw it healthy"},
		{"no record", sinceReading{running: true, now: now, started: started}, healthy, 6 * time.Second, "no record of when it became healthy"},
		{"unknown and not healthy", sinceReading{running: true, now: now, started: started}, down, 0, "not healthy now"},
		{"no settle", sinceReading{running: true, now: now, started: started}, nil, 0, "no balancer_settle"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			settle := 6 * time.Second
			if c.health == nil {
				settle = 0
			}
			got, summary := settleLeft(c.r, settle, c.health)
			if got != c.want || !strings.Contains(summary, c.summary) {
				t.Errorf("settleLeft = %s, %q; want %s, %q", got, summary, c.want, c.summary)
			}
		})
	}
}

// TestHealthySinceCheck reads the node in one command and turns the age on
// the node's clock into a time on this machine's.
func TestHealthySinceCheck(t *testing.T) {
	h := (&modtest.Host{}).On("date +%s.%N", 0, "now=1000000.5\nstate=true 1970-01-12T13:00:00.25Z\nrecord=1000000.0\n", "")
	env, _ := modtest.NewEnv(h)
	args := &HealthySinceArgs{Settle: "6s", ConfigPath: "/srv/oms/config.yaml"}
	if err := (&HealthySince{}).Validate(args); err != nil {
		t.Fatal(err)
	}
	before := time.Now()
	plan, err := (&HealthySince{}).Check(context.Background(), env, args)
	if err != nil {
		t.Fatal(err)
	}
	if plan.Change || !strings.Contains(plan.Summary, "healthy for 500ms") {
		t.Errorf("plan %+v", plan)
	}
	at, err := time.Parse(time.RFC3339Nano, plan.Outputs["settled_at"].AsString())
	if err != nil {
		t.Fatal(err)
	}
	if d := at.Sub(before); d < 5500*time.Millisecond || d > 6*time.Second {
		t.Errorf("settled_at %s after the read, want 5.5s", d)
	}
	if cmds := h.Commands(); len(cmds) != 1 || !strings.Contains(cmds[0], "/srv/oms/config.yaml.loaded-sha256") {
		t.Errorf("commands %q", cmds)
	}

	// A clock that cannot be read is an error, not a guess.
	h = (&modtest.Host{}).On("date +%s.%N", 0, "now=%s.%N\nstate=true 1970-01-12T13:00:00Z\nrecord=\n", "")
	env, _ = modtest.NewEnv(h)
	if _, err := (&HealthySince{}).Check(context.Background(), env, &HealthySinceArgs{Settle: "6s"}); err == nil || !strings.Contains(err.Error(), "clock") {
		t.Errorf("err = %v", err)
	}
	// Unknown since when and not answering health: nothing to wait for.
	h = (&modtest.Host{}).On("date +%s.%N", 0, "now=1000000\nstate=true 1970-01-12T13:00:00Z\nrecord=\n", "")
	env, _ = modtest.NewEnv(h)
	plan, err = (&HealthySince{}).Check(context.Background(), env, &HealthySinceArgs{Settle: "6s"})
	if err != nil || plan.Outputs["settled_at"].AsString() != "" || !strings.Contains(plan.Summary, "not healthy now") || plan.Outputs["healthy"].True() {
		t.Errorf("plan %+v, err %v", plan, err)
	}
	// Not running: not serving, and not probed.
	h = (&modtest.Host{}).On("date +%s.%N", 0, "now=1000000\nstate=false 1970-01-12T13:00:00Z\nrecord=\n", "")
	env, _ = modtest.NewEnv(h)
	plan, err = (&HealthySince{}).Check(context.Background(), env, &HealthySinceArgs{Settle: "6s"})
	if err != nil || plan.Outputs["healthy"].True() || !strings.Contains(plan.Summary, "not running") {
		t.Errorf("plan %+v, err %v", plan, err)
	}
	// Known healthy on the probe: a full settle from now.
	srv := dkHealthServer(t, true)
	h = (&modtest.Host{Targets: map[string]string{"10.0.0.11:8089": srv.Listener.Addr().String()}}).
		On("date +%s.%N", 0, "now=1000000\nstate=true 1970-01-12T13:00:00Z\nrecord=\n", "")
	env, _ = modtest.NewEnv(h)
	plan, err = (&HealthySince{}).Check(context.Background(), env, &HealthySinceArgs{Settle: "6s"})
	if err != nil || plan.Outputs["settled_at"].AsString() == "" || !strings.Contains(plan.Summary, "counted from now") || !plan.Outputs["healthy"].True() {
		t.Errorf("plan %+v, err %v", plan, err)
	}
}

func readings(at map[string]time.Time) cty.Value {
	m := map[string]cty.Value{}
	for h, t := range at {
		s := ""
		if !t.IsZero() {
			s = t.Format(time.RFC3339Nano)
		}
		m[h] = cty.ObjectVal(map[string]cty.Value{"settled_at": cty.StringVal(s)})
	}
	return cty.ObjectVal(m)
}

// TestBalancerWaitFor: the wait is for the other nodes only, the latest of
// them, and none for readings already past.
func TestBalancerWaitFor(t *testing.T) {
	now := time.Now()
	w, err := balancerWaitFor(readings(map[string]time.Time{
		"h1": now.Add(time.Hour), // the node itself: it goes down anyway
		"h2": now.Add(3 * time.Second),
		"h3": now.Add(5 * time.Second),
		"h4": now.Add(-time.Second),
		"h5": {},
	}), "h1")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(w.hosts, " ") != "h2 h3" || !w.until.Equal(now.Add(5*time.Second).Round(0)) {
		t.Errorf("wait %+v", w)
	}
	if n := w.note(); !strings.HasPrefix(n, "first waits 5s for the load balancer to take back h2, h3") {
		t.Errorf("note %q", n)
	}
	for _, v := range []cty.Value{cty.NilVal, cty.NullVal(cty.DynamicPseudoType), cty.DynamicVal, cty.EmptyObjectVal} {
		if w, err := balancerWaitFor(v, "h1"); err != nil || len(w.hosts) != 0 || w.note() != "" {
			t.Errorf("%#v: %+v %v", v, w, err)
		}
	}
	for _, v := range []cty.Value{cty.StringVal("x"), cty.ObjectVal(map[string]cty.Value{"h2": cty.ObjectVal(map[string]cty.Value{"action": cty.StringVal("none")})})} {
		if _, err := balancerWaitFor(v, "h1"); err == nil || !strings.Contains(err.Error(), "healthy_since") {
			t.Errorf("%#v: err %v", v, err)
		}
	}
}

// TestAwaitBalancer: a module that takes its node out waits first, shows
// the wait as a wait phase and says so; check mode only says it would.
func TestAwaitBalancer(t *testing.T) {
	newHost := func() *modtest.Host {
		return (&modtest.Host{}).On("docker inspect", 0, "running\n", "").On("docker rm -f", 0, "", "")
	}
	h := newHost()
	env, rep := modtest.NewEnv(h)
	args := &ContainerRemoveArgs{AwaitBalancer: readings(map[string]time.Time{"h2": time.Now().Add(1500 * time.Millisecond)})}
	start := time.Now()
	plan, err := (&ContainerRemove{}).Check(context.Background(), env, args)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(plan.Summary, "first waits 1.") || !strings.Contains(plan.Summary, "take back h2") || time.Since(start) > time.Second {
		t.Errorf("check: %q after %s", plan.Summary, time.Since(start))
	}
	res, err := (&ContainerRemove{}).Apply(context.Background(), env, args, plan)
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 1500*time.Millisecond {
		t.Errorf("removed after %s, before the balancer could have h2 back", d)
	}
	if !strings.HasPrefix(res.Msg, "waited 1.") || !strings.Contains(res.Msg, "; removed container oms") {
		t.Errorf("msg %q", res.Msg)
	}
	if len(rep.Phases) == 0 || !modules.IsWaitPhase(rep.Phases[0]) || !strings.Contains(rep.Phases[0], "the load balancer to take back h2") {
		t.Errorf("phases %q", rep.Phases)
	}
	if last := h.Commands()[len(h.Commands())-1]; !strings.Contains(last, "docker rm -f") {
		t.Errorf("last command %q", last)
	}

	// Readings already past: no wait, no words about one.
	h = newHost()
	env, rep = modtest.NewEnv(h)
	args = &ContainerRemoveArgs{AwaitBalancer: readings(map[string]time.Time{"h2": time.Now().Add(-time.Second)})}
	_, res, err = modtest.RunBoth(t, &ContainerRemove{}, env, args)
	if err != nil || res.Msg != "removed container oms" || len(rep.Phases) != 0 {
		t.Errorf("res %+v, err %v, phases %q", res, err, rep.Phases)
	}

	// Interrupted while waiting: nothing is removed.
	h = newHost()
	env, _ = modtest.NewEnv(h)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	args = &ContainerRemoveArgs{AwaitBalancer: readings(map[string]time.Time{"h2": time.Now().Add(time.Minute)})}
	if _, err := (&ContainerRemove{}).Apply(ctx, env, args, &modules.Plan{Change: true}); err == nil || h.Ran("docker rm") {
		t.Errorf("err %v, commands %q", err, h.Commands())
	}
}
