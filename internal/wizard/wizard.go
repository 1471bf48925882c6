// Package wizard is `omsrun init`: the questions of the seed's deployment
// tool, in its order, each checked as soon as it is answered, ending in an
// inventory and a vars file for playbooks/deploy.hcl. It reads answers from
// an io.Reader and writes prompts to an io.Writer, so tests script it; flags
// answer questions through the same checks as typed answers.
package wizard

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/omsrun/omsrun/internal/metadb"
	"github.com/omsrun/omsrun/internal/omsconfig"
	"github.com/omsrun/omsrun/internal/secret"
	"github.com/omsrun/omsrun/internal/tsdbcheck"
)

// Deployment modes, as the seed's tool offers them.
const (
	ModeSingle = "single"
	ModeMulti  = "multi"
)

// Where secrets go.
const (
	SecretsFile = "file" // in the written files, mode 0600
	SecretsEnv  = "env"  // environment variables named in the next commands
)

// Wizard asks the questions. The zero value is not usable: In and Out are required.
type Wizard struct {
	In  io.Reader
	Out io.Writer
	// ReadSecret reads a password without echo; nil reads a plain line
	// from In (scripted input in tests, which nobody watches).
	ReadSecret func() (string, error)
	// Interactive asks on In; otherwise every answer comes from Preset or a
	// default, and all problems are returned together.
	Interactive bool
	// Preset answers questions by key (the flag names): text as it would be typed.
	Preset map[string]string
	// CheckMetaDB and CheckTSDB contact the databases; nil uses the real ones.
	CheckMetaDB func(ctx context.Context, t metadb.Target, dbs []string) (metadb.Report, error)
	CheckTSDB   func(ctx context.Context, url, user string, password secret.String) error
	// HomeDir expands ~ in paths; "" leaves them as typed.
	HomeDir string

	used     map[string]bool
	typed    int
	problems []error
}

// Answers is everything init learns.
type Answers struct {
	Mode string

	MetaHost      string
	MetaPort      int
	MetaUser      string
	MetaPassword  secret.String
	DBPrefix      string
	AllowExisting bool
	// Existing lists the databases found at init time, for the summary.
	Existing      []string
	MetaDBVersion string

	CMURL string
	Nodes []string

	TSDBEnabled  bool
	TSDBService  string
	TSDBURL      string
	TSDBUser     string
	TSDBPassword secret.String
	// TSDBDeploy: omsrun deploys InfluxDB (tsdb.hcl) on TSDBHost from
	// TSDBImageFile, creating TSDBUser and the admin.
	TSDBDeploy        bool
	TSDBHost          string
	TSDBImageFile     string
	TSDBImage         string
	TSDBAdminPassword secret.String

	// Audit logs to Alibaba Cloud SLS, written as the apsara_audit_sls_*
	// variables (the config.yaml keys OMS reads).
	SLSEnabled       bool
	SLSEndpoint      string
	SLSOpsSiteTopic  string
	SLSUserSiteTopic string
	SLSAccessKey     string
	SLSAccessSecret  secret.String

	MountDir  string
	Image     string
	ImageFile string
	HTTPSCrt  string
	HTTPSKey  string

	SSHUser        string
	SSHKey         string
	SSHPassword    secret.String
	KnownHosts     string // "" leaves it to ~/.ssh/known_hosts or --known-hosts
	Become         bool
	BecomePassword secret.String

	Secrets string
}

// ProblemsError is every wrong or missing flag of a non-interactive run.
type ProblemsError struct{ Problems []error }

func (e *ProblemsError) Error() string {
	var b strings.Builder
	b.WriteString("cannot answer every question from the flags:")
	for _, p := range e.Problems {
		b.WriteString("\n  " + p.Error())
	}
	return b.String()
}

func (e *ProblemsError) Unwrap() []error { return e.Problems }

// FlagError is one flag that is missing or wrong.
type FlagError struct {
	Flag string
	Err  error
}

func (e *FlagError) Error() string { return "--" + e.Flag + ": " + e.Err.Error() }
func (e *FlagError) Unwrap() error { return e.Err }

func (w *Wizard) problem(key string, err error) {
	w.problems = append(w.problems, &FlagError{Flag: key, Err: err})
}

