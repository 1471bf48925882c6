package omsconfig

import (
	"bytes"
	"reflect"
	"strings"
	"testing"

	"github.com/omsrun/omsrun/internal/secret"
)

func withSLS(c Config) Config {
	c.SLSAccessKey, c.SLSAccessSecret = "LTAI5tExampleKeyID", "ak-Secret: #'\"*x"
	c.SLSEndpoint = "cn-hangzhou.log.aliyuncs.com"
	c.SLSOpsSiteTopic, c.SLSUserSiteTopic = "oms-ops", "oms user: #1"
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

func TestSLSChecks(t *testing.T) {
	for _, tt := range []struct {
		check func(string) error
		in    string
		err   string
	}{
		{CheckSLSAccessKeyID, "LTAI5tExampleKeyID", ""},
		{CheckSLSAccessKeyID, "LTAI 5t", "not an AccessKey ID"},
		{CheckSLSAccessKeyID, "", "empty"},
		{CheckSLSTopic, "oms user: #1", ""},
		{CheckSLSTopic, "a\nb", "control characters"},
		{CheckSLSTopic, strings.Repeat("t", 129), "129 characters"},
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
	if good().SLSEnabled() || !withSLS(good()).SLSEnabled() {
		t.Fatal("SLS is on exactly when one of its keys is set")
	}
	// Any one key set asks for the other four.
	one := good()
	one.SLSOpsSiteTopic = "ops"
	var got []string
	for _, p := range Validate(one, nil) {
		got = append(got, p.Error())
	}
	for _, k := range []string{KeySLSAccessKey, KeySLSAccessSecret, KeySLSEndpoint, KeySLSUserSiteTopic} {
		if !strings.Contains(strings.Join(got, "\n"), k+": is required when any apsara_audit_sls_* key is set") {
			t.Errorf("no problem for missing %s: %v", k, got)
		}
	}
	bad := withSLS(good())
	bad.SLSEndpoint, bad.SLSAccessKey = "ftp://x", "LTAI 5t"
	got = nil
	for _, p := range Validate(bad, nil) {
		got = append(got, p.Key)
	}
	if strings.Join(got, ",") != KeySLSAccessKey+","+KeySLSEndpoint {
		t.Errorf("problems about %v", got)
	}
}

func TestRenderSLS(t *testing.T) {
	// Off: the seed's layout, without a trace of SLS (render_full.golden.yaml
	// and render_minimal.golden.yaml hold it).
	if out := Render(good()); bytes.Contains(out, []byte("sls")) {
		t.Fatalf("SLS keys written although none is set:\n%s", out)
	}
	c := withSLS(good())
	out := Render(c)
	m := plain(t, out)
	for k, want := range map[string]any{KeySLSAccessKey: c.SLSAccessKey, KeySLSAccessSecret: c.SLSAccessSecret.Reveal(),
		KeySLSEndpoint: c.SLSEndpoint, KeySLSOpsSiteTopic: c.SLSOpsSiteTopic, KeySLSUserSiteTopic: c.SLSUserSiteTopic} {
		if m[k] != want {
			t.Errorf("%s = %#v; want %#v", k, m[k], want)
		}
	}
	// The seed's keys come first, in the seed's order; the SLS block follows tsdb_*.
	if i, j := bytes.Index(out, []byte("tsdb_enabled")), bytes.Index(out, []byte(KeySLSAccessKey)); i < 0 || j < i {
		t.Errorf("the SLS keys are not after the TSDB keys:\n%s", out)
	}
	// Round trip through Parse: known keys, no warning, same values.
	back, diags := Parse(out, "config.yaml")
	if len(diags) != 0 {
		t.Fatalf("Parse(Render(c)): %v", diags)
	}
	if !reflect.DeepEqual(stripPos(back), c) {
		t.Fatalf("round trip changed the config:\n got %#v\nwant %#v", stripPos(back), c)
	}
	// The AccessKey ID is kept out of output too: its name says access_key.
	if s := back.Secrets(); len(s) != 3 || s[1] != c.SLSAccessKey || s[2] != c.SLSAccessSecret.Reveal() {
		t.Errorf("Secrets() = %d values; the AccessKey and its secret must be two", len(s))
	}
}

func TestParseSLSKeys(t *testing.T) {
	src := string(Render(good())) + `apsara_audit_sls_access_key: LTAI5tExampleKeyID
apsara_audit_sls_access_secret: 'sk-1'
apsara_audit_sls_endpoint: HTTP://CN-Hangzhou.log.aliyuncs.com/
apsara_audit_sls_ops_site_topic: ops
apsara_audit_sls_user_site_topic: user
`
	c, diags := Parse([]byte(src), "config.yaml")
	if len(diags) != 0 {
		t.Fatalf("diagnostics: %v", diags)
	}
	if !c.SLSEnabled() || c.SLSUserSiteTopic != "user" || c.SLSAccessSecret.Reveal() != "sk-1" {
		t.Fatalf("config = %+v", c)
	}
	v := ToVars(c.Normalized())
	if v[KeySLSEndpoint].AsString() != "cn-hangzhou.log.aliyuncs.com" {
		t.Errorf("vars = %#v", v)
	}
	if !v[KeySLSAccessSecret].HasMark(secret.Mark) {
		t.Errorf("%s is not marked sensitive", KeySLSAccessSecret)
	}
	if _, ok := ToVars(good())[KeySLSAccessKey]; ok {
		t.Errorf("an unset SLS key must be left to the playbook's default")
	}

	// A wrong key is found at its line; a missing one at the access key.
	bad := strings.Replace(src, "apsara_audit_sls_access_key: LTAI5tExampleKeyID", "apsara_audit_sls_access_key: LTAI 5t", 1)
	bad = strings.Replace(bad, "apsara_audit_sls_user_site_topic: user\n", "", 1)
	_, diags = Parse([]byte(bad), "config.yaml")
	var got []string
	for _, d := range diags {
		got = append(got, d.Summary+" @"+strings.TrimSpace(string(d.Subject.SliceBytes([]byte(bad)))))
	}
	want := []string{"Invalid apsara_audit_sls_access_key: \"LTAI 5t\" is not an AccessKey ID (letters and digits, e.g. LTAI5t…) @LTAI 5t",
		"Invalid apsara_audit_sls_user_site_topic: is required when any apsara_audit_sls_* key is set @LTAI 5t"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("diagnostics:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestParseRetiredSLSKeys: the sls_* keys omsrun once invented (OMS never
// read them) are refused, each naming what replaces it.
func TestParseRetiredSLSKeys(t *testing.T) {
	for old, want := range map[string]string{
		"sls_access_key_id":     KeySLSAccessKey,
		"sls_access_key_secret": KeySLSAccessSecret,
		"sls_endpoint":          KeySLSEndpoint,
		"sls_enabled":           KeySLSOpsSiteTopic + " and " + KeySLSUserSiteTopic,
		"sls_project":           KeySLSOpsSiteTopic + " and " + KeySLSUserSiteTopic,
		"sls_logstore":          KeySLSOpsSiteTopic + " and " + KeySLSUserSiteTopic,
	} {
		t.Run(old, func(t *testing.T) {
			src := string(Render(good())) + old + ": x\n"
			_, diags := Parse([]byte(src), "config.yaml")
			if len(diags) != 1 || !diags.HasErrors() || !strings.Contains(diags[0].Detail, want) || diags[0].Subject.Start.Line != strings.Count(src, "\n") {
				t.Fatalf("diagnostics %v; want one error at the last line naming %s", diags, want)
			}
		})
	}
}

func TestRenderTemplateSLS(t *testing.T) {
	c := withSLS(good())
	out, err := RenderTemplate([]byte("apsara_audit_sls_access_secret: '${apsara_audit_sls_access_secret}'\nnginx_server_port: ${nginx_server_port}\n"), c)
	if err != nil {
		t.Fatal(err)
	}
	m := plain(t, out)
	if m[KeySLSAccessSecret] != c.SLSAccessSecret.Reveal() || m[KeyNginxServerPort] != 8089 {
		t.Errorf("template gave %#v", m)
	}
}
