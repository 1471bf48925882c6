package oms

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/zclconf/go-cty/cty"

	"github.com/omsrun/omsrun/internal/omsconfig"
	"github.com/omsrun/omsrun/internal/remotefile"
	"github.com/omsrun/omsrun/internal/secret"
	"github.com/omsrun/omsrun/modules"
)

// RenderConfig writes OMS's config.yaml from the deploy playbook's variables,
// in place (the file is bind-mounted into the running container), only when
// it differs, keeping a timestamped backup.
type RenderConfig struct{}

// keepConfigBackups is how many config.yaml backups a node keeps: enough to
// step back a few changes, not one per change forever.
const keepConfigBackups = 5

var _ modules.Module = (*RenderConfig)(nil)
var _ modules.Validator = (*RenderConfig)(nil)

// RenderConfigArgs are the arguments of render_config: the config.yaml keys
// under the deploy playbook's variable names, plus where and how to write.
// Optional strings are pointers so a playbook may pass null for "unset".
type RenderConfigArgs struct {
	Path         string  `hcl:"path"`
	Template     *string `hcl:"template,optional"`
	TemplateFile *string `hcl:"template_file,optional"`
	Backup       *bool   `hcl:"backup,optional"`
	Mode         *string `hcl:"mode,optional"`
	Owner        *string `hcl:"owner,optional"`
	// DeploymentHosts are the addresses of every host OMS is deployed to;
	// each must be in cm_nodes, which defaults to them.
	DeploymentHosts []string `hcl:"deployment_hosts,optional"`
	// ExtraYAML is appended to the built-in layout: keys omsrun does not know,
	// e.g. kept from an imported config.yaml (omsconfig.Config.ExtraYAML).
	ExtraYAML *string `hcl:"extra_yaml,optional"`
	// Regions are the playbooks' regions, checked as a whole here (each
	// node's own values arrive in the config keys below); HeartbeatDBBase
	// and TopLevelCMNodes are what those checks compare them with.
	Regions         []omsconfig.Region `hcl:"regions,optional"`
	HeartbeatDBBase *string            `hcl:"heartbeat_db_base,optional"`
	TopLevelCMNodes []string           `hcl:"top_level_cm_nodes,optional"` // omsconfig.TopLevelCMNodesArg

	OmsMetaHost      string   `hcl:"oms_meta_host"`
	OmsMetaPort      int      `hcl:"oms_meta_port"`
	OmsMetaUser      string   `hcl:"oms_meta_user"`
	OmsMetaPassword  string   `hcl:"oms_meta_password"`
	DBPrefix         *string  `hcl:"db_prefix,optional"`
	DrcRmDB          *string  `hcl:"drc_rm_db,optional"`
	DrcCmDB          *string  `hcl:"drc_cm_db,optional"`
	DrcCmHeartbeatDB *string  `hcl:"drc_cm_heartbeat_db,optional"`
	CMURL            string   `hcl:"cm_url"`
	CMLocation       int      `hcl:"cm_location"`
	CMRegion         *string  `hcl:"cm_region,optional"`
	CMRegionCN       *string  `hcl:"cm_region_cn,optional"`
	CMIsDefault      *bool    `hcl:"cm_is_default,optional"`
	CMNodes          []string `hcl:"cm_nodes,optional"`
	TSDBEnabled      *bool    `hcl:"tsdb_enabled,optional"`
	TSDBService      *string  `hcl:"tsdb_service,optional"`
	TSDBURL          *string  `hcl:"tsdb_url,optional"`
	TSDBUsername     *string  `hcl:"tsdb_username,optional"`
	TSDBPassword     *string  `hcl:"tsdb_password,optional"`
	// Audit logs to SLS under the names OMS reads, written only when set.
	SLSAccessKey     *string `hcl:"apsara_audit_sls_access_key,optional"`
	SLSAccessSecret  *string `hcl:"apsara_audit_sls_access_secret,optional"`
	SLSEndpoint      *string `hcl:"apsara_audit_sls_endpoint,optional"`
	SLSOpsSiteTopic  *string `hcl:"apsara_audit_sls_ops_site_topic,optional"`
	SLSUserSiteTopic *string `hcl:"apsara_audit_sls_user_site_topic,optional"`
	// The ports OMS listens on; null leaves OMS's default.
	NginxServerPort      *int `hcl:"nginx_server_port,optional"`
	CMServerPort         *int `hcl:"cm_server_port,optional"`
	GhanaServerPort      *int `hcl:"ghana_server_port,optional"`
	SupervisorServerPort *int `hcl:"supervisor_server_port,optional"`
	SSHDServerPort       *int `hcl:"sshd_server_port,optional"`
}

