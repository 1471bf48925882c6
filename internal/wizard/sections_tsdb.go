package wizard

import (
	"errors"
	"fmt"
	"net"
	"strings"

	"github.com/omsrun/omsrun/internal/omsconfig"
	"github.com/omsrun/omsrun/internal/secret"
)

// EnvTSDBAdminPassword holds the password of InfluxDB's admin when omsrun
// deploys it (tsdb.hcl) and secrets stay out of the files.
const EnvTSDBAdminPassword = "OMS_TSDB_ADMIN_PASSWORD"

// tsdbPort is where tsdb.hcl's InfluxDB listens (tsdb_port's default), and
// so where deploy.hcl finds it.
const tsdbPort = "8086"

// askTSDBDeploy asks for what playbooks/tsdb.hcl needs, for an operator who
// has no time-series database yet: the host it runs on (written to the
// inventory as group tsdb), the InfluxDB 1.x image, the OMS user and
// InfluxDB's admin. Nothing is contacted: the database does not exist yet.
// tsdb_url stays unset, so deploy.hcl uses the tsdb host (local.tsdb_url).
func (w *Wizard) askTSDBDeploy(a *Answers) error {
	var err error
	if a.TSDBHost, err = w.ask(question{key: "tsdb-host", prompt: "Address of the host to run InfluxDB on (it joins the inventory as group tsdb)",
		def: a.TSDBHost, with: "tsdb-deploy", check: checkHostAddress}); err != nil {
		return err
	}
	var tags []string
	if a.TSDBImageFile, err = w.ask(question{key: "tsdb-image-file", prompt: "InfluxDB 1.x image package (docker save, .tar or .tar.gz) on this machine",
		def: a.TSDBImageFile, with: "tsdb-deploy", check: w.imagePackage("the InfluxDB image package, e.g. ./influxdb-1.8.tar.gz", &tags)}); err != nil {
		return err
	}
	def := orString(a.TSDBImage, "influxdb:1.8")
	if a.TSDBImage == "" && len(tags) > 0 {
		def = tags[0]
	}
	if a.TSDBImage, err = w.ask(question{key: "tsdb-image", prompt: "Name the InfluxDB image as", def: def, with: "tsdb-deploy", check: checkImage}); err != nil {
		return err
	}
	if a.TSDBUser, err = w.ask(question{key: "tsdb-user", prompt: "User to create in InfluxDB for OMS", def: orString(a.TSDBUser, "oms_tsdb"),
		check: required("the user OMS writes its metrics as")}); err != nil {
		return err
	}
	pw, err := w.ask(question{key: "tsdb-password", prompt: "Its password", secret: true, check: required("that user's password")})
	if err != nil {
		return err
	}
	a.TSDBPassword = secret.String(pw)
	admin, err := w.ask(question{key: "tsdb-admin-password", prompt: "Password for InfluxDB's admin user (created first)", secret: true, with: "tsdb-deploy",
		check: required("the admin's password")})
	if err != nil {
		return err
	}
	a.TSDBAdminPassword = secret.String(admin)
	a.TSDBService = omsconfig.TSDBInfluxDB
	a.TSDBURL = net.JoinHostPort(a.TSDBHost, tsdbPort)
	return nil
}

// checkHostAddress accepts an IP address or a host name, without a port.
func checkHostAddress(s string) (string, error) {
	if s == "" {
		return "", errors.New("give the host's address, e.g. 10.0.0.20")
	}
	if net.ParseIP(s) == nil && (strings.ContainsAny(s, ":/ \t") || strings.HasPrefix(s, "-")) {
		return "", fmt.Errorf("%q is not an address (give an IP address or a host name, without a port)", s)
	}
	return s, nil
}
