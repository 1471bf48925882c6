package engine

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zclconf/go-cty/cty"

	"github.com/omsrun/omsrun/internal/playbook"
	"github.com/omsrun/omsrun/internal/secret"
	"github.com/omsrun/omsrun/internal/transport"
	"github.com/omsrun/omsrun/internal/transport/transporttest"
	"github.com/omsrun/omsrun/modules"
)

// dueReader reads on its host whether work is due (a file "due" there), as
// upgrade_check reads needs_stop: the later question's `when` reads it.
type dueReader struct{ readOnlyProbe }

func (*dueReader) Check(ctx context.Context, env *modules.Env, _ any) (*modules.Plan, error) {
	res, err := env.Host.Run(ctx, transport.Cmd{Argv: []string{"test", "-e", "due"}})
	return &modules.Plan{Summary: "read", Outputs: map[string]cty.Value{"due": cty.BoolVal(res.ExitCode == 0)}}, err
}

// TestLateQuestionWithoutTerminal: a question whose `when` reads what the
// hosts hold, with no terminal and no --yes. The run reads the hosts (under
// the run lock, so no other run changes them meanwhile) and then: when the
// question is due, refuses with "declined" (exit 5) having changed nothing,
// gives the locks back and writes result=declined in each audit line (it
// said result=ok); when nothing is due (a finished upgrade run again), it
// asks nothing and ends ok.
func TestLateQuestionWithoutTerminal(t *testing.T) {
	for _, tc := range []struct {
		name string
		due  bool
	}{
		{name: "due: refused", due: true},
		{name: "nothing due: runs", due: false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			inv := testInventory(2)
			conn := &localConn{hosts: map[string]*transporttest.Local{}}
			paths := map[string]lockPaths{}
			for _, h := range inv.Hosts {
				local, p, _ := lockLab(t)
				local.HostName = h.Name
				conn.hosts[h.Name], paths[h.Name] = local, p
				if tc.due {
					if err := os.WriteFile(filepath.Join(local.Dir, "due"), nil, 0o644); err != nil {
						t.Fatal(err)
					}
				}
			}
			read := step(t, "read", ``)
			read.Module = "read"
			change := step(t, "change", ``)
			change.Module = "toucher"
			change.Confirm = "stop every old node"
			change.When = when(t, `steps["read"][host.name].due`)
			pb := &playbook.Playbook{Path: "t.hcl", Vars: map[string]cty.Value{}, Locals: map[string]cty.Value{}, Steps: []*playbook.Step{read, change}, MaxFailPercentage: -1}
			r := &Runner{Playbook: pb, Inventory: inv, Conn: conn, Sink: &recorder{}, Redactor: secret.NewRedactor(),
				Opts:      Options{Forks: 2, Targets: inv.Hosts, Lock: true},
				lockPaths: func(h string) lockPaths { return paths[h] },
				Modules: func(name string) (modules.Module, bool) {
					if name == "read" {
						return &dueReader{}, true
					}
					return &toucher{}, true
				}}
			recap, err := r.Run(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			want := "result=ok"
			if tc.due {
				want = "result=declined"
				if !strings.Contains(recap.Declined, "no terminal") || !strings.Contains(recap.Declined, "--yes") || !strings.Contains(recap.Declined, "nothing was changed") {
					t.Errorf("declined %q: want no terminal, --yes and nothing changed", recap.Declined)
				}
			} else if recap.Declined != "" || recap.Failed() {
				t.Fatalf("nothing due, yet the run ended %q %+v", recap.Declined, recap.Hosts)
			}
			for _, h := range inv.Hosts {
				if _, err := os.Stat(filepath.Join(conn.hosts[h.Name].Dir, "changed")); err == nil {
					t.Errorf("%s changed", h.Name)
				}
				if _, err := os.Stat(paths[h.Name].File); !os.IsNotExist(err) {
					t.Errorf("%s: this run's lock outlived it (%v)", h.Name, err)
				}
				if audit := readFile(t, paths[h.Name].AuditFile); !strings.Contains(audit, want) {
					t.Errorf("%s's audit line %q lacks %s", h.Name, audit, want)
				}
			}
		})
	}
}
