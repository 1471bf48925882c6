package cli

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"

	"github.com/omsrun/omsrun/internal/secret"
)

const slsSecret = "sls-Secret-cli-1"

// The playbook's apsara_audit_sls_* variables: all required once one is
// set, the secret read from the environment and never printed; the retired
// sls_* variables are refused naming what replaces them.
func TestValidateSLSVariables(t *testing.T) {
	img := tinyArchive(t)
	args := []string{"validate", "../../playbooks/deploy.hcl", "-i", "../../testdata/inventory/lab.hcl", "-e", "@../../testdata/cli/vars.hcl", "-e", "image_file=" + img}

	_, errOut, code := run(append(args, "-e", "apsara_audit_sls_ops_site_topic=ops")...)
	if code != 4 {
		t.Fatalf("one SLS variable without the others: exit %d\n%s", code, errOut)
	}
	for _, k := range []string{"apsara_audit_sls_access_key", "apsara_audit_sls_access_secret", "apsara_audit_sls_endpoint", "apsara_audit_sls_user_site_topic"} {
		if want := k + ": is required when any apsara_audit_sls_* key is set"; !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}

	t.Setenv("OMSRUN_TEST_SLS_SK", slsSecret)
	full := append(args, "-e", "apsara_audit_sls_endpoint=https://cn-hangzhou.log.aliyuncs.com", "-e", "apsara_audit_sls_ops_site_topic=ops",
		"-e", "apsara_audit_sls_user_site_topic=user", "-e", "apsara_audit_sls_access_key=LTAI5tExampleKeyID", "-e", "apsara_audit_sls_access_secret=@env:OMSRUN_TEST_SLS_SK")
	out, errOut, code := run(full...)
	if code != 0 {
		t.Fatalf("complete SLS settings: exit %d\n%s%s", code, out, errOut)
	}
	if strings.Contains(out+errOut, slsSecret) {
		t.Errorf("the AccessKey Secret was printed")
	}
	_, errOut, code = run(append(full, "-e", "apsara_audit_sls_endpoint=ftp://x")...)
	if code != 4 || !strings.Contains(errOut, "apsara_audit_sls_endpoint") || strings.Contains(errOut, slsSecret) {
		t.Errorf("bad endpoint: exit %d\n%s", code, errOut)
	}

	for old, want := range map[string]string{
		"sls_enabled=true": "apsara_audit_sls_ops_site_topic and apsara_audit_sls_user_site_topic", "sls_project=p": "apsara_audit_sls_ops_site_topic and",
		"sls_logstore=l": "apsara_audit_sls_user_site_topic", "sls_endpoint=e": "use apsara_audit_sls_endpoint",
		"sls_access_key_id=x": "use apsara_audit_sls_access_key,", "sls_access_key_secret=x": "use apsara_audit_sls_access_secret,",
	} {
		name, _, _ := strings.Cut(old, "=")
		_, errOut, code = run(append(args, "-e", old)...)
		if code != 4 || !strings.Contains(errOut, name+" is no longer accepted") || !strings.Contains(errOut, want) {
			t.Errorf("-e %s: exit %d\n%s", old, code, errOut)
		}
	}
}

