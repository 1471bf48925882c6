package wizard

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/omsrun/omsrun/internal/metadb"
	"github.com/omsrun/omsrun/internal/secret"
	"github.com/omsrun/omsrun/internal/tsdbcheck"
)

// writePackage writes a minimal docker-archive (.tar.gz) naming tag.
func writePackage(t *testing.T, dir, tag string) string {
	t.Helper()
	cfg := []byte(`{"architecture":"amd64","os":"linux"}`)
	sum := sha256.Sum256(cfg)
	name := hex.EncodeToString(sum[:]) + ".json"
	manifest := []byte(`[{"Config":"` + name + `","RepoTags":["` + tag + `"],"Layers":[]}]`)
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, e := range []struct {
		name string
		data []byte
	}{{name, cfg}, {"manifest.json", manifest}} {
		tw.WriteHeader(&tar.Header{Name: e.name, Mode: 0o644, Size: int64(len(e.data)), Typeflag: tar.TypeReg})
		tw.Write(e.data)
	}
	tw.Close()
	zw.Close()
	p := filepath.Join(dir, "oms.tar.gz")
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// fakeDBs are the MetaDB and TSDB as the tests script them: the right
// passwords are "metapw" and "tsdbpw"; host "10.9.9.9" is unreachable.
type fakeDBs struct {
	existing  []string
	metaCalls int
	tsdbCalls int
}

func (f *fakeDBs) metaDB(_ context.Context, t metadb.Target, dbs []string) (metadb.Report, error) {
	f.metaCalls++
	switch {
	case t.Host == "10.9.9.9":
		return metadb.Report{}, &metadb.Error{Kind: metadb.Unreachable, Addr: t.Addr(), User: t.User, Err: errors.New("i/o timeout")}
	case t.Password.Reveal() != "metapw":
		return metadb.Report{}, &metadb.Error{Kind: metadb.AccessDenied, Addr: t.Addr(), User: t.User}
	}
	var r metadb.Report
	r.Version = "10.11.6-MariaDB"
	for _, d := range dbs {
		if contains(f.existing, d) {
			r.Existing = append(r.Existing, d)
		}
	}
	return r, nil
}

func (f *fakeDBs) tsdb(_ context.Context, url, user string, pw secret.String) error {
	f.tsdbCalls++
	if pw.Reveal() != "tsdbpw" {
		return tsdbcheck.ErrUnauthorized
	}
	return nil
}

func lines(ls ...string) string { return strings.Join(ls, "\n") + "\n" }

func TestWizardInteractive(t *testing.T) {
	dir := t.TempDir()
	pkg := writePackage(t, dir, "oms:feature_4.2.5-ce")
	key := filepath.Join(dir, "id_ed25519")
	os.WriteFile(key, []byte("not really a key"), 0o600)

	// The happy path, one line per question, in the seed's order.
	happy := []string{
		"2",                                  // mode
		"10.0.0.1", "3306", "root", "metapw", // MetaDB
		"", // prefix: default oms
		"y",
		"10.0.0.100", "10.0.0.2, 10.0.0.3", "y", // CM
		"n",              // tsdb
		"n",              // sls
		"", pkg, "", "y", // mount dir, package, image (from the package)
		"n",                         // ssl
		"root", "key", key, "", "y", // logon
		"file",
	}
	tests := []struct {
		name     string
		input    []string
		existing []string
		check    func(t *testing.T, a *Answers, out string, f *fakeDBs)
		err      error
	}{
		{
			name:  "happy path",
			input: happy,
			check: func(t *testing.T, a *Answers, out string, f *fakeDBs) {
				if a.Mode != ModeMulti || a.MetaHost != "10.0.0.1" || a.MetaPort != 3306 || a.DBPrefix != "oms" {
					t.Errorf("MetaDB answers = %+v", a)
				}
				if a.CMURL != "http://10.0.0.100:8088" {
					t.Errorf("cm_url = %q, want it normalised", a.CMURL)
				}
				if strings.Join(a.Nodes, ",") != "10.0.0.2,10.0.0.3" {
					t.Errorf("nodes = %q", a.Nodes)
				}
				if a.Image != "oms:feature_4.2.5-ce" || a.ImageFile != pkg || a.MountDir != "/data/oms" {
					t.Errorf("image answers = %q %q %q", a.Image, a.ImageFile, a.MountDir)
				}
				if a.SSHKey != key || a.Become {
					t.Errorf("logon = %q become=%v", a.SSHKey, a.Become)
				}
				if !strings.Contains(out, "oms_rm, oms_cm, oms_cm_hb") {
					t.Errorf("the three database names are not shown:\n%s", out)
				}
				if strings.Contains(out, "metapw") {
					t.Errorf("password echoed:\n%s", out)
				}
			},
		},
		{
			name: "wrong answers are asked again",
			input: []string{
				"3", "2",
				"10.0.0.1", "99999", "3306", "root", "metapw", "bad-prefix!", "oms", "y",
				"127.0.0.1", "10.0.0.100:8089", "http://10.0.0.100", "10.0.0.2", "10.0.0.2,10.0.0.2", "10.0.0.2,10.0.0.3", "y",
				"maybe", "n", "n",
				"data/oms", "/data/oms", "/nonexistent.tar.gz", pkg, "", "y",
				"n", "root", "key", key, "/nonexistent/known_hosts", "", "y", "vault", "env",
			},
			check: func(t *testing.T, a *Answers, out string, f *fakeDBs) {
				for _, want := range []string{
					"choose 1 (single node) or 2",
					"is not a TCP port",
					"prefix \"bad-prefix!\"",
					"loopback",
					"must name port 8088",
					"multiple nodes need at least two addresses",
					"listed twice",
					"answer y or n",
					"must be an absolute path",
					"does not exist",
					"answer file or env",
				} {
					if !strings.Contains(out, want) {
						t.Errorf("output lacks %q:\n%s", want, out)
					}
				}
				if strings.Contains(out, "points at node") {
					t.Errorf("VIP warning for a VIP:\n%s", out)
				}
				if a.CMURL != "http://10.0.0.100:8088" || a.Secrets != SecretsEnv {
					t.Errorf("answers = %+v", a)
				}
			},
		},
		{
			name: "wrong MetaDB password is said at once and asked again",
			input: append([]string{"2", "10.0.0.1", "3306", "root", "nope", "", "y",
				"", "", "", "metapw", "", "y"}, happy[7:]...),
			check: func(t *testing.T, a *Answers, out string, f *fakeDBs) {
				if !strings.Contains(out, "wrong user name or password") {
					t.Errorf("no wrong-password message:\n%s", out)
				}
				if f.metaCalls != 2 {
					t.Errorf("MetaDB contacted %d times, want 2", f.metaCalls)
				}
				// The second round offers the first answers as defaults.
				if a.MetaHost != "10.0.0.1" || a.MetaPort != 3306 || a.MetaUser != "root" {
					t.Errorf("answers = %+v", a)
				}
			},
		},
		{
			name:  "a MetaDB user in the sys tenant is refused and asked again",
			input: append([]string{"2", "10.0.0.1", "3306", "root@sys#obcluster", "root", "metapw", "", "y"}, happy[7:]...),
			check: func(t *testing.T, a *Answers, out string, f *fakeDBs) {
				if !strings.Contains(out, "sys tenant") || a.MetaUser != "root" {
					t.Errorf("user %q, output:\n%s", a.MetaUser, out)
				}
			},
		},
		{
			name: "unreachable MetaDB",
			input: append([]string{"2", "10.9.9.9", "3306", "root", "metapw", "", "y",
				"10.0.0.1", "", "", "metapw", "", "y"}, happy[7:]...),
			check: func(t *testing.T, a *Answers, out string, f *fakeDBs) {
				if !strings.Contains(out, "cannot reach the MetaDB at 10.9.9.9:3306") {
					t.Errorf("no unreachable message:\n%s", out)
				}
			},
		},
		{
			name:     "existing databases: no, then another prefix",
			existing: []string{"oms_rm", "oms_cm"},
			input: append([]string{"2", "10.0.0.1", "3306", "root", "metapw", "", "y", "n",
				"", "", "", "metapw", "oms2", "y"}, happy[7:]...),
			check: func(t *testing.T, a *Answers, out string, f *fakeDBs) {
				if !strings.Contains(out, "The specified database names already exist in the MetaDB. Are you sure that you want to continue?") {
					t.Errorf("the seed's question is missing:\n%s", out)
				}
				if a.DBPrefix != "oms2" || a.AllowExisting {
					t.Errorf("prefix %q allow %v", a.DBPrefix, a.AllowExisting)
				}
			},
		},
		{
			name:     "existing databases: yes",
			existing: []string{"oms_rm"},
			input:    append(append(append([]string{}, happy[:7]...), "y"), happy[7:]...),
			check: func(t *testing.T, a *Answers, out string, f *fakeDBs) {
				if !a.AllowExisting || strings.Join(a.Existing, ",") != "oms_rm" {
					t.Errorf("allow %v existing %v", a.AllowExisting, a.Existing)
				}
			},
		},
		{
			name: "settings not confirmed are asked again",
			input: append([]string{"2", "10.0.0.1", "3306", "root", "metapw", "", "n",
				"10.0.0.5", "", "", "metapw", "", "y"}, happy[7:]...),
			check: func(t *testing.T, a *Answers, out string, f *fakeDBs) {
				if a.MetaHost != "10.0.0.5" || f.metaCalls != 1 {
					t.Errorf("host %q, %d MetaDB calls", a.MetaHost, f.metaCalls)
				}
			},
		},
		{
			name: "time-series database: wrong password, then right",
			input: append(append(append([]string{}, happy[:10]...),
				"y", "", "", "10.0.0.5:8086", "oms", "nope", "y", "", "", "", "", "", "tsdbpw", "y"), happy[11:]...),
			check: func(t *testing.T, a *Answers, out string, f *fakeDBs) {
				if !strings.Contains(out, "wrong user name or password") || f.tsdbCalls != 2 {
					t.Errorf("%d TSDB calls; output:\n%s", f.tsdbCalls, out)
				}
				if !a.TSDBEnabled || a.TSDBService != "INFLUXDB" || a.TSDBURL != "10.0.0.5:8086" || a.TSDBPassword.Reveal() != "tsdbpw" {
					t.Errorf("tsdb answers %+v", a)
				}
			},
		},
		{
			name: "single node offers itself as the CM URL",
			input: append([]string{"1", "10.0.0.1", "3306", "root", "metapw", "", "y",
				"10.0.0.2", "", "y"}, happy[10:]...),
			check: func(t *testing.T, a *Answers, out string, f *fakeDBs) {
				if a.Mode != ModeSingle || a.CMURL != "http://10.0.0.2:8088" || len(a.Nodes) != 1 {
					t.Errorf("answers %+v", a)
				}
			},
		},
		{
			name: "sudo user",
			input: append(append(append([]string{}, happy[:17]...),
				"admin", "password", "sshpw", "", "y", "sudopw", "y"), "file"),
			check: func(t *testing.T, a *Answers, out string, f *fakeDBs) {
				if a.SSHUser != "admin" || a.SSHPassword.Reveal() != "sshpw" || !a.Become || a.BecomePassword.Reveal() != "sudopw" {
					t.Errorf("logon answers %+v", a)
				}
			},
		},
		{
			name: "CM URL on a node is warned about",
			input: append(append(append([]string{}, happy[:7]...),
				"10.0.0.2", "10.0.0.2,10.0.0.3", "y"), happy[10:]...),
			check: func(t *testing.T, a *Answers, out string, f *fakeDBs) {
				if !strings.Contains(out, "points at node 10.0.0.2 itself") {
					t.Errorf("no warning:\n%s", out)
				}
			},
		},
		{
			name:  "input ends early",
			input: happy[:5],
			err:   ErrInputEnded,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeDBs{existing: tt.existing}
			var out bytes.Buffer
			w := &Wizard{In: strings.NewReader(lines(tt.input...)), Out: &out, Interactive: true,
				CheckMetaDB: f.metaDB, CheckTSDB: f.tsdb}
			a, err := w.Run(context.Background())
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("err = %v, want %v", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Run: %v\noutput:\n%s", err, out.String())
			}
			tt.check(t, a, out.String(), f)
		})
	}
}

