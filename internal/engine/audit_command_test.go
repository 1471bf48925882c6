package engine

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/zclconf/go-cty/cty"

	"github.com/omsrun/omsrun/internal/playbook"
	"github.com/omsrun/omsrun/internal/secret"
	"github.com/omsrun/omsrun/internal/transport"
	"github.com/omsrun/omsrun/inventory"
	"github.com/omsrun/omsrun/modules"
)

// scriptHost keeps every script it is asked to run.
type scriptHost struct {
	fakeHost
	mu      sync.Mutex
	scripts []string
}

func (h *scriptHost) Run(_ context.Context, c transport.Cmd) (transport.Result, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.scripts = append(h.scripts, c.Script)
	return transport.Result{}, nil
}

type scriptConn struct{ h *scriptHost }

func (c scriptConn) Get(context.Context, *inventory.Host) (transport.Host, error) { return c.h, nil }

// TestAuditLineNamesCommand: an exec's audit line on the host says what ran
// (Options.Command), not only that the "playbook" was exec; a playbook's
// line is as before.
func TestAuditLineNamesCommand(t *testing.T) {
	for _, tc := range []struct{ command, want string }{
		{"-- docker rm -f oms", `playbook=exec command="-- docker rm -f oms" result=ok`},
		{"", `playbook=exec result=ok`},
	} {
		inv := testInventory(1)
		h := &scriptHost{fakeHost: fakeHost{name: "h1"}}
		pb := &playbook.Playbook{Path: "exec", Vars: map[string]cty.Value{}, Locals: map[string]cty.Value{}, MaxFailPercentage: -1,
			Steps: []*playbook.Step{step(t, "command", `change = true`)}}
		r := &Runner{Playbook: pb, Inventory: inv, Conn: scriptConn{h}, Sink: &recorder{}, Redactor: secret.NewRedactor(),
			Opts:    Options{Forks: 1, Targets: inv.Hosts, Audit: true, Command: tc.command},
			Modules: func(string) (modules.Module, bool) { return &probe{log: &eventLog{}}, true }}
		if _, err := r.Run(context.Background()); err != nil {
			t.Fatal(err)
		}
		audit := ""
		for _, s := range h.scripts {
			if strings.Contains(s, "audit.log") {
				audit = s
			}
		}
		if !strings.Contains(audit, tc.want) {
			t.Errorf("command %q: the audit script %q does not hold %q", tc.command, audit, tc.want)
		}
	}
}
