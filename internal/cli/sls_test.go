package cli

import (
	"os"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"

	"github.com/omsrun/omsrun/internal/secret"
)

const slsSecret = "sls-Secret-cli-1"

// The playbook's sls_* variables: all required once sls_enabled is true,
// the secret read from the environment and never printed.
func TestValidateSLSVariables(t *testing.T) {
	img := tinyArchive(t)
	args := []string{"validate", "../../playbooks/deploy.hcl", "-i", "../../testdata/inventory/lab.hcl", "-e", "@../../testdata/cli/vars.hcl", "-e", "image_file=" + img}

	_, errOut, code := run(append(args, "-e", "sls_enabled=true")...)
	if code != 4 {
		t.Fatalf("sls_enabled without its settings: exit %d\n%s", code, errOut)
	}
	for _, want := range []string{"sls_endpoint is required when sls_enabled is true", "sls_project is required", "sls_logstore is required",
		"sls_access_key_id is required", "sls_access_key_secret is required", "oms-variables.hcl:"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}

	t.Setenv("OMSRUN_TEST_SLS_SK", slsSecret)
	full := append(args, "-e", "sls_enabled=true", "-e", "sls_endpoint=https://cn-hangzhou.log.aliyuncs.com", "-e", "sls_project=oms-audit",
		"-e", "sls_logstore=audit", "-e", "sls_access_key_id=LTAI5tExampleKeyID", "-e", "sls_access_key_secret=@env:OMSRUN_TEST_SLS_SK")
	out, errOut, code := run(full...)
	if code != 0 {
		t.Fatalf("complete SLS settings: exit %d\n%s%s", code, out, errOut)
	}
	if strings.Contains(out+errOut, slsSecret) {
		t.Errorf("the AccessKey Secret was printed")
	}

	_, errOut, code = run(append(full, "-e", "sls_project=OMS_Audit")...)
	if code != 4 || !strings.Contains(errOut, "sls_project must be 3 to 63 lower-case letters") {
		t.Errorf("bad project name: exit %d\n%s", code, errOut)
	}
	_, errOut, code = run(append(full, "-e", "sls_endpoint=ftp://x")...)
	if code != 4 || !strings.Contains(errOut, "sls_endpoint") || strings.Contains(errOut, slsSecret) {
		t.Errorf("bad endpoint: exit %d\n%s", code, errOut)
	}
}

// --oms-config maps omsrun's sls_* keys to the variables without calling
// them unknown.
func TestOMSConfigSLSKeys(t *testing.T) {
	cfg := writeTemp(t, "config.yaml", testConfig+`sls_enabled: true
sls_endpoint: HTTPS://CN-Hangzhou.log.aliyuncs.com/
sls_project: oms-audit
sls_logstore: audit
sls_access_key_id: LTAI5tExampleKeyID
sls_access_key_secret: '`+slsSecret+`'
`)
	preset, _, diags := varSources(&globals{omsConfig: cfg})
	for _, d := range diags {
		t.Errorf("diagnostic: %s", d.Error())
	}
	if v := preset["sls_endpoint"]; v.AsString() != "https://cn-hangzhou.log.aliyuncs.com" {
		t.Errorf("sls_endpoint = %#v", v)
	}
	if !preset["sls_enabled"].True() || preset["sls_project"].AsString() != "oms-audit" || preset["sls_access_key_id"].AsString() != "LTAI5tExampleKeyID" {
		t.Errorf("preset = %#v", preset)
	}
	sk := preset["sls_access_key_secret"]
	if !sk.HasMark(secret.Mark) {
		t.Errorf("sls_access_key_secret is not marked sensitive")
	}
	if raw, _ := sk.Unmark(); raw.AsString() != slsSecret {
		t.Errorf("sls_access_key_secret = %q", raw.AsString())
	}

	// A missing setting is an error at sls_enabled's line; a typo is a warning with a did-you-mean.
	bad := writeTemp(t, "config.yaml", testConfig+"sls_enabled: true\nsls_projekt: oms-audit\n")
	_, _, diags = varSources(&globals{omsConfig: bad})
	var errs, warns []string
	for _, d := range diags {
		if d.Severity == hcl.DiagError {
			errs = append(errs, d.Summary)
		} else {
			warns = append(warns, d.Summary+" "+d.Detail)
		}
	}
	if len(errs) != 5 || !strings.Contains(strings.Join(errs, "\n"), "Invalid sls_endpoint: is required when sls_enabled is true") {
		t.Errorf("errors: %q", errs)
	}
	if len(warns) != 1 || !strings.Contains(warns[0], "Did you mean sls_project?") {
		t.Errorf("warnings: %q", warns)
	}
}

func TestInitSLSFlags(t *testing.T) {
	dir := t.TempDir()
	// Nothing reaches the MetaDB: without --meta-host it is not contacted.
	t.Setenv("OMS_SLS_ACCESS_KEY_SECRET", "") // restored at the end
	os.Unsetenv("OMS_SLS_ACCESS_KEY_SECRET")
	_, errOut, code := run("init", "--non-interactive", "--out", dir, "--sls", "--sls-project", "OMS_Audit")
	if code != 4 {
		t.Fatalf("exit %d\n%s", code, errOut)
	}
	for _, want := range []string{"--meta-host", "--sls-endpoint: is required with --sls", "--sls-project: \"OMS_Audit\"",
		"--sls-logstore: is required with --sls", "--sls-access-key-id: is required with --sls", "--sls-access-key-secret: is required with --sls", "nothing was written"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}

	// The secret from the environment answers its question; on the command line it is warned about.
	t.Setenv("OMS_SLS_ACCESS_KEY_SECRET", slsSecret)
	out, errOut, _ := run("init", "--non-interactive", "--out", dir, "--sls", "--sls-endpoint", "cn-hangzhou.log.aliyuncs.com")
	if strings.Contains(errOut, "--sls-access-key-secret") || strings.Contains(out+errOut, slsSecret) {
		t.Errorf("the secret from OMS_SLS_ACCESS_KEY_SECRET was not taken, or was shown:\n%s", errOut)
	}
	out, errOut, _ = run("init", "--non-interactive", "--out", dir, "--sls", "--sls-access-key-secret", slsSecret)
	if !strings.Contains(errOut, "--sls-access-key-secret on the command line is visible to other users in the process list; the environment (OMS_SLS_ACCESS_KEY_SECRET) is safer") {
		t.Errorf("no note about the secret on the command line:\n%s", errOut)
	}
	if strings.Contains(out+errOut, slsSecret) {
		t.Errorf("the secret was shown:\n%s", errOut)
	}
}
