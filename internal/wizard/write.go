package wizard

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/zclconf/go-cty/cty"

	"github.com/omsrun/omsrun/internal/omsconfig"
	"github.com/omsrun/omsrun/internal/secret"
	"github.com/omsrun/omsrun/internal/transport"
)

// Environment variables that hold the passwords when the user keeps them
// out of the files. The MetaDB, TSDB and SLS ones reach the playbook through
// `-e NAME=@env:VAR`; the SSH ones are read by init only, since the
// inventory is plain data and the run asks with --ask-pass instead.
const (
	EnvMetaPassword   = "OMS_META_PASSWORD"
	EnvTSDBPassword   = "OMS_TSDB_PASSWORD"
	EnvSLSSecret      = "OMS_SLS_ACCESS_SECRET"
	EnvSSHPassword    = "OMS_SSH_PASSWORD"
	EnvBecomePassword = "OMS_BECOME_PASSWORD"
)

// Files are the paths init writes.
type Files struct {
	Inventory string
	Vars      string
}

// Inventory renders the HCL inventory: the nodes as group "oms", the way
// to log on in defaults.
func Inventory(a *Answers) []byte {
	f := hclwrite.NewEmptyFile()
	body := f.Body()
	body.AppendUnstructuredTokens(comment("Inventory written by `omsrun init`: the OMS nodes and how to log on to them."))
	def := body.AppendNewBlock("defaults", nil).Body()
	if a.SSHUser != "" {
		def.SetAttributeValue("user", cty.StringVal(a.SSHUser))
	}
	if a.SSHKey != "" {
		def.SetAttributeValue("key_file", cty.StringVal(a.SSHKey))
	}
	if a.SSHPassword != "" && a.Secrets == SecretsFile {
		def.SetAttributeValue("password", cty.StringVal(a.SSHPassword.Reveal()))
	}
	if a.KnownHosts != "" {
		def.SetAttributeValue("known_hosts_file", cty.StringVal(a.KnownHosts))
	}
	if a.Become {
		def.SetAttributeValue("become", cty.True)
		if a.BecomePassword != "" && a.Secrets == SecretsFile {
			def.SetAttributeValue("become_password", cty.StringVal(a.BecomePassword.Reveal()))
		}
	}
	body.AppendNewline()
	grp := body.AppendNewBlock("group", []string{"oms"}).Body()
	for i, n := range a.Nodes {
		h := grp.AppendNewBlock("host", []string{fmt.Sprintf("oms%d", i+1)}).Body()
		h.SetAttributeValue("address", cty.StringVal(n))
	}
	if a.TSDBEnabled && a.TSDBDeploy {
		body.AppendNewline()
		body.AppendUnstructuredTokens(comment("The host playbooks/tsdb.hcl runs InfluxDB on; deploy.hcl points OMS at it."))
		// An OMS node may run it too: then it is that node, named once (an
		// inventory refuses two names for one address).
		name := "tsdb1"
		for i, n := range a.Nodes {
			if n == a.TSDBHost {
				name = fmt.Sprintf("oms%d", i+1)
			}
		}
		h := body.AppendNewBlock("group", []string{"tsdb"}).Body().AppendNewBlock("host", []string{name}).Body()
		if name == "tsdb1" {
			h.SetAttributeValue("address", cty.StringVal(a.TSDBHost))
		}
	}
	return f.Bytes()
}

