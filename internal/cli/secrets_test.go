package cli

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// omsrunBinary builds the real binary once: the secrets test runs it as an
// operator would, so that every printing path (main's too) is covered.
func omsrunBinary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "omsrun-secrets")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "omsrun")
		out, err := exec.Command("go", "build", "-o", binPath, "github.com/omsrun/omsrun/cmd/omsrun").CombinedOutput()
		if err != nil {
			binErr = err
			binPath = string(out)
		}
	})
	if binErr != nil {
		t.Fatalf("go build: %v\n%s", binErr, binPath)
	}
	return binPath
}

// TestNoSecretInDiagnostics runs `omsrun validate` on a corpus of broken
// inputs (testdata/bad/secrets), each holding a distinctive secret in a line
// that does not parse, or under a name the playbook does not declare, in
// each input language (HCL, JSON, YAML, INI, config.yaml, -e). Neither the
// secret nor any 8-character piece of it may appear in stdout, stderr or
// the --json output.
func TestNoSecretInDiagnostics(t *testing.T) {
	const dir = "../../testdata/bad/secrets"
	play, hosts := dir+"/_play.hcl", dir+"/_hosts.ini"
	cases := []struct {
		name, secret string
		args         []string
	}{
		{"hcl unquoted", "Qx7Alpha Zr91Vw3k", []string{"-i", hosts, "-e", "@" + dir + "/vars-unquoted.hcl"}},
		{"hcl unclosed quote", "Bq8Bravo-Ux22Lm", []string{"-i", hosts, "-e", "@" + dir + "/vars-unclosed.hcl"}},
		{"json syntax", "Cw3Charlie-Jp33Yt", []string{"-i", hosts, "-e", "@" + dir + "/vars-broken.json"}},
		{"yaml indentation", "Dk4Delta-Hz44Qn", []string{"-i", hosts, "-e", "@" + dir + "/vars-broken.yml"}},
		{"yaml block scalar", "Pa1Papa-Dh77Ek", []string{"-i", hosts, "-e", "@" + dir + "/vars-block.yml"}},
		{"hcl heredoc", "Qb2Quebec-Ei88Fl", []string{"-i", hosts, "-e", "@" + dir + "/vars-heredoc.hcl"}},
		{"yaml value with colon", "Fj6Fox: trot-Gm66Xc", []string{"-i", hosts, "-e", "@" + dir + "/vars-colon.yml"}},
		{"undeclared secret-looking name", "Ev5Echo-Rk55Wb", []string{"-i", hosts, "-e", "@" + dir + "/vars-unknown.hcl"}},
		{"ini unclosed quote", "Gz7Golf-Tq77Pd", []string{"-i", dir + "/inventory-unclosed.ini"}},
		{"ini unquoted words", "Hy8Hotel-Vn88Ks", []string{"-i", dir + "/inventory-words.ini"}},
		{"ini vars section", "Iu9India Wc99Lr", []string{"-i", dir + "/inventory-vars.ini"}},
		{"yaml inventory", "Jt1Juliet-Xb11Mf", []string{"-i", dir + "/inventory-yaml.yml"}},
		{"group_vars", "Kr2Kilo-Yd22Ng", []string{"-i", dir + "/groupvars/hosts"}},
		{"oms config", "Lq3Lima: Zf33Oh", []string{"-i", hosts, "--oms-config", dir + "/oms-config.yaml"}},
		{"-e undeclared", "Mp4Mike-Af44Ux", []string{"-i", hosts, "-e", "oms_meta_passwd=Mp4Mike-Af44Ux"}},
		{"-e undeclared secret name", "Nw5Nov-Bg55Vy", []string{"-i", hosts, "-e", "db_token=Nw5Nov-Bg55Vy", "-e", "nmae=x"}},
		{"-e beside a broken one", "Ox6Oscar-Ch66Wz", []string{"-i", hosts, "-e", "oms_meta_password=Ox6Oscar-Ch66Wz", "-e", "broken"}},
	}
	bin := omsrunBinary(t)
	for _, tc := range cases {
		for _, json := range []bool{false, true} {
			args := append([]string{"validate", play}, tc.args...)
			if json {
				args = append(args, "--json")
			}
			cmd := exec.Command(bin, args...)
			cmd.Env = append(os.Environ(), "NO_COLOR=1", "XDG_CACHE_HOME="+t.TempDir())
			var out, errb bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &errb
			err := cmd.Run()
			code := 0
			if ee, ok := err.(*exec.ExitError); ok {
				code = ee.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			all := out.String() + errb.String()
			if code != 4 {
				t.Errorf("%s (json %v): exit %d, want 4 (the input is broken)\n%s", tc.name, json, code, all)
			}
			for i := 0; i+8 <= len(tc.secret); i++ {
				if piece := tc.secret[i : i+8]; strings.Contains(all, piece) {
					t.Errorf("%s (json %v): the output shows %q of the secret:\n%s", tc.name, json, piece, all)
					break
				}
			}
		}
	}
}

// TestNoSecretInRunRecord runs a playbook (its one host refuses the
// connection, so it needs no lab) with secrets in -e and a var file, then
// reads the run's record: no file under the state folder, nor `omsrun
// history` or `omsrun history 1`, may show any 8-character piece of them.
// A secret is masked by its name (secret.IsSecretName) or by the
// variable's sensitive flag.
func TestNoSecretInRunRecord(t *testing.T) {
	dir := t.TempDir()
	play := filepath.Join(dir, "play.hcl")
	os.WriteFile(play, []byte(`
variable "oms_meta_password" { type = string }
variable "db_token" { type = string }
variable "blob" {
  type      = string
  sensitive = true
}
variable "opts" { type = map(string) }
step "a" {
  shell { cmd = "echo ${var.blob} ${var.oms_meta_password} ${var.db_token} ${var.opts.tsdb_password}" }
}
`), 0o600)
	hosts := filepath.Join(dir, "hosts.ini")
	os.WriteFile(hosts, []byte("[all]\nh1 ansible_host=127.0.0.1 ansible_port=1\n"), 0o600)
	vars := filepath.Join(dir, "vars.hcl")
	os.WriteFile(vars, []byte(`db_token = "Ta1Tango-Kx31Lp"
opts = { tsdb_password = "Ub2Uniform-Mw42Rq", region = "cn" }
`), 0o600)
	secrets := []string{"Sa9Sierra-Jv29Nk", "Ta1Tango-Kx31Lp", "Ub2Uniform-Mw42Rq", "Vc3Victor-Ny53Ts"}
	// The home's known_hosts, which validate checks exists for h1: the run
	// must get as far as its one host, whose connection is refused.
	os.MkdirAll(filepath.Join(dir, ".ssh"), 0o700)
	os.WriteFile(filepath.Join(dir, ".ssh", "known_hosts"), nil, 0o600)
	state := t.TempDir()
	bin := omsrunBinary(t)
	run := func(args ...string) string {
		cmd := exec.Command(bin, args...)
		cmd.Env = append(os.Environ(), "NO_COLOR=1", "XDG_STATE_HOME="+state, "HOME="+dir)
		out, _ := cmd.CombinedOutput()
		return string(out)
	}
	for _, json := range []string{"--json", "-v"} {
		run(play, "-i", hosts, "-e", "oms_meta_password="+secrets[0], "-e", "@"+vars, "-e", "blob="+secrets[3], json)
	}
	shown := map[string]string{"history": run("history"), "history 1": run("history", "1"), "history 2": run("history", "2")}
	if !strings.Contains(shown["history"], "play.hcl") || !strings.Contains(shown["history 2"], "region") {
		t.Fatalf("the runs are not recorded:\n%s\n%s", shown["history"], shown["history 2"])
	}
	filepath.WalkDir(state, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			b, _ := os.ReadFile(p)
			shown[p] = string(b)
		}
		return nil
	})
	for where, text := range shown {
		for _, s := range secrets {
			for i := 0; i+8 <= len(s); i++ {
				if strings.Contains(text, s[i:i+8]) {
					t.Errorf("%s shows %q of a secret:\n%s", where, s[i:i+8], text)
					break
				}
			}
		}
	}
}
