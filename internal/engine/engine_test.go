package engine

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"

	"github.com/omsrun/omsrun/internal/playbook"
	"github.com/omsrun/omsrun/internal/secret"
	"github.com/omsrun/omsrun/internal/transport"
	"github.com/omsrun/omsrun/inventory"
	"github.com/omsrun/omsrun/modules"
)

// fakeHost is a host that never runs anything; the probe module does its work locally.
type fakeHost struct{ name string }

func (f *fakeHost) Name() string { return f.name }
func (f *fakeHost) Run(context.Context, transport.Cmd) (transport.Result, error) {
	return transport.Result{}, nil
}
func (f *fakeHost) Dial(context.Context, string, string) (net.Conn, error) {
	return nil, errors.New("no dial")
}

type fakeConn struct{ down map[string]bool }

func (c *fakeConn) Get(_ context.Context, h *inventory.Host) (transport.Host, error) {
	if c.down[h.Name] {
		return nil, &transport.UnreachableError{Host: h.Name, Err: errors.New("connection refused")}
	}
	return &fakeHost{name: h.Name}, nil
}

// probe records when each host ran each step, and fails or panics on request.
type probe struct{ log *eventLog }

type probeArgs struct {
	Sleep   string   `hcl:"sleep,optional"`
	FailOn  []string `hcl:"fail_on,optional"`
	PanicOn []string `hcl:"panic_on,optional"`
	Change  bool     `hcl:"change,optional"`
	Secret  string   `hcl:"echo,optional"`
}

type eventLog struct {
	mu      sync.Mutex
	events  []string // "start step host" / "end step host"
	running atomic.Int32
	peak    atomic.Int32
	tries   map[string]int
}

func (l *eventLog) add(s string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events = append(l.events, s)
}

