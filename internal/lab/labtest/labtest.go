// Package labtest gives end-to-end tests the facts of the running lab and
// hooks to act on it: run a command inside a host, stop its sshd, cut its
// link, fill its disk, probe the VIP. Every hook acts from the controller,
// outside omsrun, so tests never measure omsrun with omsrun.
package labtest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/omsrun/omsrun/internal/lab"
)

// Host is one lab host.
type Host struct {
	Name    string // oms1, oms2, …
	Address string // 10.77.0.11, …
}

// MetaDB are the MariaDB settings (the OMS config.yaml oms_meta_* keys).
type MetaDB struct {
	Host     string
	Port     int
	User     string
	Password string
}

// TSDB are the InfluxDB settings; URL has the http:// scheme.
type TSDB struct {
	URL      string
	User     string
	Password string
}

// Image is one stand-in OMS image tarball.
type Image struct {
	Ref  string // repo:tag inside the tarball
	ID   string // sha256:…, the image ID after docker load
	Path string // the .tar.gz on the controller
}

// Lab is the running lab, read from .lab/env.
type Lab struct {
	Dir          string // the .lab folder
	Hosts        []Host
	VIP          string
	CMURL        string // http://VIP:8088
	Controller   string // the bridge address of this machine, as the hosts see it
	MetaDB       MetaDB
	TSDB         TSDB
	Key          string // private key for root (and deploy) on every host
	KnownHosts   string // every host's keys (ed25519, ecdsa, rsa)
	Inventory    string // Ansible INI, root with Key
	InventoryHCL string // HCL, root with Key
	// InventoryDeploy is HCL for the non-root user with password and become.
	InventoryDeploy string
	Vars            string // vars.hcl for playbooks/deploy.hcl
	DeployUser      string
	DeployPassword  string
	Docker          bool
	// Images are the stand-in variants by name: v1 (the default), v2, v2-broken,
	// and the images of real software built from Debian packages: influxdb, keepalived.
	Images map[string]Image
	// KeepalivedVIP is the address vip.hcl manages on the lab.
	KeepalivedVIP string
	// On a lab brought up with LAB_REGIONS=2: VIP2 and CMURL2 are region 2's
	// balancer (VIP and CMURL region 1's), Regions the host names of each
	// region. One region: VIP2 is "" and Regions holds every host.
	VIP2    string
	CMURL2  string
	Regions [][]string

	hosts []lab.Host
}

// Require returns the running lab. With OMSRUN_E2E=1 a lab that is not up
// fails the test; without OMSRUN_E2E the test is skipped.
func Require(t testing.TB) *Lab {
	t.Helper()
	if os.Getenv("OMSRUN_E2E") == "" {
		t.Skip("end-to-end test: set OMSRUN_E2E=1 (make e2e) with the lab up")
	}
	l, err := Load()
	if err != nil {
		t.Fatalf("the lab is not up (run make lab-up): %v", err)
	}
	for _, h := range l.hosts {
		if _, err := os.Stat(h.AnchorPIDFile()); err != nil {
			t.Fatalf("lab host %s is not running (run make lab-up): %v", h.Name, err)
		}
	}
	return l
}

// Load reads .lab/env from the repo root above the current folder, or
// from $OMSRUN_LAB_DIR.
func Load() (*Lab, error) {
	dir := os.Getenv("OMSRUN_LAB_DIR")
	if dir == "" {
		root, err := lab.RepoRoot()
		if err != nil {
			return nil, err
		}
		dir = filepath.Join(root, ".lab")
	}
	env, err := lab.ReadEnv(filepath.Join(dir, lab.EnvFile))
	if err != nil {
		return nil, err
	}
	port, _ := strconv.Atoi(env["LAB_META_PORT"])
	l := &Lab{
		Dir: dir, VIP: env["LAB_VIP"], CMURL: env["LAB_CM_URL"], Controller: env["LAB_CONTROLLER"],
		MetaDB: MetaDB{Host: env["LAB_META_HOST"], Port: port, User: env["LAB_META_USER"], Password: env["LAB_META_PASSWORD"]},
		TSDB:   TSDB{URL: env["LAB_TSDB_URL"], User: env["LAB_TSDB_USER"], Password: env["LAB_TSDB_PASSWORD"]},
		Key:    env["LAB_KEY"], KnownHosts: env["LAB_KNOWN_HOSTS"],
		Inventory: env["LAB_INVENTORY"], InventoryHCL: env["LAB_INVENTORY_HCL"], InventoryDeploy: env["LAB_INVENTORY_DEPLOY"],
		Vars: env["LAB_VARS"], DeployUser: env["LAB_DEPLOY_USER"], DeployPassword: env["LAB_DEPLOY_PASSWORD"],
		Docker: env["LAB_DOCKER"] == "1",
		Images: map[string]Image{},
	}
	for i, name := range strings.Fields(env["LAB_HOSTS"]) {
		h := lab.HostAt(i + 1)
		if h.Name != name || env[fmt.Sprintf("LAB_HOST_%d", i+1)] != h.Address {
			return nil, fmt.Errorf("%s does not match this omslab version (host %d)", filepath.Join(dir, lab.EnvFile), i+1)
		}
		l.hosts = append(l.hosts, h)
		l.Hosts = append(l.Hosts, Host{Name: h.Name, Address: h.Address})
	}
	if len(l.Hosts) == 0 {
		return nil, errors.New("no hosts in .lab/env")
	}
	for _, v := range lab.Variants {
		k := "LAB_IMAGE_" + strings.ToUpper(strings.ReplaceAll(v.Name, "-", "_"))
		l.Images[v.Name] = Image{Ref: env[k], ID: env[k+"_ID"], Path: env[k+"_FILE"]}
	}
	for _, d := range lab.DebianImages {
		k := "LAB_" + strings.ToUpper(d.Name) + "_IMAGE"
		l.Images[d.Name] = Image{Ref: env[k], ID: env[k+"_ID"], Path: env[k+"_FILE"]}
	}
	l.KeepalivedVIP = env["LAB_KEEPALIVED_VIP"]
	l.VIP2, l.CMURL2 = env["LAB_VIP_2"], env["LAB_CM_URL_2"]
	for i := 1; env[fmt.Sprintf("LAB_REGION_%d_HOSTS", i)] != ""; i++ {
		l.Regions = append(l.Regions, strings.Fields(env[fmt.Sprintf("LAB_REGION_%d_HOSTS", i)]))
	}
	if len(l.Regions) == 0 {
		l.Regions = [][]string{strings.Fields(env["LAB_HOSTS"])}
	}
	return l, nil
}

