package modules_test

import (
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/omsrun/omsrun/internal/transport/transporttest"
	"github.com/omsrun/omsrun/modules"
	"github.com/omsrun/omsrun/modules/modtest"
)

func TestCopyValidate(t *testing.T) {
	tests := []struct {
		name string
		args modules.CopyArgs
		want []string
	}{
		{name: "ok content", args: modules.CopyArgs{Content: cfgPtr("x"), Dest: "/etc/x"}},
		{name: "neither", args: modules.CopyArgs{Dest: "/etc/x"}, want: []string{"exactly one"}},
		{name: "both", args: modules.CopyArgs{Content: cfgPtr("x"), Src: cfgPtr("/etc/hostname"), Dest: "/etc/x"}, want: []string{"exactly one"}},
		{name: "relative dest and bad mode", args: modules.CopyArgs{Content: cfgPtr("x"), Dest: "x", Mode: cfgPtr("644x")}, want: []string{"dest:", "mode:"}},
		{name: "missing src", args: modules.CopyArgs{Src: cfgPtr("/nonexistent/omsrun"), Dest: "/x"}, want: []string{"src:"}},
		{name: "src is a dir", args: modules.CopyArgs{Src: cfgPtr("/"), Dest: "/x"}, want: []string{"not a regular file"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := (&modules.Copy{}).Validate(&tt.args)
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

func TestCopyCheckApply(t *testing.T) {
	h := transporttest.NewLocal(t)
	src := filepath.Join(t.TempDir(), "cert.pem")
	if err := os.WriteFile(src, []byte("CERT\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	a := &modules.CopyArgs{Src: &src, Dest: filepath.Join(h.Dir, "oms_server.crt"), Mode: cfgPtr("0644"), Backup: cfgPtr(true)}
	env := modtest.LocalEnv(h, "10.0.0.2")
	ctx := context.Background()
	m := &modules.Copy{}
	p, err := m.Check(ctx, env, a)
	if err != nil || !p.Change || !strings.Contains(p.Diff, "+CERT") {
		t.Fatalf("plan = %+v, %v", p, err)
	}
	res, err := m.Apply(ctx, env, a, p)
	if err != nil || !res.Changed {
		t.Fatalf("apply = %+v, %v", res, err)
	}
	if fi, _ := os.Stat(a.Dest); fi.Mode().Perm() != 0o644 {
		t.Fatalf("mode = %v", fi.Mode())
	}
	if p, err := m.Check(ctx, env, a); err != nil || p.Change {
		t.Fatalf("converged check = %+v, %v", p, err)
	}
	a.Src, a.Content = nil, cfgPtr("CERT2\n")
	p, _ = m.Check(ctx, env, a)
	res, err = m.Apply(ctx, env, a, p)
	if err != nil || !res.Changed || res.Outputs["backup"].AsString() == "" {
		t.Fatalf("apply = %+v, %v", res, err)
	}
	if b, _ := os.ReadFile(a.Dest); string(b) != "CERT2\n" {
		t.Fatalf("content = %q", b)
	}
	// sha256 names the content the file holds once written, in the plan
	// (check mode) as after the write: vip.hcl compares it with what
	// keepalived's container recorded it loaded.
	want := fmt.Sprintf("%x", sha256.Sum256([]byte("CERT2\n")))
	if got := res.Outputs["sha256"].AsString(); got != want {
		t.Errorf("apply sha256 = %s, want %s", got, want)
	}
	a.Content = cfgPtr("CERT3\n")
	if p, _ = m.Check(ctx, env, a); p.Outputs["sha256"].AsString() != fmt.Sprintf("%x", sha256.Sum256([]byte("CERT3\n"))) {
		t.Errorf("check sha256 = %v, want the new content's", p.Outputs["sha256"])
	}
}
func cfgPtr[T any](v T) *T { return &v }
