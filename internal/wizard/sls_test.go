package wizard

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// slsRun runs the wizard on scripted lines; passwords go through
// ReadSecret (the no-echo reader of a terminal), which records the prompt
// it was called at.
func slsRun(t *testing.T, input []string) (*Answers, string, []string, error) {
	t.Helper()
	in := strings.NewReader(lines(input...))
	var out bytes.Buffer
	var secretPrompts []string
	f := &fakeDBs{}
	w := &Wizard{In: in, Out: &out, Interactive: true, CheckMetaDB: f.metaDB, CheckTSDB: f.tsdb}
	w.ReadSecret = func() (string, error) {
		s := out.String()
		secretPrompts = append(secretPrompts, s[strings.LastIndex(s, "\n")+1:])
		var b strings.Builder
		var one [1]byte
		for {
			n, err := in.Read(one[:])
			if n == 1 && one[0] == '\n' {
				return b.String(), nil
			}
			if n == 1 {
				b.WriteByte(one[0])
			}
			if err == io.EOF {
				return "", ErrInputEnded
			}
		}
	}
	a, err := w.Run(context.Background())
	return a, out.String(), secretPrompts, err
}

func TestWizardSLSInteractive(t *testing.T) {
	dir := t.TempDir()
	pkg := writePackage(t, dir, "oms:feature_4.2.5-ce")
	key := filepath.Join(dir, "id_ed25519")
	os.WriteFile(key, []byte("not really a key"), 0o600)
	before := []string{
		"2", "10.0.0.1", "3306", "root", "metapw", "", "y",
		"10.0.0.100", "10.0.0.2,10.0.0.3", "y",
		"n", // tsdb
	}
	after := []string{"", pkg, "", "y", "n", "root", "key", key, "", "y", "file"}
	const sk = "sls-Secret-e2e-1"

	t.Run("wrong answers asked again, secret hidden, n then y", func(t *testing.T) {
		sls := []string{
			"y",
			"bad!host", "https://CN-Hangzhou.log.aliyuncs.com/", // endpoint: wrong, then normalised
			"", "oms-ops", // ops site topic: empty is refused
			"oms-user",                      // user site topic
			"LTAI 5t", "LTAI5tExampleKeyID", // AccessKey ID
			"", sk, // secret: empty is refused
			"n", // the displayed settings are not correct
			"", "", "", "oms-user2", "", "", "y",
		}
		a, out, prompts, err := slsRun(t, append(append(append([]string{}, before...), sls...), after...))
		if err != nil {
			t.Fatalf("Run: %v\n%s", err, out)
		}
		if !a.SLSEnabled || a.SLSEndpoint != "https://cn-hangzhou.log.aliyuncs.com" || a.SLSOpsSiteTopic != "oms-ops" ||
			a.SLSUserSiteTopic != "oms-user2" || a.SLSAccessKey != "LTAI5tExampleKeyID" || a.SLSAccessSecret.Reveal() != sk {
			t.Errorf("SLS answers: %+v", a)
		}
		for _, want := range []string{
			"Write audit logs to Simple Log Service (SLS)? (y/n) [n]: ",
			`"bad!host" is not a valid IP address or host name`,
			"→ https://cn-hangzhou.log.aliyuncs.com",
			"the SLS topic of the operations site's audit logs is required",
			`is not an AccessKey ID`,
			"an answer is required: the secret of that AccessKey",
			"SLS audit log settings:",
			"AccessKey Secret: ******** (not shown)",
			"Enter the SLS settings again.",
			// The second round offers the first answers.
			"Write audit logs to Simple Log Service (SLS)? (y/n) [y]: ",
			"SLS endpoint (e.g. cn-hangzhou.log.aliyuncs.com) [https://cn-hangzhou.log.aliyuncs.com]: ",
			"SLS topic of the operations site [oms-ops]: ",
			"User site topic:  oms-user2",
		} {
			if !strings.Contains(out, want) {
				t.Errorf("output lacks %q:\n%s", want, out)
			}
		}
		if strings.Count(out, "SLS audit log settings:") != 2 {
			t.Errorf("the settings are not shown before each confirmation:\n%s", out)
		}
		if strings.Contains(out, sk) {
			t.Errorf("the AccessKey Secret was echoed:\n%s", out)
		}
		var skPrompts []string
		for _, p := range prompts {
			// Scripted answers are not echoed, so a prompt may share its line.
			if i := strings.Index(p, "AccessKey Secret"); i >= 0 {
				skPrompts = append(skPrompts, p[i:])
			}
		}
		want := []string{"AccessKey Secret: ", "AccessKey Secret: ", "AccessKey Secret (empty: keep the one given before): "}
		if strings.Join(skPrompts, "|") != strings.Join(want, "|") {
			t.Errorf("the secret was not read without echo at each prompt: %q", skPrompts)
		}
		if v := string(Vars(a)); !strings.Contains(v, `apsara_audit_sls_user_site_topic = "oms-user2"`) || !strings.Contains(v, `apsara_audit_sls_access_secret   = "`+sk+`"`) {
			t.Errorf("vars file:\n%s", v)
		}
	})

	t.Run("no", func(t *testing.T) {
		a, out, _, err := slsRun(t, append(append(append([]string{}, before...), "n"), after...))
		if err != nil {
			t.Fatalf("Run: %v\n%s", err, out)
		}
		if a.SLSEnabled || a.SLSAccessKey != "" || strings.Contains(out, "SLS endpoint") {
			t.Errorf("SLS asked although answered n: %+v\n%s", a, out)
		}
		if strings.Contains(string(Vars(a)), "sls") {
			t.Errorf("vars file:\n%s", Vars(a))
		}
	})

	t.Run("flags answer the first round", func(t *testing.T) {
		in := append(append(append([]string{}, before...), "y", "y"), after...) // sls, then the confirmation
		var out bytes.Buffer
		f := &fakeDBs{}
		w := &Wizard{In: strings.NewReader(lines(in...)), Out: &out, Interactive: true, CheckMetaDB: f.metaDB, CheckTSDB: f.tsdb,
			Preset: map[string]string{"sls-endpoint": "cn-hangzhou.log.aliyuncs.com", "sls-ops-site-topic": "ops", "sls-user-site-topic": "user",
				"sls-access-key": "LTAI5tExampleKeyID", "sls-access-secret": sk}}
		a, err := w.Run(context.Background())
		if err != nil {
			t.Fatalf("Run: %v\n%s", err, out.String())
		}
		if a.SLSUserSiteTopic != "user" || a.SLSAccessSecret.Reveal() != sk || strings.Contains(out.String(), sk) {
			t.Errorf("answers %+v\n%s", a, out.String())
		}
	})
}