// Doc describes the module: its own arguments here, the config.yaml keys
// from omsconfig's table.
func (*RenderConfig) Doc() modules.Doc {
	args := map[string]string{
		"path":               "string, required: where config.yaml goes (the playbook uses <mount_dir>/config.yaml)",
		"template":           "string: a config.yaml template (${key}, ${host_ip1}… placeholders, as in the OMS guide) used instead of the built-in layout",
		"template_file":      "string: the same, read from a file on the control machine",
		"backup":             "bool: keep the previous file as <path>.<YYYYmmddHHMMSS>.bak, mode 0600, the last 5 of them (default true)",
		"mode":               `string: octal mode (default "0600": the file holds passwords)`,
		"owner":              `string: "user" or "user:group" (default: left alone)`,
		"deployment_hosts":   "list(string): addresses of every host of the deployment; cm_nodes must list each, and defaults to them",
		"extra_yaml":         "string: further `key: value` lines for keys omsrun does not know, appended to the built-in layout",
		"regions":            "list(object): every region (hosts pattern and " + strings.Join(omsconfig.RegionAttrs[1:], ", ") + "); checked as a whole: distinct cm_location, cm_url, cm_region and heartbeat databases, exactly one default",
		"heartbeat_db_base":  "string: the heartbeat database a region without its own drc_cm_heartbeat_db suffixes with _<cm_location>",
		"top_level_cm_nodes": "list(string): the cm_nodes given outside regions, refused together with regions",
		"db_prefix":          "string: derive drc_rm_db, drc_cm_db, drc_cm_heartbeat_db as <prefix>_rm, _cm, _cm_hb (explicit names win)",
	}
	for _, k := range omsconfig.Table {
		d := k.Kind.HCLType()
		if k.Required {
			d += ", required"
		}
		if k.Secret() {
			d += ", sensitive"
		}
		args[k.Name] = d + ": " + k.Doc
	}
	return modules.Doc{Name: "render_config", Summary: "Write OMS's config.yaml in place (bind-mount safe) when it differs, with a backup; passwords redacted from diffs.", Args: args}
}

// NewArgs returns empty arguments.
func (*RenderConfig) NewArgs() any { return &RenderConfigArgs{} }

func deref[T any](p *T, def T) T {
	if p == nil {
		return def
	}
	return *p
}

// Config maps the arguments onto the config.yaml model, applying db_prefix
// and the defaults; cm_url is kept as given so messages quote the user.
// The config keys are the fields whose hcl name is in omsconfig's table
// (a test holds the two together); a nil pointer leaves the default.
func (a *RenderConfigArgs) Config() omsconfig.Config {
	c := omsconfig.Default()
	vars := map[string]cty.Value{}
	v := reflect.ValueOf(a).Elem()
	for i := 0; i < v.NumField(); i++ {
		name, _, _ := strings.Cut(v.Type().Field(i).Tag.Get("hcl"), ",")
		if _, ok := omsconfig.Lookup(name); !ok {
			continue
		}
		f := v.Field(i)
		if f.Kind() == reflect.Pointer {
			if f.IsNil() {
				continue
			}
			f = f.Elem()
		}
		switch x := f.Interface().(type) {
		case string:
			vars[name] = cty.StringVal(x)
		case int:
			vars[name] = cty.NumberIntVal(int64(x))
		case bool:
			vars[name] = cty.BoolVal(x)
		case []string:
			if len(x) > 0 {
				vars[name] = cty.ListVal(stringVals(x))
			}
		}
	}
	if p := deref(a.DBPrefix, ""); p != "" {
		c.RMDB, c.CMDB, c.CMHeartbeatDB = omsconfig.DBNamesFromPrefix(p)
	}
	c = omsconfig.FromVars(c, vars)
	if !omsconfig.WritesRegionNames(len(a.Regions)) {
		// One region: obd leaves the names out, whatever the region says.
		c.CMRegion, c.CMRegionCN = "", ""
	}
	if len(c.CMNodes) == 0 {
		c.CMNodes = a.DeploymentHosts
	}
	if x := deref(a.ExtraYAML, ""); strings.TrimSpace(x) != "" {
		c.Extra = []omsconfig.Extra{{Key: "extra_yaml", YAML: x}}
	}
	return c
}