// Vars renders the vars file: deploy.hcl's variables, by their fixed names.
// With secrets kept in the environment the passwords are left out and the
// next commands pass them with -e NAME=@env:VAR.
func Vars(a *Answers) []byte {
	f := hclwrite.NewEmptyFile()
	b := f.Body()
	b.AppendUnstructuredTokens(comment("Variables for playbooks/deploy.hcl, written by `omsrun init`."))
	b.AppendUnstructuredTokens(comment("MetaDB"))
	b.SetAttributeValue(omsconfig.KeyMetaHost, cty.StringVal(a.MetaHost))
	b.SetAttributeValue(omsconfig.KeyMetaPort, cty.NumberIntVal(int64(a.MetaPort)))
	b.SetAttributeValue(omsconfig.KeyMetaUser, cty.StringVal(a.MetaUser))
	secretAttr(b, a, omsconfig.KeyMetaPassword, a.MetaPassword, EnvMetaPassword, " (-e "+omsconfig.KeyMetaPassword+"=@env:"+EnvMetaPassword+")")
	b.SetAttributeValue("db_prefix", cty.StringVal(a.DBPrefix))
	if a.AllowExisting {
		b.AppendUnstructuredTokens(comment("The databases existed when init ran, and you chose to continue with them."))
		b.SetAttributeValue("allow_existing_databases", cty.True)
	}
	b.AppendNewline()
	b.AppendUnstructuredTokens(comment("CM"))
	b.SetAttributeValue(omsconfig.KeyCMURL, cty.StringVal(a.CMURL))
	nodes := make([]cty.Value, len(a.Nodes))
	for i, n := range a.Nodes {
		nodes[i] = cty.StringVal(n)
	}
	if len(nodes) > 0 {
		b.SetAttributeValue(omsconfig.KeyCMNodes, cty.ListVal(nodes))
	}
	b.AppendNewline()
	b.AppendUnstructuredTokens(comment("Time-series database"))
	b.SetAttributeValue(omsconfig.KeyTSDBEnabled, cty.BoolVal(a.TSDBEnabled))
	if a.TSDBEnabled {
		b.SetAttributeValue(omsconfig.KeyTSDBService, cty.StringVal(a.TSDBService))
		if !a.TSDBDeploy {
			b.SetAttributeValue(omsconfig.KeyTSDBURL, cty.StringVal(a.TSDBURL))
		}
		b.SetAttributeValue(omsconfig.KeyTSDBUsername, cty.StringVal(a.TSDBUser))
		secretAttr(b, a, omsconfig.KeyTSDBPassword, a.TSDBPassword, EnvTSDBPassword, "")
	}
	if a.TSDBEnabled && a.TSDBDeploy {
		b.AppendUnstructuredTokens(comment("InfluxDB deployed by playbooks/tsdb.hcl on the tsdb host; tsdb_url is left unset, so deploy.hcl uses that host."))
		b.SetAttributeValue("tsdb_image", cty.StringVal(a.TSDBImage))
		b.SetAttributeValue("tsdb_image_file", cty.StringVal(a.TSDBImageFile))
		secretAttr(b, a, "tsdb_admin_password", a.TSDBAdminPassword, EnvTSDBAdminPassword, "")
	}
	if a.SLSEnabled {
		b.AppendNewline()
		b.AppendUnstructuredTokens(comment("Audit logs to SLS (the apsara_audit_sls_* keys of config.yaml)"))
		b.SetAttributeValue(omsconfig.KeySLSEndpoint, cty.StringVal(a.SLSEndpoint))
		b.SetAttributeValue(omsconfig.KeySLSOpsSiteTopic, cty.StringVal(a.SLSOpsSiteTopic))
		b.SetAttributeValue(omsconfig.KeySLSUserSiteTopic, cty.StringVal(a.SLSUserSiteTopic))
		b.SetAttributeValue(omsconfig.KeySLSAccessKey, cty.StringVal(a.SLSAccessKey))
		secretAttr(b, a, omsconfig.KeySLSAccessSecret, a.SLSAccessSecret, EnvSLSSecret, "")
	}
	b.AppendNewline()
	b.AppendUnstructuredTokens(comment("Image and nodes"))
	b.SetAttributeValue("image", cty.StringVal(a.Image))
	b.SetAttributeValue("image_file", cty.StringVal(a.ImageFile))
	b.SetAttributeValue("mount_dir", cty.StringVal(a.MountDir))
	if a.HTTPSCrt != "" {
		b.SetAttributeValue("https_crt", cty.StringVal(a.HTTPSCrt))
		b.SetAttributeValue("https_key", cty.StringVal(a.HTTPSKey))
	}
	return f.Bytes()
}

func comment(s string) hclwrite.Tokens {
	return hclwrite.Tokens{{Type: hclsyntax.TokenComment, Bytes: []byte("# " + s + "\n")}}
}

