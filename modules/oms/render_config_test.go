package oms

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/omsrun/omsrun/internal/transport/transporttest"
	"github.com/omsrun/omsrun/modules/modtest"
)

func cfgPtr[T any](v T) *T { return &v }

func renderArgs(dir string) *RenderConfigArgs {
	return &RenderConfigArgs{
		Path:        filepath.Join(dir, "config.yaml"),
		OmsMetaHost: "10.0.0.1", OmsMetaPort: 3306, OmsMetaUser: "oms@t#c", OmsMetaPassword: "********",
		DBPrefix: cfgPtr("oms"), DrcCmHeartbeatDB: cfgPtr("oms_cm_heartbeat"),
		CMURL: "10.0.0.100", CMLocation: 100,
		DeploymentHosts: []string{"10.0.0.2", "10.0.0.3", "10.0.0.4"},
	}
}

func TestRenderConfigValidate(t *testing.T) {
	m := &RenderConfig{}
	a := renderArgs("/data/oms")
	if err := m.Validate(a); err != nil {
		t.Fatalf("valid args refused: %v", err)
	}
	a.CMLocation, a.CMURL, a.TSDBEnabled = 300, "127.0.0.1", cfgPtr(true)
	a.CMNodes = []string{"10.0.0.2", "10.0.0.3"}
	a.Mode = cfgPtr("rw")
	err := m.Validate(a)
	if err == nil {
		t.Fatal("invalid args accepted")
	}
	for _, want := range []string{"mode:", "cm_url: \"127.0.0.1\" points at the loopback", "cm_location: 300 is out of range",
		"cm_nodes: does not list 10.0.0.4", "tsdb_url: is required", "tsdb_username: is required", "tsdb_password: is required"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}

func TestRenderConfigCheckApply(t *testing.T) {
	h := transporttest.NewLocal(t)
	a := renderArgs(h.Dir)
	m := &RenderConfig{}
	env := modtest.LocalEnv(h, "10.0.0.3")
	ctx := context.Background()

	p, err := m.Check(ctx, env, a)
	if err != nil {
		t.Fatal(err)
	}
	if !p.Change || !strings.Contains(p.Summary, "would create") {
		t.Fatalf("plan = %+v", p)
	}
	if _, err := os.Stat(a.Path); err == nil {
		t.Fatal("Check wrote the file")
	}
	res, err := m.Apply(ctx, env, a, p)
	if err != nil || !res.Changed {
		t.Fatalf("Apply = %+v, %v", res, err)
	}
	data, _ := os.ReadFile(a.Path)
	var got map[string]any
	if err := yaml.Unmarshal(data, &got); err != nil {
		t.Fatal(err)
	}
	if got["oms_meta_password"] != "********" || got["cm_url"] != "http://10.0.0.100:8088" || got["drc_cm_heartbeat_db"] != "oms_cm_heartbeat" ||
		got["drc_rm_db"] != "oms_rm" || len(got["cm_nodes"].([]any)) != 3 {
		t.Fatalf("written config = %v", got)
	}
	fi, _ := os.Stat(a.Path)
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode = %v", fi.Mode())
	}
	ino := fi.Sys().(*syscall.Stat_t).Ino

	// Converged: nothing to do.
	if p, err := m.Check(ctx, env, a); err != nil || p.Change {
		t.Fatalf("second check = %+v, %v", p, err)
	}

	// A new password: changed in place, backup kept, neither password in the diff.
	a.OmsMetaPassword = "new-pass: #'\"x"
	p, err = m.Check(ctx, env, a)
	if err != nil || !p.Change {
		t.Fatalf("check after change = %+v, %v", p, err)
	}
	if strings.Contains(p.Diff, "new-pass") || !strings.Contains(p.Diff, "-oms_meta_password: ********") {
		t.Fatalf("diff shows a password or lacks the line:\n%s", p.Diff)
	}
	res, err = m.Apply(ctx, env, a, p)
	if err != nil || !res.Changed {
		t.Fatalf("Apply = %+v, %v", res, err)
	}
	if bak := res.Outputs["backup"].AsString(); !strings.HasPrefix(bak, a.Path+".") || !strings.HasSuffix(bak, ".bak") {
		t.Fatalf("backup = %q", bak)
	}
	fi, _ = os.Stat(a.Path)
	if fi.Sys().(*syscall.Stat_t).Ino != ino {
		t.Fatal("config.yaml was replaced by a new inode")
	}
	data, _ = os.ReadFile(a.Path)
	got = nil
	if err := yaml.Unmarshal(data, &got); err != nil || got["oms_meta_password"] != a.OmsMetaPassword {
		t.Fatalf("password did not round-trip: %v %v", got["oms_meta_password"], err)
	}
}

