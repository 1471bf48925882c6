package modules_test

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/omsrun/omsrun/internal/transport"
	"github.com/omsrun/omsrun/internal/transport/transporttest"
	"github.com/omsrun/omsrun/modules"
	"github.com/omsrun/omsrun/modules/modtest"
)

// sftpLocal is a local host that also downloads, as the SSH host does, and
// counts the downloads.
type sftpLocal struct {
	*transporttest.Local
	downloads int
}

func (s *sftpLocal) Download(ctx context.Context, remote string, w io.Writer) (int64, error) {
	s.downloads++
	f, err := os.Open(remote)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	return io.Copy(w, f)
}

// wrapped hides the downloader behind a wrapper, as the engine's run lock does.
type wrapped struct{ transport.Host }

func (w wrapped) Unwrap() transport.Host { return w.Host }

func TestFetchValidate(t *testing.T) {
	file := writeTemp(t, "f", "")
	for name, tc := range map[string]struct {
		a    modules.FetchArgs
		want string
	}{
		"ok":            {a: modules.FetchArgs{Src: "/var/log/x.log", Dest: t.TempDir()}},
		"relative src":  {a: modules.FetchArgs{Src: "x.log", Dest: "b"}, want: "src:"},
		"src a folder":  {a: modules.FetchArgs{Src: "/var/log/", Dest: "b"}, want: "src:"},
		"dest a file":   {a: modules.FetchArgs{Src: "/x", Dest: file}, want: "dest:"},
		"tail negative": {a: modules.FetchArgs{Src: "/x", Dest: "b", Tail: cfgPtr(0)}, want: "tail:"},
	} {
		t.Run(name, func(t *testing.T) {
			err := (&modules.Fetch{}).Validate(&tc.a)
			if (tc.want == "") != (err == nil) || err != nil && !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestFetch(t *testing.T) {
	local := &sftpLocal{Local: transporttest.NewLocal(t)}
	env := modtest.LocalEnv(wrapped{local}, "10.0.0.2")
	env.HostName = "oms1"
	src := filepath.Join(local.Dir, "oms logs", "app.log")
	os.MkdirAll(filepath.Dir(src), 0o755)
	os.WriteFile(src, []byte("one\ntwo\nthree\n"), 0o644)
	dest := filepath.Join(t.TempDir(), "bundle")
	m := &modules.Fetch{}
	a := &modules.FetchArgs{Src: src, Dest: dest}

	p, err := m.Check(context.Background(), env, a)
	if err != nil || !p.Change || !strings.Contains(p.Summary, "14 bytes") {
		t.Fatalf("plan %+v %v", p, err)
	}
	if _, err := os.Stat(dest); err == nil {
		t.Fatal("check made the local folder")
	}
	res, err := m.Apply(context.Background(), env, a, p)
	want := filepath.Join(dest, "oms1", "app.log")
	if err != nil || !res.Changed || res.Outputs["dest"].AsString() != want || !strings.Contains(res.Msg, "sftp") {
		t.Fatalf("apply %+v %v", res, err)
	}
	if b, _ := os.ReadFile(want); string(b) != "one\ntwo\nthree\n" || local.downloads != 1 {
		t.Fatalf("fetched %q, %d downloads", b, local.downloads)
	}
	if p, err := m.Check(context.Background(), env, a); err != nil || p.Change {
		t.Fatalf("converged: %+v %v", p, err)
	}
	// A file that grew is fetched again.
	os.WriteFile(src, []byte("one\ntwo\nthree\nfour\n"), 0o644)
	if p, _ := m.Check(context.Background(), env, a); !p.Change {
		t.Fatal("a changed file was not noticed")
	}
	// The tail travels as a command's output, to <name>.tail.
	a.Tail = cfgPtr(2)
	_, res, err = modtest.RunBoth(t, m, env, a)
	if err != nil || !strings.Contains(res.Msg, "tail") {
		t.Fatalf("tail %+v %v", res, err)
	}
	if b, _ := os.ReadFile(want + ".tail"); string(b) != "three\nfour\n" || local.downloads != 1 {
		t.Fatalf("tail fetched %q, %d downloads", b, local.downloads)
	}
	// With become the file is read through sudo, not SFTP.
	a.Tail, env.Become = nil, true
	os.WriteFile(src, []byte("five\n"), 0o644)
	if _, res, err = modtest.RunBoth(t, m, env, a); err != nil || !strings.Contains(res.Msg, "cat") || local.downloads != 1 {
		t.Fatalf("become %+v %v", res, err)
	}
	// Missing files and folders are errors naming src.
	for _, bad := range []string{src + ".gone", filepath.Dir(src)} {
		if _, err := m.Check(context.Background(), env, &modules.FetchArgs{Src: bad, Dest: dest}); err == nil || !strings.HasPrefix(err.Error(), "src:") {
			t.Errorf("%s: %v", bad, err)
		}
	}
	// A host name cannot climb out of dest.
	env.HostName = "../x"
	if _, err := m.Check(context.Background(), env, a); err == nil {
		t.Error("host name ../x accepted")
	}
}
