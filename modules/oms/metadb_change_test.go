package oms

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/omsrun/omsrun/modules"
	"github.com/omsrun/omsrun/modules/modtest"
)

// TestMetadbCheckRefusesADatabaseChange: a running cluster pointed at other
// databases than its config.yaml names is refused before the MetaDB is
// even asked, naming both sets; --yes does not confirm it, a yes at the
// terminal or allow_database_change does; the same names in another order
// are no change.
func TestMetadbCheckRefusesADatabaseChange(t *testing.T) {
	args := func() *MetadbCheckArgs {
		// Port 1 on loopback refuses at once: getting that far means the
		// change was let through.
		return &MetadbCheckArgs{Host: "127.0.0.1", Port: 1, User: "oms", Password: "x",
			Databases:        []string{"new_rm", "new_cm", "new_cm_hb"},
			RunningDatabases: []string{"oms_rm", "oms_cm", "oms_cm_hb", "oms_rm", "oms_cm", "oms_cm_hb"}}
	}
	env, _ := modtest.NewEnv(&modtest.Host{})
	env.Yes = true
	_, err := (&MetadbCheck{}).Check(context.Background(), env, args())
	for _, want := range []string{"uses the databases oms_cm, oms_cm_hb, oms_rm", "point it at new_rm, new_cm, new_cm_hb", "-e allow_database_change=true"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("with --yes: err %v, want %q", err, want)
		}
	}

	var asked string
	env.Yes = false
	env.Confirm = func(q string) (bool, error) { asked = q; return true, nil }
	_, err = (&MetadbCheck{}).Check(context.Background(), env, args())
	if !strings.Contains(asked, "oms_rm") || !strings.Contains(asked, "new_rm") || err == nil || strings.Contains(err.Error(), "allow_database_change") {
		t.Errorf("a yes at the terminal: asked %q, err %v", asked, err)
	}
	env.Confirm = func(string) (bool, error) { return false, nil }
	var no *modules.Declined
	if _, err = (&MetadbCheck{}).Check(context.Background(), env, args()); !errors.As(err, &no) || !strings.Contains(err.Error(), "nothing was changed") {
		t.Errorf("a no at the terminal: err %v, want a modules.Declined (exit 5)", err)
	}

	env.Confirm = nil
	a := args()
	a.AllowDatabaseChange = true
	if _, err = (&MetadbCheck{}).Check(context.Background(), env, a); err == nil || strings.Contains(err.Error(), "allow_database_change") {
		t.Errorf("allow_database_change: err %v", err)
	}
	a = args()
	a.Databases = []string{"oms_cm_hb", "oms_rm", "oms_cm"}
	if _, err = (&MetadbCheck{}).Check(context.Background(), env, a); err == nil || strings.Contains(err.Error(), "allow_database_change") {
		t.Errorf("the same names: err %v", err)
	}
}
