package oms

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/zclconf/go-cty/cty"

	"github.com/omsrun/omsrun/internal/docker"
	"github.com/omsrun/omsrun/internal/probe"
	"github.com/omsrun/omsrun/internal/transport"
	"github.com/omsrun/omsrun/modules"
)

// HealthySince reads since when a node's OMS has been healthy and says by
// when a load balancer can have taken it back into rotation (settle after
// that). omsrun cannot ask the user's balancer; what it can read is the
// node: container_run and supervisor_restart write the loaded-config record
// (config_loaded) once OMS is healthy, so its mtime is when the node became
// healthy, and docker's StartedAt tells whether the container was started
// again after that, outside omsrun. Ages are computed against the node's own
// clock and turned into a time on the control machine's, never compared
// across clocks. A rolling step's first restart waits for these readings
// (await_balancer). Read-only.
type HealthySince struct{}

var _ modules.Module = (*HealthySince)(nil)
var _ modules.ReadOnly = (*HealthySince)(nil)
var _ modules.Validator = (*HealthySince)(nil)

// HealthySinceArgs are healthy_since's arguments.
type HealthySinceArgs struct {
	Container  string `hcl:"container,optional"`
	ConfigPath string `hcl:"config_path,optional"`
	Settle     string `hcl:"settle,optional"`
	HostIP     string `hcl:"host_ip,optional"`
	HealthPort int    `hcl:"health_port,optional"`
}

// Doc implements modules.Module.
func (*HealthySince) Doc() modules.Doc {
	return modules.Doc{Name: "healthy_since",
		Summary: "Read-only: since when the node's OMS has been healthy, and by when a load balancer can have it back in rotation (outputs `settled_at`, for await_balancer, and `healthy`: running and GET /oms/health answering now).",
		Args: map[string]string{
			"container":   "container name (default `oms`)",
			"config_path": "config.yaml on the host; its loaded-config record's time is when OMS became healthy (default /data/oms/config.yaml)",
			"settle":      "duration: how long after a node is healthy the balancer can have it back, its (rise + 1) × inter (default 0: nothing to wait for)",
			"host_ip":     "where GET /oms/health is probed when the record cannot say (default: the host's inventory address)",
			"health_port": "the nginx port, where GET /oms/health answers (default 8089)",
		}}
}

// NewArgs implements modules.Module.
func (*HealthySince) NewArgs() any { return &HealthySinceArgs{} }

// ReadOnly implements modules.ReadOnly.
func (*HealthySince) ReadOnly() bool { return true }

func (a *HealthySinceArgs) fill(env *modules.Env) {
	if a.Container == "" {
		a.Container = "oms"
	}
	if a.ConfigPath == "" {
		a.ConfigPath = defaultMountDir + "/config.yaml"
	}
	if a.HostIP == "" && env != nil {
		a.HostIP = env.Address
	}
	if a.HealthPort == 0 {
		a.HealthPort = defaultNginxPort
	}
}

// Validate implements modules.Validator.
func (*HealthySince) Validate(args any) error {
	a := args.(*HealthySinceArgs)
	a.fill(nil)
	if !strings.HasPrefix(a.ConfigPath, "/") {
		return fmt.Errorf("config_path must be an absolute path (%q)", a.ConfigPath)
	}
	if err := docker.CheckContainerName("container", a.Container); err != nil {
		return err
	}
	_, err := modules.ParseDuration("settle", a.Settle, 0)
	return err
}

// sinceReading is what one command read on the node, all on its clock.
type sinceReading struct {
	running bool
	now     time.Time
	started time.Time // the container's start; zero when unreadable
	record  time.Time // the loaded-config record's mtime; zero when none
}

