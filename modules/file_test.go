package modules_test

import (
	"context"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"testing"

	"github.com/omsrun/omsrun/internal/transport/transporttest"
	"github.com/omsrun/omsrun/modules"
	"github.com/omsrun/omsrun/modules/modtest"
)

func TestFileValidate(t *testing.T) {
	tests := []struct {
		name string
		args modules.FileArgs
		want []string
	}{
		{name: "dir", args: modules.FileArgs{Path: "/data/x", State: "directory", Mode: cfgPtr("0750")}},
		{name: "root", args: modules.FileArgs{Path: "/", State: "absent"}, want: []string{"path:"}},
		{name: "relative", args: modules.FileArgs{Path: "data", State: "directory"}, want: []string{"path:"}},
		{name: "bad state", args: modules.FileArgs{Path: "/x", State: "touch"}, want: []string{"state:"}},
		{name: "link without src", args: modules.FileArgs{Path: "/x", State: "link"}, want: []string{"src:"}},
		{name: "src without link", args: modules.FileArgs{Path: "/x", State: "directory", Src: cfgPtr("/y")}, want: []string{"src:"}},
		{name: "mode on link", args: modules.FileArgs{Path: "/x", State: "link", Src: cfgPtr("/y"), Mode: cfgPtr("0644")}, want: []string{"mode:"}},
		{name: "owner on absent", args: modules.FileArgs{Path: "/x", State: "absent", Owner: cfgPtr("root")}, want: []string{"owner:"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := (&modules.File{}).Validate(&tt.args)
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			for _, w := range tt.want {
				if err == nil || !strings.Contains(err.Error(), w) {
					t.Errorf("err = %v; want %q", err, w)
				}
			}
		})
	}
}

// fileStep runs check then apply and returns whether it changed; a second
// check must then find nothing to do.
func fileStep(t *testing.T, env *modules.Env, a *modules.FileArgs) bool {
	t.Helper()
	m := &modules.File{}
	if err := m.Validate(a); err != nil {
		t.Fatal(err)
	}
	p, res, err := modtest.RunBoth(t, m, env, a)
	if err != nil {
		t.Fatal(err)
	}
	if p2, err := m.Check(context.Background(), env, a); err != nil || p2.Change {
		t.Fatalf("not converged after %s: %+v %v", p.Summary, p2, err)
	}
	return res != nil && res.Changed
}

func TestFileStates(t *testing.T) {
	h := transporttest.NewLocal(t)
	env := modtest.LocalEnv(h, "10.0.0.2")
	dir := filepath.Join(h.Dir, "data", "influx")
	me, _ := user.Current()

	// Check never writes.
	p, err := (&modules.File{}).Check(context.Background(), env, &modules.FileArgs{Path: dir, State: "directory"})
	if err != nil || !p.Change || !strings.Contains(p.Diff, "-absent") {
		t.Fatalf("plan %+v %v", p, err)
	}
	if _, err := os.Stat(dir); err == nil {
		t.Fatal("check created the directory")
	}
	if !fileStep(t, env, &modules.FileArgs{Path: dir, State: "directory", Mode: cfgPtr("0750")}) {
		t.Fatal("directory not created")
	}
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() || fi.Mode().Perm() != 0o750 {
		t.Fatalf("dir: %v %v", fi, err)
	}
	if fileStep(t, env, &modules.FileArgs{Path: dir, State: "directory", Mode: cfgPtr("0750"), Owner: cfgPtr(me.Username)}) {
		t.Fatal("unchanged directory reported changed")
	}
	if !fileStep(t, env, &modules.FileArgs{Path: dir, State: "directory", Mode: cfgPtr("0700")}) {
		t.Fatal("mode not changed")
	}
	// A link, then pointed elsewhere; a link to a directory is replaced, not created inside it.
	link := filepath.Join(h.Dir, "current")
	if !fileStep(t, env, &modules.FileArgs{Path: link, State: "link", Src: &dir}) {
		t.Fatal("link not created")
	}
	other := h.Dir + "/other\n"
	if !fileStep(t, env, &modules.FileArgs{Path: link, State: "link", Src: &other}) {
		t.Fatal("link not changed")
	}
	if got, _ := os.Readlink(link); got != other {
		t.Fatalf("link → %q", got)
	}
	// A file's mode; a missing file is an error, not a creation.
	f := filepath.Join(h.Dir, "f")
	os.WriteFile(f, nil, 0o600)
	if !fileStep(t, env, &modules.FileArgs{Path: f, Mode: cfgPtr("0644")}) {
		t.Fatal("file mode not set")
	}
	if _, err := (&modules.File{}).Check(context.Background(), env, &modules.FileArgs{Path: f + "x"}); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Fatalf("missing file: %v", err)
	}
	if _, err := (&modules.File{}).Check(context.Background(), env, &modules.FileArgs{Path: f, State: "directory"}); err == nil || !strings.Contains(err.Error(), "not a directory") {
		t.Fatalf("file as dir: %v", err)
	}
	// Absent removes a link (not its target) and a tree.
	for _, p := range []string{link, filepath.Join(h.Dir, "data")} {
		if !fileStep(t, env, &modules.FileArgs{Path: p, State: "absent"}) {
			t.Fatalf("%s not removed", p)
		}
		if _, err := os.Lstat(p); err == nil {
			t.Fatalf("%s still there", p)
		}
	}
	if fileStep(t, env, &modules.FileArgs{Path: link, State: "absent"}) {
		t.Fatal("absent twice reported changed")
	}
}