func (p *probe) Doc() modules.Doc { return modules.Doc{Name: "probe"} }
func (p *probe) NewArgs() any     { return &probeArgs{} }
func (p *probe) Check(_ context.Context, env *modules.Env, args any) (*modules.Plan, error) {
	return &modules.Plan{Change: args.(*probeArgs).Change, Unknown: true, Summary: "probe"}, nil
}
func (p *probe) Apply(ctx context.Context, env *modules.Env, a any, _ *modules.Plan) (*modules.Result, error) {
	args := a.(*probeArgs)
	n := p.log.running.Add(1)
	defer p.log.running.Add(-1)
	for {
		peak := p.log.peak.Load()
		if n <= peak || p.log.peak.CompareAndSwap(peak, n) {
			break
		}
	}
	p.log.add("start " + env.HostName)
	defer p.log.add("end " + env.HostName)
	if args.Sleep != "" {
		d, _ := time.ParseDuration(args.Sleep)
		select {
		case <-time.After(d):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	p.log.mu.Lock()
	if p.log.tries == nil {
		p.log.tries = map[string]int{}
	}
	p.log.tries[env.HostName]++
	p.log.mu.Unlock()
	for _, h := range args.PanicOn {
		if h == env.HostName {
			panic("boom on " + h)
		}
	}
	for _, h := range args.FailOn {
		if h == env.HostName {
			return nil, fmt.Errorf("probe failed on %s", h)
		}
	}
	return &modules.Result{Changed: args.Change, Msg: "said " + args.Secret}, nil
}

// recorder is a Sink keeping every host result.
type recorder struct {
	mu      sync.Mutex
	results []HostResult
	recap   Recap
}

func (r *recorder) RunStart(RunInfo)   {}
func (r *recorder) StepStart(StepInfo) {}
func (r *recorder) Progress(Progress)  {}
func (r *recorder) StepEnd(StepEnd)    {}
func (r *recorder) Recap(rc Recap)     { r.recap = rc }
func (r *recorder) HostResult(h HostResult) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.results = append(r.results, h)
}

func (r *recorder) status(step, host string) Status {
	for _, h := range r.results {
		if h.Step == step && h.Host == host {
			return h.Status
		}
	}
	return ""
}

func testInventory(n int) *inventory.Inventory {
	inv := &inventory.Inventory{Groups: map[string]*inventory.Group{"all": {Name: "all"}}}
	for i := 1; i <= n; i++ {
		name := fmt.Sprintf("h%d", i)
		inv.Hosts = append(inv.Hosts, &inventory.Host{Name: name, Address: "10.0.0." + fmt.Sprint(i), Port: 22, Groups: []string{"all"}})
		inv.Groups["all"].Hosts = append(inv.Groups["all"].Hosts, name)
	}
	return inv
}

func step(t *testing.T, name, body string) *playbook.Step {
	t.Helper()
	f, diags := hclsyntax.ParseConfig([]byte(body), name+".hcl", hcl.InitialPos)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	return &playbook.Step{Name: name, Module: "probe", Hosts: "all", Body: f.Body}
}

func run(t *testing.T, inv *inventory.Inventory, steps []*playbook.Step, opts Options, down ...string) (*recorder, *eventLog, *Recap) {
	t.Helper()
	log := &eventLog{}
	rec := &recorder{}
	d := map[string]bool{}
	for _, h := range down {
		d[h] = true
	}
	if opts.Targets == nil {
		opts.Targets = inv.Hosts
	}
	if opts.Forks == 0 {
		opts.Forks = 10
	}
	pb := &playbook.Playbook{Path: "test.hcl", Vars: map[string]cty.Value{}, Locals: map[string]cty.Value{}, Steps: steps, MaxFailPercentage: -1}
	r := &Runner{Playbook: pb, Inventory: inv, Conn: &fakeConn{down: d}, Sink: rec, Redactor: secret.NewRedactor(), Opts: opts,
		Modules: func(string) (modules.Module, bool) { return &probe{log: log}, true }}
	recap, err := r.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return rec, log, recap
}

func TestBarrierOrder(t *testing.T) {
	inv := testInventory(4)
	// h1 is slow in step one; no host may start step two before h1 ends step one.
	steps := []*playbook.Step{step(t, "one", `sleep = "60ms"`), step(t, "two", `sleep = "1ms"`)}
	_, log, _ := run(t, inv, steps, Options{})
	// The first 8 events are step one's 4 starts and 4 ends, in some order.
	first := append([]string(nil), log.events[:8]...)
	sort.Strings(first)
	want := []string{"end h1", "end h2", "end h3", "end h4", "start h1", "start h2", "start h3", "start h4"}
	if fmt.Sprint(first) != fmt.Sprint(want) {
		t.Fatalf("step one did not finish on every host before step two began: %v", log.events)
	}
}

func TestForksBound(t *testing.T) {
	inv := testInventory(9)
	_, log, _ := run(t, inv, []*playbook.Step{step(t, "s", `sleep = "30ms"`)}, Options{Forks: 3})
	if p := log.peak.Load(); p != 3 {
		t.Fatalf("peak concurrency %d, want 3", p)
	}
}

func TestFailedHostDropsOut(t *testing.T) {
	inv := testInventory(3)
	steps := []*playbook.Step{step(t, "one", `fail_on = ["h2"]`), step(t, "two", `change = true`)}
	rec, _, recap := run(t, inv, steps, Options{})
	if got := rec.status("one", "h2"); got != StatusFailed {
		t.Fatalf("h2 step one: %s", got)
	}
	if got := rec.status("two", "h2"); got != "" {
		t.Fatalf("h2 ran step two after failing: %s", got)
	}
	if got := rec.status("two", "h3"); got != StatusChanged {
		t.Fatalf("h3 step two: %s", got)
	}
	if !recap.Failed() {
		t.Fatal("recap does not say failed")
	}
}

func TestPanicBecomesHostFailure(t *testing.T) {
	inv := testInventory(3)
	rec, _, _ := run(t, inv, []*playbook.Step{step(t, "p", `panic_on = ["h1"]`)}, Options{})
	if rec.status("p", "h1") != StatusFailed || rec.status("p", "h2") != StatusOK {
		t.Fatalf("statuses: %+v", rec.results)
	}
}

func TestUnreachableHost(t *testing.T) {
	inv := testInventory(3)
	rec, _, recap := run(t, inv, []*playbook.Step{step(t, "s", ``)}, Options{}, "h3")
	if rec.status("s", "h3") != StatusUnreachable || rec.status("s", "h1") != StatusOK {
		t.Fatalf("statuses: %+v", rec.results)
	}
	if recap.Failed() || !recap.Unreachable() {
		t.Fatalf("recap: %+v", recap)
	}
}

func TestSerialBatches(t *testing.T) {
	inv := testInventory(4)
	st := step(t, "roll", `sleep = "20ms"`)
	st.Serial = playbook.Serial{Size: 1}
	_, log, _ := run(t, inv, []*playbook.Step{st}, Options{})
	if p := log.peak.Load(); p != 1 {
		t.Fatalf("serial 1 ran %d at once", p)
	}
	// A failure in one batch stops the rollout: later hosts keep their state.
	st2 := step(t, "roll", `fail_on = ["h2"]`)
	st2.Serial = playbook.Serial{Percent: 50}
	rec, _, _ := run(t, inv, []*playbook.Step{st2}, Options{})
	if rec.status("roll", "h3") != "" || rec.status("roll", "h1") != StatusOK {
		t.Fatalf("rollout did not stop after the failed batch: %+v", rec.results)
	}
}

func TestRetriesAndIgnoreErrors(t *testing.T) {
	inv := testInventory(2)
	st := step(t, "flaky", `fail_on = ["h1"]`)
	st.Retries = 2
	st.IgnoreErrors = true
	rec, log, recap := run(t, inv, []*playbook.Step{st, step(t, "after", ``)}, Options{})
	// Three tries of "flaky", then one of "after".
	if log.tries["h1"] != 4 {
		t.Fatalf("h1 ran %d times, want 3 tries of flaky and 1 of after", log.tries["h1"])
	}
	for _, r := range rec.results {
		if r.Step == "flaky" && r.Host == "h1" && r.Attempts != 3 {
			t.Fatalf("attempts %d, want 3", r.Attempts)
		}
	}
	if rec.status("flaky", "h1") != StatusIgnored || rec.status("after", "h1") != StatusOK {
		t.Fatalf("ignored failure should keep the host: %+v", rec.results)
	}
	if recap.Failed() {
		t.Fatal("an ignored failure counted as failed")
	}
}

func TestCheckModeNeverApplies(t *testing.T) {
	inv := testInventory(2)
	rec, log, _ := run(t, inv, []*playbook.Step{step(t, "s", `change = true`)}, Options{Check: true})
	if len(log.events) != 0 {
		t.Fatalf("apply ran in check mode: %v", log.events)
	}
	if rec.status("s", "h1") != StatusChanged {
		t.Fatalf("check mode should announce the change: %+v", rec.results)
	}
}

func TestSecretScrubbedFromResults(t *testing.T) {
	inv := testInventory(1)
	pb := &playbook.Playbook{Path: "t.hcl", Vars: map[string]cty.Value{"pw": cty.StringVal("hunter2-secret").Mark(secret.Mark)}, Locals: map[string]cty.Value{}, MaxFailPercentage: -1}
	pb.Steps = []*playbook.Step{step(t, "s", `echo = var.pw`)}
	rec := &recorder{}
	r := &Runner{Playbook: pb, Inventory: inv, Conn: &fakeConn{}, Sink: rec, Redactor: secret.NewRedactor(), Opts: Options{Forks: 1, Targets: inv.Hosts},
		Modules: func(string) (modules.Module, bool) { return &probe{log: &eventLog{}}, true }}
	if _, err := r.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := rec.results[0].Msg; got != "said "+secret.Mask {
		t.Fatalf("secret leaked or mangled: %q", got)
	}
}
