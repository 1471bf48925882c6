package engine

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/zclconf/go-cty/cty"

	"github.com/omsrun/omsrun/internal/playbook"
	"github.com/omsrun/omsrun/internal/secret"
	"github.com/omsrun/omsrun/internal/transport"
	"github.com/omsrun/omsrun/internal/transport/transporttest"
	"github.com/omsrun/omsrun/inventory"
	"github.com/omsrun/omsrun/modules"
)

// localConn hands out one local host per inventory host, each in its own folder.
type localConn struct {
	hosts map[string]*transporttest.Local
}

func (c *localConn) Get(_ context.Context, h *inventory.Host) (transport.Host, error) {
	return c.hosts[h.Name], nil
}

// toucher changes its host: it leaves a file there (through the host's
// connection, so a refused lock stops it).
type toucher struct{ probe }

func (*toucher) Check(context.Context, *modules.Env, any) (*modules.Plan, error) {
	return &modules.Plan{Change: true, Summary: "would touch"}, nil
}

func (*toucher) Apply(ctx context.Context, env *modules.Env, _ any, _ *modules.Plan) (*modules.Result, error) {
	res, err := env.Host.Run(ctx, transport.Cmd{Argv: []string{"touch", "changed"}})
	if err == nil && res.ExitCode != 0 {
		err = os.ErrInvalid
	}
	return &modules.Result{Changed: true}, err
}

// reader only reads its host, through the connection (so the lock rides on it).
type reader struct{ readOnlyProbe }

func (*reader) Check(ctx context.Context, env *modules.Env, _ any) (*modules.Plan, error) {
	_, err := env.Host.Run(ctx, transport.Cmd{Argv: []string{"true"}})
	return &modules.Plan{Summary: "read"}, err
}