func TestWizardNonInteractive(t *testing.T) {
	dir := t.TempDir()
	pkg := writePackage(t, dir, "oms:feature_4.2.5-ce")
	influx := writePackage(t, t.TempDir(), "influxdb:1.8.10")
	full := map[string]string{
		"mode": "multi", "meta-host": "10.0.0.1", "meta-port": "3306", "meta-user": "root", "meta-password": "metapw",
		"cm-url": "10.0.0.100", "nodes": "10.0.0.2,10.0.0.3", "image-file": pkg, "ssh-user": "root", "ssh-auth": "password",
		"ssh-password": "x",
	}
	with := func(kv ...string) map[string]string {
		m := map[string]string{}
		for k, v := range full {
			m[k] = v
		}
		for i := 0; i+1 < len(kv); i += 2 {
			if kv[i+1] == "-" {
				delete(m, kv[i])
			} else {
				m[kv[i]] = kv[i+1]
			}
		}
		return m
	}
	tests := []struct {
		name     string
		preset   map[string]string
		existing []string
		flags    []string // flags the error must name; none means success
	}{
		{name: "complete", preset: full},
		{name: "missing", preset: with("meta-host", "-", "cm-url", "-", "image-file", "-"), flags: []string{"--meta-host", "--cm-url", "--image-file"}},
		{name: "wrong values", preset: with("meta-port", "x", "nodes", "10.0.0.2"), flags: []string{"--meta-port", "--nodes"}},
		{name: "wrong password", preset: with("meta-password", "nope"), flags: []string{"--meta-password: the MetaDB at 10.0.0.1:3306 refused"}},
		{name: "existing databases", preset: full, existing: []string{"oms_cm"}, flags: []string{"--allow-existing"}},
		{name: "existing databases allowed", preset: with("allow-existing", "yes"), existing: []string{"oms_cm"}},
		{name: "tsdb deployed by omsrun", preset: with("tsdb", "yes", "tsdb-deploy", "yes", "tsdb-host", "10.0.0.20", "tsdb-image-file", influx,
			"tsdb-password", "tsdbpw", "tsdb-admin-password", "adminpw")},
		{name: "tsdb deployed by omsrun, missing answers", preset: with("tsdb", "yes", "tsdb-deploy", "yes", "tsdb-host", "10.0.0.20:8086"),
			flags: []string{"--tsdb-host", "--tsdb-image-file", "--tsdb-password", "--tsdb-admin-password"}},
		{name: "tsdb wrong password", preset: with("tsdb", "yes", "tsdb-url", "10.0.0.5:8086", "tsdb-user", "oms", "tsdb-password", "nope"), flags: []string{"--tsdb-password"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeDBs{existing: tt.existing}
			var out bytes.Buffer
			w := &Wizard{In: strings.NewReader(""), Out: &out, Preset: tt.preset, CheckMetaDB: f.metaDB, CheckTSDB: f.tsdb}
			a, err := w.Run(context.Background())
			if len(tt.flags) == 0 {
				if err != nil {
					t.Fatalf("Run: %v", err)
				}
				if a.Image != "oms:feature_4.2.5-ce" || a.MountDir != "/data/oms" || a.DBPrefix != "oms" || a.Secrets != SecretsFile {
					t.Errorf("defaults not applied: %+v", a)
				}
				// The database does not exist yet: nobody logs in to it.
				if a.TSDBDeploy && (f.tsdbCalls != 0 || a.TSDBImage != "influxdb:1.8.10" || a.TSDBUser != "oms_tsdb" ||
					a.TSDBURL != "10.0.0.20:8086" || a.TSDBAdminPassword.Reveal() != "adminpw") {
					t.Errorf("tsdb deploy answers %+v, %d TSDB logins", a, f.tsdbCalls)
				}
				return
			}
			var pe *ProblemsError
			if !errors.As(err, &pe) {
				t.Fatalf("err = %v, want a ProblemsError", err)
			}
			for _, fl := range tt.flags {
				if !strings.Contains(err.Error(), fl) {
					t.Errorf("error does not name %s:\n%v", fl, err)
				}
			}
			if strings.Contains(err.Error()+out.String(), "metapw") {
				t.Errorf("password shown")
			}
		})
	}
}

func TestWizardUnknownPreset(t *testing.T) {
	w := &Wizard{In: strings.NewReader(""), Out: &bytes.Buffer{}, Preset: map[string]string{"meta-hots": "x"}}
	if _, err := w.Run(context.Background()); err == nil || !strings.Contains(err.Error(), "meta-hots") {
		t.Fatalf("err = %v", err)
	}
}