// --oms-config maps the apsara_audit_sls_* keys to the variables without
// calling them unknown, and refuses the retired sls_* keys.
func TestOMSConfigSLSKeys(t *testing.T) {
	cfg := writeTemp(t, "config.yaml", testConfig+`apsara_audit_sls_endpoint: HTTPS://CN-Hangzhou.log.aliyuncs.com/
apsara_audit_sls_ops_site_topic: ops
apsara_audit_sls_user_site_topic: user
apsara_audit_sls_access_key: LTAI5tExampleKeyID
apsara_audit_sls_access_secret: '`+slsSecret+`'
`)
	preset, _, diags := varSources(&globals{omsConfig: cfg})
	for _, d := range diags {
		t.Errorf("diagnostic: %s", d.Error())
	}
	if v := preset["apsara_audit_sls_endpoint"]; v.AsString() != "https://cn-hangzhou.log.aliyuncs.com" {
		t.Errorf("apsara_audit_sls_endpoint = %#v", v)
	}
	if preset["apsara_audit_sls_user_site_topic"].AsString() != "user" {
		t.Errorf("preset = %#v", preset)
	}
	sk := preset["apsara_audit_sls_access_secret"]
	if !sk.HasMark(secret.Mark) {
		t.Errorf("apsara_audit_sls_access_secret is not marked sensitive")
	}
	if raw, _ := sk.Unmark(); raw.AsString() != slsSecret {
		t.Errorf("apsara_audit_sls_access_secret = %q", raw.AsString())
	}

	// A missing setting is an error at the access key's line; a typo is a
	// warning with a did-you-mean; a retired key is an error naming its heir.
	bad := writeTemp(t, "config.yaml", testConfig+"apsara_audit_sls_access_key: LTAI5tExampleKeyID\napsara_audit_sls_endpont: x\nsls_project: p\n")
	_, _, diags = varSources(&globals{omsConfig: bad})
	var errs, warns []string
	for _, d := range diags {
		if d.Severity == hcl.DiagError {
			errs = append(errs, d.Summary+" "+d.Detail)
		} else {
			warns = append(warns, d.Summary+" "+d.Detail)
		}
	}
	if len(errs) != 1 || !strings.Contains(errs[0], "Retired key sls_project") || !strings.Contains(errs[0], "apsara_audit_sls_ops_site_topic") {
		t.Errorf("errors: %q", errs)
	}
	if len(warns) != 1 || !strings.Contains(warns[0], "Did you mean apsara_audit_sls_endpoint?") {
		t.Errorf("warnings: %q", warns)
	}
	bad = writeTemp(t, "config.yaml", testConfig+"apsara_audit_sls_access_key: LTAI5tExampleKeyID\n")
	_, _, diags = varSources(&globals{omsConfig: bad})
	errs = nil
	for _, d := range diags {
		errs = append(errs, d.Summary)
	}
	if len(errs) != 4 || !strings.Contains(strings.Join(errs, "\n"), "Invalid apsara_audit_sls_endpoint: is required when any apsara_audit_sls_* key is set") {
		t.Errorf("errors: %q", errs)
	}
}

func TestInitSLSFlags(t *testing.T) {
	dir := t.TempDir()
	// Nothing reaches the MetaDB: without --meta-host it is not contacted.
	t.Setenv("OMS_SLS_ACCESS_SECRET", "") // restored at the end
	os.Unsetenv("OMS_SLS_ACCESS_SECRET")
	_, errOut, code := run("init", "--non-interactive", "--out", dir, "--sls", "--sls-access-key", "LTAI 5t")
	if code != 4 {
		t.Fatalf("exit %d\n%s", code, errOut)
	}
	for _, want := range []string{"--meta-host", "--sls-endpoint: is required with --sls", "--sls-access-key: \"LTAI 5t\"",
		"--sls-ops-site-topic: is required with --sls", "--sls-user-site-topic: is required with --sls", "--sls-access-secret: is required with --sls", "nothing was written"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}

	// The secret from the environment answers its question; on the command line it is warned about.
	t.Setenv("OMS_SLS_ACCESS_SECRET", slsSecret)
	out, errOut, _ := run("init", "--non-interactive", "--out", dir, "--sls", "--sls-endpoint", "cn-hangzhou.log.aliyuncs.com")
	if strings.Contains(errOut, "--sls-access-secret") || strings.Contains(out+errOut, slsSecret) {
		t.Errorf("the secret from OMS_SLS_ACCESS_SECRET was not taken, or was shown:\n%s", errOut)
	}
	out, errOut, _ = run("init", "--non-interactive", "--out", dir, "--sls", "--sls-access-secret", slsSecret)
	if !strings.Contains(errOut, "--sls-access-secret on the command line is visible to other users in the process list; the environment (OMS_SLS_ACCESS_SECRET) is safer") {
		t.Errorf("no note about the secret on the command line:\n%s", errOut)
	}
	if strings.Contains(out+errOut, slsSecret) {
		t.Errorf("the secret was shown:\n%s", errOut)
	}
}