// TestLockHeldOnOneHostStopsTheRunBeforeAnyChange: another run holds h1.
// Whether the run reads first (the lock rides on the read, which h1 refuses)
// or changes at once (the gate takes every lock first), h2 and h3 are not
// changed: the run stops before its first change, h1 fails naming the
// holder (exit 2), the recap names the holder and the hosts not reached,
// and the locks this run took are given back.
func TestLockHeldOnOneHostStopsTheRunBeforeAnyChange(t *testing.T) {
	other := "holder=alice@laptop pid=4242 start=2026-01-01T00:00:00Z playbook=deploy.hcl"
	for _, tc := range []struct {
		name    string
		steps   []string // modules, in order
		holdH1  bool
		stopped bool
	}{
		{name: "changes at once", steps: []string{"toucher", "toucher"}, holdH1: true, stopped: true},
		{name: "reads first", steps: []string{"reader", "toucher"}, holdH1: true, stopped: true},
		{name: "no other run", steps: []string{"reader", "toucher"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			inv := testInventory(3)
			conn := &localConn{hosts: map[string]*transporttest.Local{}}
			paths := map[string]lockPaths{}
			for _, h := range inv.Hosts {
				local, p, _ := lockLab(t)
				local.HostName = h.Name
				conn.hosts[h.Name], paths[h.Name] = local, p
			}
			if tc.holdH1 {
				if err := os.MkdirAll(paths["h1"].Dir, 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(paths["h1"].File, []byte(other+"\n"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			var steps []*playbook.Step
			for i, m := range tc.steps {
				st := step(t, m+string(rune('1'+i)), ``)
				st.Module = m
				steps = append(steps, st)
			}
			rec := &recorder{}
			pb := &playbook.Playbook{Path: "t.hcl", Vars: map[string]cty.Value{}, Locals: map[string]cty.Value{}, Steps: steps, MaxFailPercentage: -1}
			r := &Runner{Playbook: pb, Inventory: inv, Conn: conn, Sink: rec, Redactor: secret.NewRedactor(),
				Opts:      Options{Forks: 3, Targets: inv.Hosts, Lock: true},
				lockPaths: func(h string) lockPaths { return paths[h] },
				Modules: func(name string) (modules.Module, bool) {
					if name == "reader" {
						return &reader{}, true
					}
					return &toucher{}, true
				}}
			recap, err := r.Run(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			for _, h := range inv.Hosts {
				_, statErr := os.Stat(filepath.Join(conn.hosts[h.Name].Dir, "changed"))
				if changed := statErr == nil; changed == tc.stopped {
					t.Errorf("%s changed: %v", h.Name, changed)
				}
			}
			if !tc.stopped {
				if recap.Stopped != "" || recap.Failed() {
					t.Fatalf("a run no one else holds stopped: %q %+v", recap.Stopped, recap.Hosts)
				}
				return
			}
			if !recap.Failed() || recap.Hosts[0].Failed != 1 || recap.Hosts[1].Failed+recap.Hosts[2].Failed != 0 {
				t.Errorf("want h1 failed (exit 2) and only h1: %+v", recap.Hosts)
			}
			var h1Err string
			for _, res := range rec.results {
				if res.Host == "h1" && res.Status == StatusFailed {
					h1Err = res.Error
				}
			}
			if !strings.Contains(h1Err, "alice@laptop") || !strings.Contains(h1Err, "omsrun unlock") {
				t.Errorf("h1's failure should name the holder and the way out: %q", h1Err)
			}
			if !strings.Contains(recap.Stopped, "h1 ("+other+")") || !strings.Contains(recap.Stopped, "changed nothing") {
				t.Errorf("stopped %q: want the holder and that nothing changed", recap.Stopped)
			}
			if got := strings.Join(recap.NotReached, ","); got != "h2,h3" {
				t.Errorf("not reached %q, want h2,h3", got)
			}
			if got := readFile(t, paths["h1"].File); got != other+"\n" {
				t.Errorf("h1's lock was changed: %q", got)
			}
			for _, h := range []string{"h2", "h3"} {
				if _, err := os.Stat(paths[h].File); !os.IsNotExist(err) {
					t.Errorf("%s: this run's lock outlived it (%v)", h, err)
				}
			}
		})
	}
}

// hiccup fails its host's first `fails` commands as a lost connection would,
// before the lock's acquisition can answer.
type hiccup struct {
	*transporttest.Local
	mu    sync.Mutex
	fails int
	err   error // what each failed command returns: a lost connection when nil
	tries int
}

func (h *hiccup) Run(ctx context.Context, c transport.Cmd) (transport.Result, error) {
	h.mu.Lock()
	h.tries++
	fail := h.fails > 0
	if fail {
		h.fails--
	}
	h.mu.Unlock()
	if fail && h.err != nil {
		return transport.Result{}, h.err
	}
	if fail {
		return transport.Result{}, errors.New("ssh: connection lost")
	}
	return h.Local.Run(ctx, c)
}

// hiccupConn hands out h2 behind a hiccup.
type hiccupConn struct {
	localConn
	h2 *hiccup
}

func (c *hiccupConn) Get(ctx context.Context, h *inventory.Host) (transport.Host, error) {
	if h.Name == "h2" {
		return c.h2, nil
	}
	return c.localConn.Get(ctx, h)
}

// TestLockGateUnansweredStopsTheRun: the gate's acquisition on h2 gets no
// answer (the connection drops before the lock answers). One hiccup is
// retried and the run goes on; a host that does not answer twice stops the
// run before its first change, naming the host and why, with nothing
// changed anywhere and this run's locks given back — instead of changing h1
// and h3 while h2 may later be refused. sudo's refusal is not tried again
// (it would only add sudo's delay) and its remedy reaches the recap.
func TestLockGateUnansweredStopsTheRun(t *testing.T) {
	for _, tc := range []struct {
		name    string
		fails   int
		err     error
		stopped bool
		why     string
		tries   int // commands h2 was sent, the release's included
	}{
		{name: "one hiccup is retried", fails: 1, tries: 4},
		{name: "no answer twice stops", fails: 2, stopped: true, why: "connection lost", tries: 3}, // the release runs: an unanswered acquisition may have taken it
		{name: "sudo's refusal stops at once", fails: 5, err: &transport.BecomeError{Host: "h2", NeedPassword: true}, stopped: true, why: "--ask-become-pass", tries: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			inv := testInventory(3)
			conn := &hiccupConn{localConn: localConn{hosts: map[string]*transporttest.Local{}}}
			paths := map[string]lockPaths{}
			for _, h := range inv.Hosts {
				local, p, _ := lockLab(t)
				local.HostName = h.Name
				conn.hosts[h.Name], paths[h.Name] = local, p
			}
			conn.h2 = &hiccup{Local: conn.hosts["h2"], fails: tc.fails, err: tc.err}
			st := step(t, "touch", ``)
			st.Module = "toucher"
			rec := &recorder{}
			pb := &playbook.Playbook{Path: "t.hcl", Vars: map[string]cty.Value{}, Locals: map[string]cty.Value{}, Steps: []*playbook.Step{st}, MaxFailPercentage: -1}
			r := &Runner{Playbook: pb, Inventory: inv, Conn: conn, Sink: rec, Redactor: secret.NewRedactor(),
				Opts:      Options{Forks: 3, Targets: inv.Hosts, Lock: true},
				lockPaths: func(h string) lockPaths { return paths[h] },
				Modules:   func(string) (modules.Module, bool) { return &toucher{}, true }}
			recap, err := r.Run(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			for _, h := range inv.Hosts {
				_, statErr := os.Stat(filepath.Join(conn.hosts[h.Name].Dir, "changed"))
				if changed := statErr == nil; changed == tc.stopped {
					t.Errorf("%s changed: %v", h.Name, changed)
				}
				if _, err := os.Stat(paths[h.Name].File); !os.IsNotExist(err) {
					t.Errorf("%s: this run's lock outlived it (%v)", h.Name, err)
				}
			}
			if conn.h2.tries != tc.tries {
				t.Errorf("h2 was sent %d commands, want %d", conn.h2.tries, tc.tries)
			}
			if !tc.stopped {
				if recap.Stopped != "" || recap.Failed() {
					t.Fatalf("one hiccup stopped the run: %q %+v", recap.Stopped, recap.Hosts)
				}
				return
			}
			if !strings.Contains(recap.Stopped, "could not be taken on h2") || !strings.Contains(recap.Stopped, tc.why) || !strings.Contains(recap.Stopped, "changed nothing") {
				t.Errorf("stopped %q: want h2, why, and that nothing changed", recap.Stopped)
			}
			if recap.Hosts[1].Failed != 1 || recap.Hosts[0].Failed+recap.Hosts[2].Failed != 0 {
				t.Errorf("want h2 failed and only h2: %+v", recap.Hosts)
			}
		})
	}
}