// ImagePath is the tarball of a stand-in variant ("v1", "v2", "v2-broken");
// "" means the default image (.lab/oms.tar.gz, same as v1).
func (l *Lab) ImagePath(version string) string {
	if version == "" {
		return filepath.Join(l.Dir, lab.DefaultImageFile)
	}
	return l.Images[version].Path
}

// Addresses returns every host's address, in order (what cm_nodes lists).
func (l *Lab) Addresses() []string {
	out := make([]string, len(l.Hosts))
	for i, h := range l.Hosts {
		out[i] = h.Address
	}
	return out
}

// host finds a host by name or address; an unknown one fails the test.
func (l *Lab) host(t testing.TB, name string) lab.Host {
	t.Helper()
	for _, h := range l.hosts {
		if h.Name == name || h.Address == name {
			return h
		}
	}
	t.Fatalf("no lab host %q (have %v)", name, l.Hosts)
	return lab.Host{}
}

// hostByName is host without a test to fail.
func (l *Lab) hostByName(name string) (lab.Host, error) {
	for _, h := range l.hosts {
		if h.Name == name || h.Address == name {
			return h, nil
		}
	}
	return lab.Host{}, fmt.Errorf("no lab host %q", name)
}

// Command is the command that runs script as root inside host, as Run
// does, for a caller that streams its stdin or reads its output as it comes.
func (l *Lab) Command(ctx context.Context, host, script string) (*exec.Cmd, error) {
	h, err := l.hostByName(host)
	if err != nil {
		return nil, err
	}
	return lab.HostCommand(ctx, h, script)
}

// Run runs a shell script as root inside host (its mount, network and UTS
// namespaces, entered from the controller with nsenter, so it works while
// the host's sshd is down) and returns stdout and stderr.
func (l *Lab) Run(ctx context.Context, host, script string) (stdout, stderr string, err error) {
	var h lab.Host
	for _, c := range l.hosts {
		if c.Name == host || c.Address == host {
			h = c
		}
	}
	if h.Name == "" {
		return "", "", fmt.Errorf("no lab host %q", host)
	}
	cmd, err := lab.HostCommand(ctx, h, script)
	if err != nil {
		return "", "", err
	}
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	err = cmd.Run()
	return out.String(), errb.String(), err
}

// Exec is Run that fails the test on a non-zero exit and returns stdout trimmed.
func (l *Lab) Exec(t testing.TB, host, script string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, errOut, err := l.Run(ctx, host, script)
	if err != nil {
		t.Fatalf("on %s: %s: %v\nstdout: %s\nstderr: %s", host, script, err, out, errOut)
	}
	return strings.TrimSpace(out)
}

// LoadImage loads a stand-in image into host's Docker unless it is there,
// streamed from the controller: the repository may live under a folder the
// hosts keep private (/tmp, /root, /home), where `docker load -i PATH` run
// inside a host would not find it.
func (l *Lab) LoadImage(ctx context.Context, host, version string) error {
	img, ok := l.Images[version]
	if !ok {
		return fmt.Errorf("no stand-in image %q", version)
	}
	h, err := l.hostByName(host)
	if err != nil {
		return err
	}
	f, err := os.Open(img.Path)
	if err != nil {
		return err
	}
	defer f.Close()
	cmd, err := lab.HostCommand(ctx, h, fmt.Sprintf("docker image inspect %s >/dev/null 2>&1 && exit 0; docker load >/dev/null", img.ID))
	if err != nil {
		return err
	}
	cmd.Stdin = f
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("docker load %s on %s: %v: %s", version, host, err, out)
	}
	return nil
}

// MustLoadImage is LoadImage failing the test on error.
func (l *Lab) MustLoadImage(t testing.TB, host, version string) {
	t.Helper()
	if err := l.LoadImage(context.Background(), host, version); err != nil {
		t.Fatal(err)
	}
}