// TestShippedPlaybookFromBinary: a shipped playbook named by its base name
// loads from the binary (nothing unpacked into the cache), and its errors
// still show snippets of the embedded files.
func TestShippedPlaybookFromBinary(t *testing.T) {
	cache := t.TempDir()
	t.Setenv("XDG_CACHE_HOME", cache)
	img := tinyArchive(t)
	_, errOut, code := run("validate", "deploy.hcl", "-i", "../../testdata/inventory/lab.hcl", "-e", "@../../testdata/cli/vars.hcl",
		"-e", "image_file="+img, "-e", "sls_project=p")
	if code != 4 || !strings.Contains(errOut, "oms-variables.hcl:") || !strings.Contains(errOut, `variable "sls_project"`) {
		t.Fatalf("exit %d\n%s", code, errOut)
	}
	if ents, _ := os.ReadDir(cache); len(ents) != 0 {
		t.Errorf("the cache holds %d entries; nothing should be unpacked", len(ents))
	}
	if _, errOut, code := run("validate", "deploy.hcl", "-i", "../../testdata/inventory/lab.hcl", "-e", "@../../testdata/cli/vars.hcl", "-e", "image_file="+img); code != 0 {
		t.Fatalf("the shipped deploy.hcl: exit %d\n%s", code, errOut)
	}
}

// A retired sls_* key's refusal names the key to use instead; following it
// exactly (the same value under the printed name) is accepted. The other
// four apsara_audit_sls_* keys are set, as the refusal expects them to be.
func TestRetiredSLSKeyRemedy(t *testing.T) {
	img := tinyArchive(t)
	t.Setenv("OMSRUN_TEST_SLS_SK", slsSecret)
	base := []string{"validate", "../../playbooks/deploy.hcl", "-i", "../../testdata/inventory/lab.hcl", "-e", "@../../testdata/cli/vars.hcl", "-e", "image_file=" + img,
		"-e", "apsara_audit_sls_ops_site_topic=ops", "-e", "apsara_audit_sls_user_site_topic=user"}
	keys := map[string]string{ // the new name → its value
		"apsara_audit_sls_endpoint":      "https://cn-hangzhou.log.aliyuncs.com",
		"apsara_audit_sls_access_key":    "LTAI5tExampleKeyID",
		"apsara_audit_sls_access_secret": "@env:OMSRUN_TEST_SLS_SK",
	}
	use := regexp.MustCompile(`use (apsara_audit_sls_[a-z_]+)`)
	for old, renamed := range map[string]string{"sls_endpoint": "apsara_audit_sls_endpoint",
		"sls_access_key_id": "apsara_audit_sls_access_key", "sls_access_key_secret": "apsara_audit_sls_access_secret"} {
		args := append([]string(nil), base...)
		for k, v := range keys {
			if k != renamed {
				args = append(args, "-e", k+"="+v)
			}
		}
		_, errOut, code := run(append(args, "-e", old+"="+keys[renamed])...)
		m := use.FindStringSubmatch(errOut)
		if code != 4 || m == nil {
			t.Fatalf("-e %s: exit %d, no replacement named:\n%s", old, code, errOut)
		}
		out, errOut, code := run(append(args, "-e", m[1]+"="+keys[renamed])...)
		if code != 0 {
			t.Errorf("-e %s as the refusal of %s says: exit %d\n%s%s", m[1], old, code, out, errOut)
		}
		if strings.Contains(out+errOut, slsSecret) {
			t.Errorf("the AccessKey Secret was printed")
		}
	}
}