func TestWizardSLSNonInteractive(t *testing.T) {
	dir := t.TempDir()
	pkg := writePackage(t, dir, "oms:feature_4.2.5-ce")
	const sk = "sls-Secret-ni-1"
	base := map[string]string{
		"mode": "multi", "meta-host": "10.0.0.1", "meta-port": "3306", "meta-user": "root", "meta-password": "metapw",
		"cm-url": "10.0.0.100", "nodes": "10.0.0.2,10.0.0.3", "image-file": pkg, "ssh-user": "root", "ssh-auth": "password",
		"ssh-password": "x",
	}
	sls := map[string]string{"sls": "yes", "sls-endpoint": "HTTP://cn-hangzhou.log.aliyuncs.com/", "sls-ops-site-topic": "ops",
		"sls-user-site-topic": "user", "sls-access-key": "LTAI5tExampleKeyID", "sls-access-secret": sk}
	with := func(maps ...map[string]string) map[string]string {
		m := map[string]string{}
		for _, x := range append([]map[string]string{base}, maps...) {
			for k, v := range x {
				if v == "-" {
					delete(m, k)
				} else {
					m[k] = v
				}
			}
		}
		return m
	}
	tests := []struct {
		name   string
		preset map[string]string
		want   []string // what the error must say; none means success
	}{
		{name: "complete", preset: with(sls)},
		{name: "sls=no ignores the parameters", preset: with(sls, map[string]string{"sls": "no"})},
		{name: "missing", preset: with(map[string]string{"sls": "yes"}), want: []string{
			"--sls-endpoint: is required with --sls", "--sls-ops-site-topic: is required with --sls", "--sls-user-site-topic: is required with --sls",
			"--sls-access-key: is required with --sls", "--sls-access-secret: is required with --sls"}},
		{name: "wrong values", preset: with(sls, map[string]string{"sls-access-key": "LTAI 5t", "sls-user-site-topic": "a\tb", "sls-endpoint": "ftp://x"}),
			want: []string{"--sls-endpoint: \"ftp://x\": scheme must be http or https", "--sls-user-site-topic: \"a\\tb\"", "--sls-access-key: \"LTAI 5t\""}},
		{name: "parameters without --sls", preset: with(sls, map[string]string{"sls": "-"}),
			want: []string{"--sls: --sls-endpoint, --sls-ops-site-topic, --sls-user-site-topic, --sls-access-key given, but SLS audit logs are off: add --sls"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeDBs{}
			var out bytes.Buffer
			w := &Wizard{In: strings.NewReader(""), Out: &out, Preset: tt.preset, CheckMetaDB: f.metaDB, CheckTSDB: f.tsdb}
			a, err := w.Run(context.Background())
			if strings.Contains(out.String(), sk) || (err != nil && strings.Contains(err.Error(), sk)) {
				t.Errorf("the AccessKey Secret was shown")
			}
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("Run: %v", err)
				}
				if tt.preset["sls"] == "no" {
					if a.SLSEnabled || a.SLSAccessKey != "" {
						t.Errorf("answers %+v", a)
					}
					return
				}
				if !a.SLSEnabled || a.SLSEndpoint != "cn-hangzhou.log.aliyuncs.com" || a.SLSAccessSecret.Reveal() != sk {
					t.Errorf("answers %+v", a)
				}
				return
			}
			var pe *ProblemsError
			if !errors.As(err, &pe) {
				t.Fatalf("err = %v, want a ProblemsError", err)
			}
			for _, s := range tt.want {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error lacks %q:\n%v", s, err)
				}
			}
		})
	}
}