func TestRenderConfigRefusesHostNotInNodes(t *testing.T) {
	h := transporttest.NewLocal(t)
	a := renderArgs(h.Dir)
	if _, err := (&RenderConfig{}).Check(context.Background(), modtest.LocalEnv(h, "10.0.0.9"), a); err == nil || !strings.Contains(err.Error(), "10.0.0.9") {
		t.Fatalf("err = %v", err)
	}
}

func TestRenderConfigTemplate(t *testing.T) {
	h := transporttest.NewLocal(t)
	a := renderArgs(h.Dir)
	tmpl, err := os.ReadFile(filepath.Join("..", "..", "testdata", "omsconfig", "seed_template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	// The seed's template names two nodes: with three, it would silently drop one.
	a.Template = cfgPtr(string(tmpl))
	if err := (&RenderConfig{}).Validate(a); err == nil || !strings.Contains(err.Error(), "cm_nodes") {
		t.Fatalf("a template dropping a node was accepted: %v", err)
	}
	a.Template = cfgPtr(strings.Replace(string(tmpl), " - ${host_ip2}", " - ${host_ip2}\n - ${host_ip3}", 1))
	if err := (&RenderConfig{}).Validate(a); err != nil {
		t.Fatal(err)
	}
	env := modtest.LocalEnv(h, "10.0.0.2")
	p, err := (&RenderConfig{}).Check(context.Background(), env, a)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := (&RenderConfig{}).Apply(context.Background(), env, a, p); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(a.Path)
	if !strings.Contains(string(data), "# Information about the OMS Community Edition MetaDB") || !strings.Contains(string(data), ` - "10.0.0.4"`) {
		t.Fatalf("template not used:\n%s", data)
	}
}

func TestRenderConfigExtraYAML(t *testing.T) {
	h := transporttest.NewLocal(t)
	a := renderArgs(h.Dir)
	a.ExtraYAML = cfgPtr("oms_new_flag: \"on\"\n")
	if err := (&RenderConfig{}).Validate(a); err != nil {
		t.Fatal(err)
	}
	out, err := a.render()
	if err != nil || !strings.HasSuffix(string(out), "oms_new_flag: \"on\"\n") {
		t.Fatalf("render = %q, %v", out, err)
	}
	// Extra keys may not override a known key or break the YAML.
	for _, bad := range []string{"cm_location: 5\n", "x: [unclosed\n"} {
		a.ExtraYAML = cfgPtr(bad)
		if err := (&RenderConfig{}).Validate(a); err == nil || !strings.Contains(err.Error(), "extra_yaml") {
			t.Errorf("extra_yaml %q accepted: %v", bad, err)
		}
	}
}

func TestRenderConfigCheckBeforeMountDirExists(t *testing.T) {
	// In check mode on a bare host, mkdir_mounts has not made the folder yet:
	// render_config must announce a create, not fail.
	h := transporttest.NewLocal(t)
	a := renderArgs(filepath.Join(h.Dir, "data", "oms"))
	p, err := (&RenderConfig{}).Check(context.Background(), modtest.LocalEnv(h, "10.0.0.2"), a)
	if err != nil || !p.Change || !strings.Contains(p.Summary, "would create") || !strings.Contains(p.Diff, "+cm_location: 100") {
		t.Fatalf("plan = %+v, %v", p, err)
	}
}

func TestRenderConfigSLS(t *testing.T) {
	h := transporttest.NewLocal(t)
	a := renderArgs(h.Dir)
	m := &RenderConfig{}
	env := modtest.LocalEnv(h, "10.0.0.3")
	ctx := context.Background()

	// Off (the default): not a trace of SLS in the file.
	out, err := a.render()
	if err != nil || strings.Contains(string(out), "sls") {
		t.Fatalf("render without SLS = %v\n%s", err, out)
	}

	// One set without the others: every missing one named.
	a.SLSOpsSiteTopic = cfgPtr("ops")
	err = m.Validate(a)
	for _, k := range []string{"apsara_audit_sls_access_key", "apsara_audit_sls_access_secret", "apsara_audit_sls_endpoint", "apsara_audit_sls_user_site_topic"} {
		if err == nil || !strings.Contains(err.Error(), k+": is required when any apsara_audit_sls_* key is set") {
			t.Errorf("missing %s not reported: %v", k, err)
		}
	}
	a.SLSEndpoint, a.SLSUserSiteTopic = cfgPtr("HTTP://CN-Hangzhou.log.aliyuncs.com/"), cfgPtr("user")
	a.SLSAccessKey, a.SLSAccessSecret = cfgPtr("LTAI5tExampleKeyID"), cfgPtr("sls-Secret-Old-1")
	if err := m.Validate(a); err != nil {
		t.Fatal(err)
	}
	p, err := m.Check(ctx, env, a)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(p.Diff, "sls-Secret-Old-1") || !strings.Contains(p.Diff, "+apsara_audit_sls_access_secret: ********") {
		t.Fatalf("diff shows the AccessKey Secret or lacks its line:\n%s", p.Diff)
	}
	if _, err := m.Apply(ctx, env, a, p); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(a.Path)
	var got map[string]any
	if err := yaml.Unmarshal(data, &got); err != nil {
		t.Fatal(err)
	}
	if got["apsara_audit_sls_user_site_topic"] != "user" || got["apsara_audit_sls_endpoint"] != "cn-hangzhou.log.aliyuncs.com" || got["apsara_audit_sls_access_secret"] != "sls-Secret-Old-1" {
		t.Fatalf("written config = %v", got)
	}

	// A new secret: neither the old nor the new one in the diff.
	a.SLSAccessSecret = cfgPtr("sls-Secret-New-2")
	p, err = m.Check(ctx, env, a)
	if err != nil || !p.Change {
		t.Fatalf("check = %+v, %v", p, err)
	}
	if strings.Contains(p.Diff, "sls-Secret") || !strings.Contains(p.Diff, "-apsara_audit_sls_access_secret: ********") {
		t.Fatalf("diff shows a secret or lacks the line:\n%s", p.Diff)
	}

	// A template without the SLS keys would drop them silently.
	tmpl, err := os.ReadFile(filepath.Join("..", "..", "testdata", "omsconfig", "seed_template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	a.Template = cfgPtr(strings.Replace(string(tmpl), " - ${host_ip2}", " - ${host_ip2}\n - ${host_ip3}", 1))
	if err := m.Validate(a); err == nil || !strings.Contains(err.Error(), "SLS audit logs are on but the rendered config.yaml has no apsara_audit_sls_access_key") {
		t.Fatalf("a template without the SLS keys was accepted: %v", err)
	}
}

// TestRenderConfigPorts: a port set is written, the others are left to OMS.
func TestRenderConfigPorts(t *testing.T) {
	h := transporttest.NewLocal(t)
	a := renderArgs(h.Dir)
	a.NginxServerPort = cfgPtr(18089)
	out, err := a.render()
	if err != nil || !strings.Contains(string(out), "\nnginx_server_port: 18089\n") || strings.Contains(string(out), "cm_server_port") {
		t.Fatalf("render = %v\n%s", err, out)
	}
	a.CMServerPort = cfgPtr(18089)
	if err := (&RenderConfig{}).Validate(a); err == nil || !strings.Contains(err.Error(), "cm_server_port: 18089 is also nginx_server_port") {
		t.Fatalf("a port used twice was accepted: %v", err)
	}
}
