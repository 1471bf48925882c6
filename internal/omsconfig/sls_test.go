package omsconfig

import (
	"bytes"
	"reflect"
	"strings"
	"testing"

	"github.com/zclconf/go-cty/cty"

	"github.com/omsrun/omsrun/internal/secret"
)

func withSLS(c Config) Config {
	c.SLSEnabled = true
	c.SLSEndpoint, c.SLSProject, c.SLSLogstore = "cn-hangzhou.log.aliyuncs.com", "oms-audit", "oms_audit-log"
	c.SLSAccessKeyID, c.SLSAccessKeySecret = "LTAI5tExampleKeyID", "ak-Secret: #'\"*x"
	return c
}

func TestNormalizeSLSEndpoint(t *testing.T) {
	for _, tt := range []struct{ in, want, err string }{
		{in: "cn-hangzhou.log.aliyuncs.com", want: "cn-hangzhou.log.aliyuncs.com"},
		{in: "  CN-Hangzhou.LOG.aliyuncs.com. ", want: "cn-hangzhou.log.aliyuncs.com"},
		{in: "http://cn-hangzhou.log.aliyuncs.com/", want: "cn-hangzhou.log.aliyuncs.com"},
		{in: "HTTPS://cn-hangzhou-intranet.log.aliyuncs.com", want: "https://cn-hangzhou-intranet.log.aliyuncs.com"},
		{in: "10.0.0.9:8080", want: "10.0.0.9:8080"},
		{in: "https://[fd00::9]:443/", want: "https://[fd00::9]:443"},
		{in: "", err: "empty"},
		{in: "cn hangzhou", err: "spaces"},
		{in: "ftp://cn-hangzhou.log.aliyuncs.com", err: "scheme must be http or https"},
		{in: "https://cn-hangzhou.log.aliyuncs.com/logstores", err: "without a path"},
		{in: "https://ak:sk@cn-hangzhou.log.aliyuncs.com", err: "user name or password"},
		{in: "cn-hangzhou.log.aliyuncs.com:99999", err: "not a TCP port"},
		{in: "cn-hangzhou.log.aliyuncs.com:", err: "empty port"},
		{in: "bad!host", err: "not a valid"},
	} {
		got, err := NormalizeSLSEndpoint(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("NormalizeSLSEndpoint(%q) = %q, %v; want an error with %q", tt.in, got, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("NormalizeSLSEndpoint(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestSLSNames(t *testing.T) {
	for _, tt := range []struct {
		check func(string) error
		in    string
		err   string
	}{
		{CheckSLSProject, "oms-audit", ""},
		{CheckSLSProject, "a1b", ""},
		{CheckSLSProject, strings.Repeat("a", 63), ""},
		{CheckSLSProject, "ab", "3 to 63 characters"},
		{CheckSLSProject, strings.Repeat("a", 64), "3 to 63 characters"},
		{CheckSLSProject, "OMS-Audit", `did you mean "oms-audit"`},
		{CheckSLSProject, "oms_audit", "lower-case letters, digits and hyphens only"},
		{CheckSLSProject, "-oms", "starts and ends with a letter or a digit"},
		{CheckSLSProject, "oms-", "starts and ends with a letter or a digit"},
		{CheckSLSProject, "", "empty"},
		{CheckSLSLogstore, "oms_audit-1", ""},
		{CheckSLSLogstore, "ab", ""},
		{CheckSLSLogstore, "a", "2 to 63 characters"},
		{CheckSLSLogstore, "_audit", "starts and ends with a letter or a digit"},
		{CheckSLSLogstore, "audit_", "starts and ends with a letter or a digit"},
		{CheckSLSLogstore, "audit.log", "hyphens and underscores only"},
		{CheckSLSLogstore, "Audit", `did you mean "audit"`},
		{CheckSLSAccessKeyID, "LTAI5tExampleKeyID", ""},
		{CheckSLSAccessKeyID, "LTAI 5t", "not an AccessKey ID"},
		{CheckSLSAccessKeyID, "", "empty"},
	} {
		err := tt.check(tt.in)
		if tt.err == "" {
			if err != nil {
				t.Errorf("%q refused: %v", tt.in, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tt.err) {
			t.Errorf("%q: err = %v; want %q", tt.in, err, tt.err)
		}
	}
}

func TestValidateSLS(t *testing.T) {
	if ps := Validate(withSLS(good()), nil); len(ps) != 0 {
		t.Fatalf("valid SLS settings refused: %v", ps)
	}
	// Off: the values are not looked at.
	off := withSLS(good())
	off.SLSEnabled, off.SLSProject = false, "BAD"
	if ps := Validate(off, nil); len(ps) != 0 {
		t.Fatalf("SLS off, yet: %v", ps)
	}
	missing := good()
	missing.SLSEnabled = true
	var got []string
	for _, p := range Validate(missing, nil) {
		got = append(got, p.Error())
	}
	for _, k := range []string{KeySLSEndpoint, KeySLSProject, KeySLSLogstore, KeySLSAccessKeyID, KeySLSAccessKeySecret} {
		if !strings.Contains(strings.Join(got, "\n"), k+": is required when sls_enabled is true") {
			t.Errorf("no problem for missing %s: %v", k, got)
		}
	}
	bad := withSLS(good())
	bad.SLSEndpoint, bad.SLSProject, bad.SLSLogstore = "ftp://x", "x", "-x"
	got = nil
	for _, p := range Validate(bad, nil) {
		got = append(got, p.Key)
	}
	if strings.Join(got, ",") != "sls_endpoint,sls_project,sls_logstore" {
		t.Errorf("problems about %v", got)
	}
}

func TestRenderSLS(t *testing.T) {
	// Off: the seed's layout, without a trace of SLS (render_full.golden.yaml
	// and render_minimal.golden.yaml hold it).
	off := withSLS(good())
	off.SLSEnabled = false
	if out := Render(off); bytes.Contains(out, []byte("sls_")) || !bytes.Equal(out, Render(good())) {
		t.Fatalf("SLS keys written although sls_enabled is false:\n%s", out)
	}
	c := withSLS(good())
	out := Render(c)
	m := plain(t, out)
	for k, want := range map[string]any{KeySLSEnabled: true, KeySLSEndpoint: c.SLSEndpoint, KeySLSProject: c.SLSProject,
		KeySLSLogstore: c.SLSLogstore, KeySLSAccessKeyID: c.SLSAccessKeyID, KeySLSAccessKeySecret: c.SLSAccessKeySecret.Reveal()} {
		if m[k] != want {
			t.Errorf("%s = %#v; want %#v", k, m[k], want)
		}
	}
	// The seed's keys come first, in the seed's order; the SLS block follows tsdb_*.
	if i, j := bytes.Index(out, []byte("tsdb_enabled")), bytes.Index(out, []byte("sls_enabled")); i < 0 || j < i {
		t.Errorf("sls_enabled is not after the TSDB keys:\n%s", out)
	}
	// Round trip through Parse: known keys, no warning, same values.
	back, diags := Parse(out, "config.yaml")
	if len(diags) != 0 {
		t.Fatalf("Parse(Render(c)): %v", diags)
	}
	if !reflect.DeepEqual(stripPos(back), c) {
		t.Fatalf("round trip changed the config:\n got %#v\nwant %#v", stripPos(back), c)
	}
	if s := back.Secrets(); len(s) != 2 || s[1] != c.SLSAccessKeySecret.Reveal() {
		t.Errorf("Secrets() = %d values; the AccessKey Secret must be one", len(s))
	}
}

func TestParseSLSKeys(t *testing.T) {
	src := string(Render(good())) + `sls_enabled: true
sls_endpoint: HTTP://CN-Hangzhou.log.aliyuncs.com/
sls_project: oms-audit
sls_logstore: audit
sls_access_key_id: LTAI5tExampleKeyID
sls_access_key_secret: 'sk-1'
`
	c, diags := Parse([]byte(src), "config.yaml")
	if len(diags) != 0 {
		t.Fatalf("diagnostics: %v", diags)
	}
	if !c.SLSEnabled || c.SLSProject != "oms-audit" || c.SLSAccessKeySecret.Reveal() != "sk-1" {
		t.Fatalf("config = %+v", c)
	}
	v := ToVars(c.Normalized())
	if v[KeySLSEndpoint].AsString() != "cn-hangzhou.log.aliyuncs.com" || !v[KeySLSEnabled].True() {
		t.Errorf("vars = %#v", v)
	}
	if !v[KeySLSAccessKeySecret].HasMark(secret.Mark) {
		t.Errorf("sls_access_key_secret is not marked sensitive")
	}
	if !ToVars(good())[KeySLSEnabled].RawEquals(cty.False) {
		t.Errorf("sls_enabled must default to false")
	}

	// A wrong key is found at its line; a missing one at sls_enabled.
	bad := strings.Replace(src, "sls_project: oms-audit", "sls_project: OMS_Audit", 1)
	bad = strings.Replace(bad, "sls_logstore: audit\n", "", 1)
	_, diags = Parse([]byte(bad), "config.yaml")
	var got []string
	for _, d := range diags {
		got = append(got, d.Summary+" @"+strings.TrimSpace(string(d.Subject.SliceBytes([]byte(bad)))))
	}
	want := []string{"Invalid sls_project: \"OMS_Audit\": an SLS project name has lower-case letters, digits and hyphens only @OMS_Audit",
		"Invalid sls_logstore: is required when sls_enabled is true @true"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("diagnostics:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestRenderTemplateSLS(t *testing.T) {
	c := withSLS(good())
	out, err := RenderTemplate([]byte("sls_enabled: ${sls_enabled}\nsls_access_key_secret: '${sls_access_key_secret}'\n"), c)
	if err != nil {
		t.Fatal(err)
	}
	m := plain(t, out)
	if m[KeySLSEnabled] != true || m[KeySLSAccessKeySecret] != c.SLSAccessKeySecret.Reveal() {
		t.Errorf("template gave %#v", m)
	}
}
