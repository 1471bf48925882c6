package oms

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/omsrun/omsrun/internal/docker"
	"github.com/omsrun/omsrun/internal/transport"
	"github.com/omsrun/omsrun/modules"
)

// CMReady waits until CM is reachable the way a real CM can be: it has no
// health endpoint (docs/oms-facts.md H5), so its URL (the VIP's 8088) must
// answer HTTP with any status of its own, and on this host supervisord must
// run oms_drc_cm.
type CMReady struct{}

var _ modules.Module = (*CMReady)(nil)
var _ modules.Validator = (*CMReady)(nil)

// CMReadyArgs are the arguments of oms_cm_ready.
type CMReadyArgs struct {
	URL       string `hcl:"url"`
	Container string `hcl:"container,optional"`
	Timeout   string `hcl:"timeout,optional"`
}

// Doc describes the module.
func (*CMReady) Doc() modules.Doc {
	return modules.Doc{
		Name: "oms_cm_ready",
		Summary: "Wait until CM's URL (cm_url, the VIP's 8088) answers HTTP from the controller with any status but a balancer's 502/503/504, " +
			"and oms_drc_cm is RUNNING in this host's container.",
		Args: map[string]string{
			"url":       "CM's URL, e.g. http://10.0.0.100:8088 (probed from the controller)",
			"container": `the OMS container on this host (default "oms")`,
			"timeout":   "duration: give up after this long (default 5m)",
		},
	}
}

// NewArgs returns empty arguments.
func (*CMReady) NewArgs() any { return &CMReadyArgs{} }

// Validate checks the URL, the container name and the timeout.
func (*CMReady) Validate(args any) error {
	a := args.(*CMReadyArgs)
	var errs []error
	if !strings.HasPrefix(a.URL, "http://") && !strings.HasPrefix(a.URL, "https://") {
		errs = append(errs, fmt.Errorf("url: %q must start with http:// or https://", a.URL))
	}
	if a.Container != "" {
		if err := docker.CheckContainerName("container", a.Container); err != nil {
			errs = append(errs, err)
		}
	}
	if _, err := modules.ParseDuration("timeout", a.Timeout, 0); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// OnlyWaits says that Apply never changes the host.
func (*CMReady) OnlyWaits() bool { return true }

// Check probes once.
func (m *CMReady) Check(ctx context.Context, env *modules.Env, args any) (*modules.Plan, error) {
	a := args.(*CMReadyArgs)
	if err := m.probe(ctx, env, a); err == nil {
		return &modules.Plan{Summary: "CM answers at " + a.URL}, nil
	}
	timeout, _ := modules.ParseDuration("timeout", a.Timeout, 5*time.Minute)
	return &modules.Plan{Unknown: true, Summary: fmt.Sprintf("wait up to %s for CM at %s", timeout, a.URL)}, nil
}

// Apply probes every second until CM is ready or the timeout passes.
func (m *CMReady) Apply(ctx context.Context, env *modules.Env, args any, _ *modules.Plan) (*modules.Result, error) {
	a := args.(*CMReadyArgs)
	timeout, _ := modules.ParseDuration("timeout", a.Timeout, 5*time.Minute)
	start := time.Now()
	for {
		err := m.probe(ctx, env, a)
		if err == nil {
			return &modules.Result{Msg: fmt.Sprintf("CM answers at %s after %s", a.URL, time.Since(start).Round(100*time.Millisecond))}, nil
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("waiting for CM at %s: %w", a.URL, ctx.Err())
		}
		if time.Since(start) > timeout {
			return nil, fmt.Errorf("CM not ready within %s: %w", timeout, err)
		}
		env.Report.Phase(waitPhase("CM at "+a.URL, start, timeout))
		if err := modules.SleepCtx(ctx, time.Second); err != nil {
			return nil, fmt.Errorf("waiting for CM at %s: %w", a.URL, err)
		}
	}
}

func (*CMReady) probe(ctx context.Context, env *modules.Env, a *CMReadyArgs) error {
	container := a.Container
	if container == "" {
		container = "oms"
	}
	var d net.Dialer
	ans, err := getInsecure(ctx, d.DialContext, strings.TrimSuffix(a.URL, "/")+"/")
	if err != nil {
		return err
	}
	switch ans.Status {
	case http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		// The balancer's own answer: no node behind it is up.
		return fmt.Errorf("GET %s: %d from the balancer (no CM behind it)", a.URL, ans.Status)
	}
	res, err := env.Try(ctx, transport.Cmd{Argv: []string{"docker", "exec", container, "supervisorctl", "status", "oms_drc_cm"}})
	if err != nil {
		return err
	}
	if nr := programsNotRunning(string(res.Stdout), []string{"oms_drc_cm"}); len(nr) > 0 {
		return fmt.Errorf("on %s: %s", env.HostName, strings.Join(nr, ", "))
	}
	return nil
}
