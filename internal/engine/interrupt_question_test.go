package engine

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/zclconf/go-cty/cty"

	"github.com/omsrun/omsrun/internal/playbook"
	"github.com/omsrun/omsrun/internal/secret"
	"github.com/omsrun/omsrun/internal/transport"
	"github.com/omsrun/omsrun/internal/transport/transporttest"
	"github.com/omsrun/omsrun/modules"
)

// askingReader reads its host (the run lock rides on the read) and then
// asks, as metadb_check asks about existing databases mid-run.
type askingReader struct{ readOnlyProbe }

func (*askingReader) Check(ctx context.Context, env *modules.Env, _ any) (*modules.Plan, error) {
	if _, err := env.Host.Run(ctx, transport.Cmd{Argv: []string{"true"}}); err != nil {
		return nil, err
	}
	if _, err := env.Confirm("existing databases: go on?"); err != nil {
		return nil, fmt.Errorf("confirmation: %w", err)
	}
	return &modules.Plan{Summary: "read"}, nil
}

// TestCtrlCAtAModuleQuestion: Ctrl-C while a read-only step's question
// waits (the run lock held on the hosts it read) ends the run at once:
// the recap says interrupted, the later changing step runs nowhere, and
// every lock the run took is given back. (The terminal read that ends on
// Ctrl-C is the CLI's, TestCtrlCAtQuestions; here the question's function
// ends when the run's context does, as that read does.)
func TestCtrlCAtAModuleQuestion(t *testing.T) {
	inv := testInventory(2)
	conn := &localConn{hosts: map[string]*transporttest.Local{}}
	paths := map[string]lockPaths{}
	for _, h := range inv.Hosts {
		local, p, _ := lockLab(t)
		local.HostName = h.Name
		conn.hosts[h.Name], paths[h.Name] = local, p
	}
	ask := step(t, "check MetaDB", ``)
	ask.Module = "asker"
	change := step(t, "change", ``)
	change.Module = "toucher"
	pb := &playbook.Playbook{Path: "t.hcl", Vars: map[string]cty.Value{}, Locals: map[string]cty.Value{},
		Steps: []*playbook.Step{ask, change}, MaxFailPercentage: -1}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var once sync.Once
	heldAtQuestion := false
	confirm := func(string) (bool, error) {
		once.Do(func() {
			for _, p := range paths {
				if _, err := os.Stat(p.File); err == nil {
					heldAtQuestion = true
				}
			}
			cancel() // the operator's Ctrl-C
		})
		<-ctx.Done()
		return false, errors.New("interrupted at the question")
	}
	rec := &recorder{}
	r := &Runner{Playbook: pb, Inventory: inv, Conn: conn, Sink: rec, Redactor: secret.NewRedactor(),
		Opts:      Options{Forks: 2, Targets: inv.Hosts, Lock: true, Confirm: confirm},
		lockPaths: func(h string) lockPaths { return paths[h] },
		Modules: func(name string) (modules.Module, bool) {
			if name == "asker" {
				return &askingReader{}, true
			}
			return &toucher{}, true
		}}
	start := time.Now()
	recap, err := r.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("the run took %s after Ctrl-C", d)
	}
	if !heldAtQuestion {
		t.Errorf("no run lock was held while the question waited: the test does not show their release")
	}
	if !recap.Interrupted || recap.Declined != "" {
		t.Errorf("recap: interrupted %v, declined %q; want interrupted only", recap.Interrupted, recap.Declined)
	}
	for _, h := range inv.Hosts {
		if _, err := os.Stat(filepath.Join(conn.hosts[h.Name].Dir, "changed")); err == nil {
			t.Errorf("%s was changed after Ctrl-C", h.Name)
		}
		if _, err := os.Stat(paths[h.Name].File); err == nil {
			t.Errorf("%s: the run lock outlived the run", h.Name)
		}
	}
}
