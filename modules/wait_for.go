package modules

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/omsrun/omsrun/internal/probe"
)

// WaitFor waits until a TCP port accepts connections or an HTTP URL answers
// as expected. By default the probe starts on the host itself (a TCP
// connection opened through the SSH connection), so it sees what the host
// sees and needs no curl or bash there.
type WaitFor struct{}

var _ Module = (*WaitFor)(nil)
var _ Validator = (*WaitFor)(nil)

// WaitForArgs are the arguments of wait_for.
type WaitForArgs struct {
	Host     string `hcl:"host,optional"`
	Port     int    `hcl:"port,optional"`
	URL      string `hcl:"url,optional"`
	Status   int    `hcl:"status,optional"`
	Body     string `hcl:"body,optional"`
	Timeout  string `hcl:"timeout,optional"`
	Interval string `hcl:"interval,optional"`
	Via      string `hcl:"via,optional"`
}

// Doc describes the module.
func (*WaitFor) Doc() Doc {
	return Doc{
		Name:    "wait_for",
		Summary: "Wait until a TCP port accepts connections or an HTTP URL answers with the expected status (and body).",
		Args: map[string]string{
			"host":     "TCP target host (default: the host's own address)",
			"port":     "TCP port to wait for (give port or url)",
			"url":      "HTTP(S) URL to GET (give port or url)",
			"status":   "expected HTTP status (default 200)",
			"body":     "text the HTTP answer must contain",
			"timeout":  "duration: give up after this long (default 60s)",
			"interval": "duration: pause between probes (default 1s)",
			"via":      `"host" (default: probe from the host, over the SSH connection) or "controller"`,
		},
	}
}

// NewArgs returns empty arguments.
func (*WaitFor) NewArgs() any { return &WaitForArgs{} }

// Validate checks the target and the durations.
func (*WaitFor) Validate(args any) error {
	a := args.(*WaitForArgs)
	var errs []error
	switch {
	case a.URL == "" && a.Port == 0:
		errs = append(errs, errors.New("give port (TCP) or url (HTTP)"))
	case a.URL != "" && a.Port != 0:
		errs = append(errs, errors.New("give port or url, not both"))
	case a.Port < 0 || a.Port > 65535:
		errs = append(errs, fmt.Errorf("port: %d is not a TCP port", a.Port))
	case a.URL != "" && !strings.HasPrefix(a.URL, "http://") && !strings.HasPrefix(a.URL, "https://"):
		errs = append(errs, fmt.Errorf("url: %q must start with http:// or https://", a.URL))
	}
	if _, err := ParseDuration("timeout", a.Timeout, 0); err != nil {
		errs = append(errs, err)
	}
	if _, err := ParseDuration("interval", a.Interval, 0); err != nil {
		errs = append(errs, err)
	}
	if a.Via != "" && a.Via != "host" && a.Via != "controller" {
		errs = append(errs, fmt.Errorf("via: %q is neither \"host\" nor \"controller\"", a.Via))
	}
	return errors.Join(errs...)
}

// Check probes once: when the target already answers there is nothing to
// wait for; otherwise only waiting can tell.
func (w *WaitFor) Check(ctx context.Context, env *Env, args any) (*Plan, error) {
	a := args.(*WaitForArgs)
	dial, err := probe.Via(env.Host.Dial, a.Via)
	if err != nil {
		return nil, err
	}
	what := w.target(env, a)
	if err := w.probe(ctx, dial, env, a); err == nil {
		return &Plan{Summary: what + " answers"}, nil
	}
	timeout, _ := ParseDuration("timeout", a.Timeout, 60*time.Second)
	return &Plan{Unknown: true, Summary: fmt.Sprintf("wait up to %s for %s", timeout, what)}, nil
}

// Apply probes until the target answers or the timeout passes; waiting
// changes nothing on the host, so the result is never "changed".
func (w *WaitFor) Apply(ctx context.Context, env *Env, args any, _ *Plan) (*Result, error) {
	a := args.(*WaitForArgs)
	timeout, _ := ParseDuration("timeout", a.Timeout, 60*time.Second)
	interval, _ := ParseDuration("interval", a.Interval, time.Second)
	dial, err := probe.Via(env.Host.Dial, a.Via)
	if err != nil {
		return nil, err
	}
	what := w.target(env, a)
	start := time.Now()
	deadline := start.Add(timeout)
	for {
		err := w.probe(ctx, dial, env, a)
		if err == nil {
			return &Result{Msg: fmt.Sprintf("%s answered after %s", what, time.Since(start).Round(100*time.Millisecond))}, nil
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("waiting for %s: %w", what, ctx.Err())
		}
		if time.Now().Add(interval).After(deadline) {
			return nil, fmt.Errorf("%s did not answer within %s: %w", what, timeout, err)
		}
		env.Report.Phase(WaitPhase(what, start, timeout))
		if err := SleepCtx(ctx, interval); err != nil {
			return nil, fmt.Errorf("waiting for %s: %w", what, err)
		}
	}
}

// OnlyWaits says that Apply never changes the host, it only waits. The
// engine can use it (through any interface{ OnlyWaits() bool }) to report a
// "would wait" plan as ok in check mode, so that check mode announces
// exactly the changes a real run makes.
func (*WaitFor) OnlyWaits() bool { return true }

func (*WaitFor) target(env *Env, a *WaitForArgs) string {
	if a.URL != "" {
		return a.URL
	}
	host := a.Host
	if host == "" {
		host = env.Address
	}
	return net.JoinHostPort(host, strconv.Itoa(a.Port))
}

// probe makes one attempt and says why it failed.
func (w *WaitFor) probe(ctx context.Context, dial probe.DialFunc, env *Env, a *WaitForArgs) error {
	const probeTimeout = 5 * time.Second
	if a.URL == "" {
		return probe.TCP(ctx, dial, w.target(env, a), probeTimeout)
	}
	ans, err := probe.HTTPGet(ctx, dial, a.URL, "", "", probeTimeout)
	if err != nil {
		return err
	}
	want := a.Status
	if want == 0 {
		want = 200
	}
	if ans.Status != want {
		return fmt.Errorf("GET %s: status %d, want %d", a.URL, ans.Status, want)
	}
	if a.Body != "" && !strings.Contains(string(ans.Body), a.Body) {
		return fmt.Errorf("GET %s: the answer does not contain %q", a.URL, a.Body)
	}
	return nil
}