// Run asks every question and returns the answers. Interactive runs end
// early only when the input ends; non-interactive runs return a
// *ProblemsError naming every missing or wrong flag.
func (w *Wizard) Run(ctx context.Context) (*Answers, error) {
	w.used = map[string]bool{}
	if w.CheckMetaDB == nil {
		w.CheckMetaDB = metadb.Check
	}
	if w.CheckTSDB == nil {
		w.CheckTSDB = func(ctx context.Context, url, user string, pw secret.String) error {
			return tsdbcheck.CheckInflux(ctx, http.DefaultClient, url, user, pw)
		}
	}
	for k := range w.Preset {
		if !knownKey(k) {
			return nil, fmt.Errorf("wizard: no question has the key %q", k)
		}
	}
	a := &Answers{}
	for _, section := range []func(context.Context, *Answers) error{
		w.askMode, w.askMetaDB, w.askCM, w.askTSDB, w.askSLS, w.askNodeSetup, w.askSSL, w.askLogon, w.askSecrets,
	} {
		if err := section(ctx, a); err != nil {
			return nil, err
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
	}
	if len(w.problems) > 0 {
		return nil, &ProblemsError{Problems: w.problems}
	}
	return a, nil
}

// Keys lists every question key in the order asked; each is also the flag
// that answers it.
func Keys() []string {
	ks := make([]string, len(questions))
	for i, q := range questions {
		ks[i] = q.key
	}
	return ks
}

// Help is the flag help for a key.
func Help(key string) string {
	for _, q := range questions {
		if q.key == key {
			return q.help
		}
	}
	return ""
}

func knownKey(k string) bool { return Help(k) != "" }

var questions = []struct{ key, help string }{
	{"mode", "deployment mode: single or multi (multiple nodes in a single region)"},
	{"meta-host", keyDoc(omsconfig.KeyMetaHost)},
	{"meta-port", keyDoc(omsconfig.KeyMetaPort)},
	{"meta-user", keyDoc(omsconfig.KeyMetaUser)},
	{"meta-password", keyDoc(omsconfig.KeyMetaPassword) + " (better: the OMS_META_PASSWORD environment variable)"},
	{"db-prefix", "prefix of the three MetaDB database names (<prefix>_rm, _cm, _cm_hb)"},
	{"allow-existing", "yes: go on when the databases already exist in the MetaDB"},
	{"cm-url", keyDoc(omsconfig.KeyCMURL)},
	{"nodes", "IP addresses of all nodes, comma-separated (cm_nodes)"},
	{"tsdb", "yes: enable historical monitoring with a time-series database"},
	{"tsdb-deploy", "yes: there is none yet, omsrun deploys InfluxDB 1.x with playbooks/tsdb.hcl"},
	{"tsdb-host", "with --tsdb-deploy: the host InfluxDB runs on (inventory group tsdb)"},
	{"tsdb-image-file", "with --tsdb-deploy: the InfluxDB 1.x image package (docker save) on this machine (tsdb_image_file)"},
	{"tsdb-image", "with --tsdb-deploy: the name of that image (tsdb_image)"},
	{"tsdb-type", "time-series database type (INFLUXDB) (tsdb_service)"},
	{"tsdb-url", keyDoc(omsconfig.KeyTSDBURL)},
	{"tsdb-user", keyDoc(omsconfig.KeyTSDBUsername)},
	{"tsdb-password", keyDoc(omsconfig.KeyTSDBPassword) + " (better: OMS_TSDB_PASSWORD)"},
	{"tsdb-admin-password", "with --tsdb-deploy: the password of InfluxDB's admin (tsdb_admin_password) (better: " + EnvTSDBAdminPassword + ")"},
	{"sls", "yes: write audit logs to Alibaba Cloud Simple Log Service (SLS)"},
	{"sls-endpoint", keyDoc(omsconfig.KeySLSEndpoint)},
	{"sls-ops-site-topic", keyDoc(omsconfig.KeySLSOpsSiteTopic)},
	{"sls-user-site-topic", keyDoc(omsconfig.KeySLSUserSiteTopic)},
	{"sls-access-key", keyDoc(omsconfig.KeySLSAccessKey)},
	{"sls-access-secret", keyDoc(omsconfig.KeySLSAccessSecret) + " (better: " + EnvSLSSecret + ")"},
	{"mount-dir", "directory on each node that OMS's container mounts"},
	{"image", "image name the container runs, e.g. oms:feature_4.2.5-ce"},
	{"image-file", "the OMS package (.tar.gz) on this machine"},
	{"ssl", "yes: install an SSL certificate in the container"},
	{"https-crt", "SSL certificate file on this machine"},
	{"https-key", "SSL key file on this machine"},
	{"ssh-user", "user to log on to the nodes with"},
	{"ssh-auth", "how to log on: key or password"},
	{"ssh-key", "private key file to log on with"},
	{"ssh-password", "password to log on with (better: OMS_SSH_PASSWORD)"},
	{"known-hosts", "known_hosts file holding the nodes' host keys (default ~/.ssh/known_hosts)"},
	{"become", "yes: use sudo on the nodes"},
	{"become-password", "sudo password; empty for passwordless sudo (better: OMS_BECOME_PASSWORD)"},
	{"secrets", "where passwords go: file (mode 0600) or env (environment variables)"},
}

// errRetry restarts a section after the user said its settings are wrong.
var errRetry = errors.New("retry section")

// keyDoc is a config key's description from omsconfig's table, with the key
// named, so a flag's help and the config.yaml reference say the same (the
// questions about config keys take their help from the table).
func keyDoc(name string) string {
	k, _ := omsconfig.Lookup(name)
	return k.Doc + " (" + name + ")"
}