func stringVals(ss []string) []cty.Value {
	out := make([]cty.Value, len(ss))
	for i, s := range ss {
		out[i] = cty.StringVal(s)
	}
	return out
}

func (a *RenderConfigArgs) mode() (fs.FileMode, error) {
	m := deref(a.Mode, "0600")
	n, err := strconv.ParseUint(m, 8, 32)
	if err != nil || n > 0o7777 {
		return 0, fmt.Errorf("mode: %q is not an octal mode such as \"0600\"", m)
	}
	return fs.FileMode(n), nil
}

// Validate runs the seed's table checks and reports every problem at once.
func (*RenderConfig) Validate(args any) error {
	a := args.(*RenderConfigArgs)
	var errs []error
	if !strings.HasPrefix(a.Path, "/") {
		errs = append(errs, fmt.Errorf("path: %q must be an absolute path", a.Path))
	}
	if _, err := a.mode(); err != nil {
		errs = append(errs, err)
	}
	if a.Template != nil && a.TemplateFile != nil {
		errs = append(errs, errors.New("template, template_file: give one of them, not both"))
	}
	for _, p := range omsconfig.Validate(a.Config(), a.DeploymentHosts) {
		errs = append(errs, p)
	}
	for _, p := range omsconfig.ValidateRegions(a.Regions, deref(a.HeartbeatDBBase, ""), a.TopLevelCMNodes) {
		errs = append(errs, p)
	}
	if len(errs) == 0 {
		if _, err := a.render(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// render produces the file's content: the built-in layout, or the user's
// template — which must then parse back to the same values, so a template
// that drops a node or mangles a password is refused before any host is touched.
func (a *RenderConfigArgs) render() ([]byte, error) {
	c := a.Config().Normalized()
	tmpl := []byte(deref(a.Template, ""))
	if a.TemplateFile != nil {
		b, err := os.ReadFile(*a.TemplateFile)
		if err != nil {
			return nil, fmt.Errorf("template_file: %w", err)
		}
		tmpl = b
	}
	what, out := "extra_yaml", omsconfig.Render(c)
	if a.Template != nil || a.TemplateFile != nil {
		if a.ExtraYAML != nil {
			return nil, errors.New("extra_yaml: only the built-in layout takes it; put the keys in the template")
		}
		var err error
		if out, err = omsconfig.RenderTemplate(tmpl, c); err != nil {
			return nil, fmt.Errorf("template: %w", err)
		}
		what = "template"
	}
	// Read the text back as OMS would: whatever the template or extra keys
	// did, the file must be valid and say what the variables say.
	back, diags := omsconfig.Parse(out, "config.yaml")
	if diags.HasErrors() {
		return nil, fmt.Errorf("%s: the rendered config.yaml is invalid: %s", what, redactor(c)(diags.Error()))
	}
	var differ []string
	for _, k := range omsconfig.Keys {
		if _, ok := back.Range(k); ok && !sameKey(k, back, c) {
			differ = append(differ, k)
		}
	}
	if len(differ) > 0 {
		return nil, fmt.Errorf("%s: the rendered config.yaml gives %s other values than the variables", what, strings.Join(differ, ", "))
	}
	if c.SLSEnabled() {
		// A template without the SLS keys would turn audit logs off silently.
		var missing []string
		for _, k := range omsconfig.SLSKeys {
			if _, ok := back.Range(k); !ok {
				missing = append(missing, k)
			}
		}
		if len(missing) > 0 {
			return nil, fmt.Errorf("%s: SLS audit logs are on but the rendered config.yaml has no %s; add them (${%s} …) or leave the apsara_audit_sls_* variables unset",
				what, strings.Join(missing, ", "), missing[0])
		}
	}
	return out, nil
}

func sameKey(k string, x, y omsconfig.Config) bool {
	vx, vy := omsconfig.ToVars(x)[k], omsconfig.ToVars(y)[k]
	if vx == cty.NilVal || vy == cty.NilVal {
		return vx == vy
	}
	ux, _ := vx.Unmark()
	uy, _ := vy.Unmark()
	return ux.Equals(uy).True()
}

// keyLine matches a "key:" line of config.yaml, commented out or not; the
// line's value is hidden whatever it is when secret.IsSecretName(key), so a
// diff hides the old password too (which no redactor knows).
var keyLine = regexp.MustCompile(`^(\s*#?\s*([\w.-]+)\s*:).*$`)

// redactor hides password lines and the current passwords wherever they appear.
func redactor(c omsconfig.Config) func(string) string {
	r := secret.NewRedactor()
	for _, v := range c.Secrets() {
		// As written in YAML, escapes included, and as the plain value.
		r.Add(v, strings.Trim(omsconfig.Quote(v), `"`))
	}
	return func(s string) string {
		if m := keyLine.FindStringSubmatch(s); m != nil && secret.IsSecretName(m[2]) {
			return m[1] + " " + secret.Mask
		}
		return r.Scrub(s)
	}
}

func (a *RenderConfigArgs) file(env *modules.Env, content []byte) remotefile.File {
	m, _ := a.mode()
	return remotefile.File{Path: a.Path, Content: content, Mode: m, Owner: deref(a.Owner, ""),
		Become: env.Become, Backup: deref(a.Backup, true), KeepBackups: keepConfigBackups, KeepBefore: env.Diff}
}

// Check renders the file and compares it with the host's copy.
func (*RenderConfig) Check(ctx context.Context, env *modules.Env, args any) (*modules.Plan, error) {
	a := args.(*RenderConfigArgs)
	c := a.Config()
	if env.Address != "" && len(c.CMNodes) > 0 && !slices.Contains(c.CMNodes, env.Address) {
		return nil, fmt.Errorf("cm_nodes does not list this host's address %s; every OMS node must be in cm_nodes", env.Address)
	}
	content, err := a.render()
	if err != nil {
		return nil, err
	}
	cur, ch, err := remotefile.Plan(ctx, env.Host, a.file(env, content))
	if err != nil {
		return nil, err
	}
	p := &modules.Plan{Change: ch.Any(), Data: content, Summary: a.Path + " " + ch.String()}
	if ch.Create {
		p.Summary = "would create " + a.Path
		if cur.DirMissing {
			p.Summary += " (its directory does not exist yet)"
		}
	} else if ch.Any() {
		p.Summary = "would change " + a.Path + ": " + ch.String()
	}
	if env.Diff && (ch.Content || ch.Create) {
		p.Diff = remotefile.Diff(cur.Content, content, redactor(c))
	}
	return p, nil
}

// Apply writes the file when it differs.
func (*RenderConfig) Apply(ctx context.Context, env *modules.Env, args any, plan *modules.Plan) (*modules.Result, error) {
	a := args.(*RenderConfigArgs)
	content, ok := plan.Data.([]byte)
	if !ok {
		var err error
		if content, err = a.render(); err != nil {
			return nil, err
		}
	}
	res, err := remotefile.Write(ctx, env.Host, a.file(env, content))
	if err != nil {
		return nil, err
	}
	r := &modules.Result{Changed: res.Changed(), Msg: res.Describe(a.Path), Outputs: map[string]cty.Value{
		"path":   cty.StringVal(a.Path),
		"backup": cty.StringVal(res.Backup),
	}}
	if env.Diff && (res.Content || res.Create) {
		r.Diff = remotefile.Diff(res.Before.Content, content, redactor(a.Config()))
	}
	return r, nil
}