// Write writes both files with mode 0600 (they may hold passwords, and
// even without them they describe the MetaDB). An existing file is
// replaced only when overwrite is true, so a second init never silently
// clobbers hand edits.
func Write(a *Answers, files Files, overwrite bool) error {
	out := []struct {
		path string
		data []byte
	}{{files.Inventory, Inventory(a)}, {files.Vars, Vars(a)}}
	if !overwrite {
		for _, o := range out {
			if _, err := os.Lstat(o.path); err == nil {
				return &ExistsError{Path: o.path}
			}
		}
	}
	for _, o := range out {
		if err := writeFile(o.path, o.data); err != nil {
			return err
		}
	}
	return nil
}

// ExistsError is a file init would overwrite.
type ExistsError struct{ Path string }

func (e *ExistsError) Error() string {
	return e.Path + " already exists (pass --force to replace it, or --out to write elsewhere)"
}

// writeFile writes through a temporary file and a rename, so an
// interrupted init leaves the old file or the new one, never half of one,
// and the content is never readable by others even for an instant.
func writeFile(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return os.Rename(tmp.Name(), path)
}

// TSDBCommand is the command that deploys the time-series database before
// anything else, or "" when the operator has one already. It passes the
// deployment's secrets too: tsdb.hcl shares oms-variables.hcl with it.
func TSDBCommand(a *Answers, files Files) string {
	if !a.TSDBEnabled || !a.TSDBDeploy {
		return ""
	}
	args := []string{"omsrun", "playbooks/tsdb.hcl", "-i", transport.Quote(files.Inventory), "-e", "@" + transport.Quote(files.Vars)}
	if a.Secrets == SecretsEnv {
		args = append(args, "-e", "tsdb_admin_password=@env:"+EnvTSDBAdminPassword)
	}
	args, _ = secretArgs(a, args)
	return strings.Join(args, " ")
}

// secretArgs appends what a run needs for the secrets kept in the
// environment, and names the variables to set.
func secretArgs(a *Answers, args []string) ([]string, []string) {
	var env []string
	if a.Secrets != SecretsEnv {
		return args, nil
	}
	args = append(args, "-e", omsconfig.KeyMetaPassword+"=@env:"+EnvMetaPassword)
	env = append(env, EnvMetaPassword)
	if a.TSDBEnabled {
		args = append(args, "-e", omsconfig.KeyTSDBPassword+"=@env:"+EnvTSDBPassword)
		env = append(env, EnvTSDBPassword)
	}
	if a.SLSEnabled {
		args = append(args, "-e", omsconfig.KeySLSAccessSecret+"=@env:"+EnvSLSSecret)
		env = append(env, EnvSLSSecret)
	}
	if a.SSHPassword != "" {
		args = append(args, "--ask-pass")
	}
	if a.BecomePassword != "" {
		args = append(args, "--ask-become-pass")
	}
	return args, env
}

// NextCommands are the commands to run after init, check mode first (the
// environment variables to set first, when secrets stay out of the files).
func NextCommands(a *Answers, files Files) []string {
	args := []string{"omsrun", "playbooks/deploy.hcl", "-i", transport.Quote(files.Inventory), "-e", "@" + transport.Quote(files.Vars)}
	args, env := secretArgs(a, args)
	if a.Secrets == SecretsEnv && a.TSDBEnabled && a.TSDBDeploy {
		env = append([]string{EnvTSDBAdminPassword}, env...)
	}
	base := strings.Join(args, " ")
	var cmds []string
	for _, e := range env {
		cmds = append(cmds, "read -rs "+e+" && export "+e)
	}
	return append(cmds, base+" --check --diff", base)
}

// secretAttr writes a secret into the vars file when the user keeps secrets
// in files (mode 0600), or a comment naming the environment variable it
// comes from (with more after it) when they do not.
func secretAttr(b *hclwrite.Body, a *Answers, key string, v secret.String, env, more string) {
	if a.Secrets == SecretsFile {
		b.SetAttributeValue(key, cty.StringVal(v.Reveal()))
		return
	}
	b.AppendUnstructuredTokens(comment(key + " comes from $" + env + more))
}