// readSince reads the node's clock, the container and the record together.
// The clock first: read before the others, it makes every age a little
// shorter, so a wait is never cut short by the time the command took.
func readSince(ctx context.Context, env *modules.Env, a *HealthySinceArgs) (sinceReading, error) {
	script := fmt.Sprintf("printf 'now=%%s\\n' \"$(date +%%s.%%N)\"; "+
		"printf 'state=%%s\\n' \"$(%s)\"; "+
		"printf 'record=%%s\\n' \"$(date -r %s +%%s.%%N 2>/dev/null)\"",
		inspectScript("{{.State.Running}} {{.State.StartedAt}}", a.Container), transport.Quote(loadedRecord(a.ConfigPath)))
	res, err := env.Try(ctx, transport.Cmd{Script: script})
	if err != nil {
		return sinceReading{}, err
	}
	kv := map[string]string{}
	for _, line := range strings.Split(string(res.Stdout), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			kv[k] = strings.TrimSpace(v)
		}
	}
	if err := inspectFailure(a.Container, kv["state"]); err != nil {
		return sinceReading{}, err
	}
	running, started, _ := strings.Cut(kv["state"], " ")
	r := sinceReading{running: running == "true"}
	var ok bool
	if r.now, ok = parseUnix(kv["now"]); !ok {
		return sinceReading{}, fmt.Errorf("reading the node's clock: unexpected answer %q from date +%%s.%%N", kv["now"])
	}
	r.started, _ = time.Parse(time.RFC3339Nano, started)
	r.record, _ = parseUnix(kv["record"])
	return r, nil
}

// parseUnix reads `date +%s.%N` ("1733486400.123456789"); a date without
// %N (busybox prints it as is) is not read, and the caller is conservative.
func parseUnix(s string) (time.Time, bool) {
	secs, frac, _ := strings.Cut(s, ".")
	sec, err := strconv.ParseInt(secs, 10, 64)
	if err != nil || sec <= 0 {
		return time.Time{}, false
	}
	var nsec int64
	if frac != "" {
		if len(frac) > 9 {
			frac = frac[:9]
		}
		n, err := strconv.ParseInt(frac+strings.Repeat("0", 9-len(frac)), 10, 64)
		if err != nil {
			return time.Time{}, false
		}
		nsec = n
	}
	return time.Unix(sec, nsec), true
}

// Check implements modules.Module: all of it is a read.
func (*HealthySince) Check(ctx context.Context, env *modules.Env, args any) (*modules.Plan, error) {
	a := args.(*HealthySinceArgs)
	a.fill(env)
	settle, _ := modules.ParseDuration("settle", a.Settle, 0)
	r, err := readSince(ctx, env, a)
	if err != nil {
		return nil, err
	}
	// Probed once, for the wait and for `healthy`: the rollout refuses to
	// take a node out while another is not serving (oms-balancer.hcl).
	var health error = errNotRunning
	if r.running {
		health = omsHealth(ctx, probe.Bounded(env.Host.Dial), hostPort(a.HostIP, a.HealthPort))
	}
	remaining, summary := settleLeft(r, settle, func() error { return health })
	at := ""
	if remaining > 0 {
		// A time on this machine's clock: a later step compares it with
		// its own now, whatever the node's clock says.
		at = time.Now().Add(remaining).Format(time.RFC3339Nano)
	}
	return &modules.Plan{Summary: summary, Outputs: map[string]cty.Value{"settled_at": cty.StringVal(at), "healthy": cty.BoolVal(health == nil)}}, nil
}

// settleLeft is how long until the balancer can have the node back, and
// why. When the container started after the record (restarted outside
// omsrun) or there is no record, since when it is healthy is unknown: a
// node healthy now counts a full settle from now; one not healthy is not in
// rotation, and waiting would not put it there.
func settleLeft(r sinceReading, settle time.Duration, healthy func() error) (time.Duration, string) {
	if !r.running {
		return 0, "container not running: not in the load balancer"
	}
	if settle <= 0 {
		return 0, "running (no balancer_settle to wait for)"
	}
	if !r.record.IsZero() && !r.started.IsZero() && !r.record.Before(r.started) {
		// A record ahead of the node's clock (set back since) counts as just written.
		age := max(r.now.Sub(r.record), 0)
		if left := settle - age; left > 0 {
			return left, fmt.Sprintf("healthy for %s: the load balancer can have it back in %s", round(age), round(left))
		}
		return 0, fmt.Sprintf("healthy for %s: back in the load balancer", round(age))
	}
	if err := healthy(); err != nil {
		return 0, "not healthy now, so not in the load balancer: nothing to wait for (" + err.Error() + ")"
	}
	why := "no record of when it became healthy"
	if !r.record.IsZero() {
		why = "started again after omsrun last saw it healthy"
	}
	return settle, fmt.Sprintf("healthy, %s: the load balancer can have it back in %s, counted from now", why, round(settle))
}

