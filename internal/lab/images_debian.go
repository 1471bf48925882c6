package lab

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/omsrun/omsrun/internal/filehash"
	"github.com/omsrun/omsrun/internal/lab/image"
)

// DebianImage is an image of real software that lab-up builds from a
// Debian package installed on the controller, for the playbooks that deploy
// what the OMS guide leaves to the operator (tsdb.hcl, vip.hcl). The
// operator gives omsrun an image tarball; the lab gives it these.
type DebianImage struct {
	Name    string // influxdb, keepalived: the file .lab/images/<name>.tar.gz
	RepoTag string
	Program string // the controller's program
	Package string // the Debian package that installs it (.ci/deps)
	// Also are more programs in the image, e.g. curl for keepalived's health
	// check: busybox-static's wget crashes without glibc's NSS modules.
	Also []string
}

// DebianImages are built by lab-up next to the stand-in variants.
var DebianImages = []DebianImage{
	{Name: "influxdb", RepoTag: "influxdb:omslab", Program: "/usr/bin/influxd", Package: "influxdb"},
	{Name: "keepalived", RepoTag: "keepalived:omslab", Program: "/usr/sbin/keepalived", Package: "keepalived", Also: []string{"/usr/bin/curl"}},
}

// KeepalivedVIP is the lab's VRRP address (vip.hcl), apart from the haproxy VIP.
const KeepalivedVIP = "10.77.0.201"

// influxConf is the image's InfluxDB configuration, laid out as the official
// influxdb:1.x image lays it out (data under /var/lib/influxdb), so tsdb.hcl
// mounts the same folder on either. The playbook turns authentication on
// and moves the RPC port through INFLUXDB_* environment variables, which
// both images honour.
const influxConf = `reporting-disabled = true
bind-address = "127.0.0.1:8088"
[meta]
  dir = "/var/lib/influxdb/meta"
[data]
  dir = "/var/lib/influxdb/data"
  wal-dir = "/var/lib/influxdb/wal"
[http]
  bind-address = ":8086"
  log-enabled = false
[monitor]
  store-enabled = false
`

// debianSpec is the image spec of d.
func debianSpec(d DebianImage) (image.Spec, error) {
	o := image.DebianOptions{RepoTag: d.RepoTag, Programs: append([]string{d.Program}, d.Also...)}
	switch d.Name {
	case "influxdb":
		o.Files = []image.File{
			{Path: "etc/influxdb/influxdb.conf", Mode: 0o644, Data: []byte(influxConf)},
			{Path: "var/lib/influxdb", Dir: true, Mode: 0o755},
		}
		o.Config.Cmd = []string{d.Program, "run", "-config", "/etc/influxdb/influxdb.conf"}
	case "keepalived":
		o.Files = []image.File{{Path: "etc/keepalived", Dir: true, Mode: 0o755}}
		// -n: stay in the foreground as the container's process; -l: log to stderr (docker logs).
		o.Config.Cmd = []string{d.Program, "-n", "-l", "-D", "-f", "/etc/keepalived/keepalived.conf"}
	}
	return image.Debian(o)
}

// DebianImageFile is where image name lives under the .lab folder.
func DebianImageFile(labDir, name string) string {
	return filepath.Join(labDir, "images", name+".tar.gz")
}

// buildDebianImages writes every Debian image whose inputs changed.
func buildDebianImages(labDir string) (map[string]image.Result, error) {
	out := map[string]image.Result{}
	for _, d := range DebianImages {
		sum, err := filehash.SHA256(d.Program)
		if err != nil {
			return nil, fmt.Errorf("%s (Debian package %s, see .ci/deps): %w", d.Program, d.Package, err)
		}
		bb, err := filehash.SHA256("/bin/busybox")
		if err != nil {
			return nil, fmt.Errorf("busybox (package busybox-static): %w", err)
		}
		dst := DebianImageFile(labDir, d.Name)
		key := strings.Join(append([]string{"debian-2", d.RepoTag, sum, bb, influxConf}, d.Also...), " ")
		if old, err := os.ReadFile(dst + ".key"); err == nil && string(old) == key {
			if res, err := image.Inspect(dst); err == nil {
				out[d.Name] = res
				continue
			}
		}
		spec, err := debianSpec(d)
		if err != nil {
			return nil, err
		}
		res, err := image.WriteFile(dst, spec)
		if err != nil {
			return nil, err
		}
		if err := os.WriteFile(dst+".key", []byte(key), 0o644); err != nil {
			return nil, err
		}
		out[d.Name] = res
	}
	return out, nil
}