// errNotRunning is the health of a node whose container is not running.
var errNotRunning = errors.New("container not running")

func round(d time.Duration) time.Duration { return d.Round(100 * time.Millisecond) }

// Apply implements modules.Module: nothing to change.
func (*HealthySince) Apply(_ context.Context, _ *modules.Env, _ any, plan *modules.Plan) (*modules.Result, error) {
	return &modules.Result{Msg: plan.Summary, Outputs: plan.Outputs}, nil
}

// balancerWait is what a rolling module waits before it takes its node out
// of service: until the load balancer can have every other node back
// (healthy_since's settled_at). The module's own node is left out: it goes
// down anyway, and its own settle follows its restart.
type balancerWait struct {
	until time.Time
	hosts []string
}

// balancerWaitFor reads await_balancer (healthy_since's outputs by host).
func balancerWaitFor(readings cty.Value, self string) (balancerWait, error) {
	var w balancerWait
	if readings == cty.NilVal || readings.IsNull() || !readings.IsWhollyKnown() {
		return w, nil
	}
	readings, _ = readings.UnmarkDeep()
	if !readings.CanIterateElements() {
		return w, errors.New("await_balancer: want a healthy_since step's outputs (steps[\"…\"])")
	}
	now := time.Now()
	for it := readings.ElementIterator(); it.Next(); {
		k, v := it.Element()
		if k.Type() != cty.String || k.AsString() == self {
			continue
		}
		if !v.Type().IsObjectType() || !v.Type().HasAttribute("settled_at") {
			return w, fmt.Errorf("await_balancer: %s has no settled_at: want a healthy_since step's outputs", k.AsString())
		}
		at := v.GetAttr("settled_at")
		if at.IsNull() || at.Type() != cty.String || at.AsString() == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339Nano, at.AsString())
		if err != nil {
			return w, fmt.Errorf("await_balancer: %s: settled_at %q: %w", k.AsString(), at.AsString(), err)
		}
		if t.After(now) {
			w.hosts = append(w.hosts, k.AsString())
			if t.After(w.until) {
				w.until = t
			}
		}
	}
	return w, nil
}

func (w balancerWait) what() string {
	return "the load balancer to take back " + strings.Join(w.hosts, ", ")
}

// note is the plan's words for the wait, "" when there is none.
func (w balancerWait) note() string {
	left := time.Until(w.until)
	if len(w.hosts) == 0 || left <= 0 {
		return ""
	}
	return fmt.Sprintf("first waits %s for %s", round(left), w.what())
}

// wait waits, showing it as a wait phase (which carries its own time), and
// says what it waited; "" when there was nothing to wait for.
func (w balancerWait) wait(ctx context.Context, env *modules.Env) (string, error) {
	total := time.Until(w.until)
	if len(w.hosts) == 0 || total <= 0 {
		return "", nil
	}
	start := time.Now()
	for {
		left := time.Until(w.until)
		if left <= 0 {
			return fmt.Sprintf("waited %s for %s", round(time.Since(start)), w.what()), nil
		}
		env.Report.Phase(modules.WaitPhase(w.what(), start, round(total)))
		if err := modules.SleepCtx(ctx, min(left, time.Second)); err != nil {
			return "", fmt.Errorf("waiting for %s: %w", w.what(), err)
		}
	}
}

// joinNote joins a summary or message with a wait's words, leaving out
// the empty ones.
func joinNote(parts ...string) string {
	var out []string
	for _, p := range parts {
		if p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, "; ")
}

// awaitBalancerDoc documents await_balancer, the same argument of every
// module that takes a node out of service in a rolling step.
const awaitBalancerDoc = "a healthy_since step's outputs (steps[\"…\"]): before this node goes out of service, wait until the load balancer can have every other node there back in rotation (nothing when they have been healthy long enough; nothing in check mode)"
