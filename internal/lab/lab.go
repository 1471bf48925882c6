// Package lab brings up and tears down the omsrun test lab: several Linux
// "hosts" on this machine, each a network namespace plus a private mount
// namespace running its own sshd and dockerd, joined by a bridge to a
// MariaDB MetaDB, an InfluxDB TSDB and an haproxy VIP on the controller.
//
// Everything the lab creates is named from a Layout, so that teardown and
// the test helpers (package labtest) find the same things lab-up made.
package lab

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
)

// Fixed network plan. The subnet is dedicated to the lab; nothing else on
// the machine uses it.
const (
	Subnet     = "10.77.0.0/24"
	Controller = "10.77.0.1" // the bridge address: MetaDB, TSDB, haproxy checks
	VIP        = "10.77.0.100"
	// VIP2 is the second region's VIP, on a lab brought up with LAB_REGIONS=2.
	VIP2        = "10.77.0.200"
	Bridge      = "omslab0"
	NetnsPrefix = "omslab-"
	VethPrefix  = "olv-"
	MaxHosts    = 100

	MetaPort = 3306
	TSDBPort = 8086

	// StateDir keeps what must survive lab-down (host keys, the lab key,
	// MariaDB and InfluxDB data). It lies outside every folder a host makes
	// private, so boot scripts can read it.
	StateDir = "/var/lib/omslab"
	// RunDir holds what one lab run creates (configs, logs, docker data
	// roots); lab-down deletes it.
	RunDir = StateDir + "/run"

	DeployUser = "deploy"
)

// Credentials of the lab services. They are test fixtures, not secrets; the
// MetaDB password contains YAML-significant characters on purpose, so that
// rendering config.yaml without quoting fails visibly.
const (
	MetaUser       = "oms"
	MetaPassword   = "oms#Meta: 2026"
	TSDBUser       = "omstsdb"
	TSDBPassword   = "tsdb-Pass1"
	DeployPassword = "deploy#Pw1"
)

// Options are the knobs of lab-up, from the environment.
type Options struct {
	Hosts   int  // LAB_HOSTS, default 3
	Docker  bool // LAB_DOCKER, default true
	ImageMB int  // LAB_IMAGE_MB: filler added to the default image
	DataMB  int  // LAB_DATA_MB: size of each host's /data tmpfs, default 3072
	// Regions is LAB_REGIONS, 1 (default) or 2: two regions add one host and
	// a second VIP (VIP2) in front of the second region's hosts.
	Regions int
	Repo    string
}

// OptionsFromEnv reads LAB_HOSTS, LAB_DOCKER, LAB_IMAGE_MB, LAB_DATA_MB and LAB_REGIONS.
func OptionsFromEnv(repo string) (Options, error) {
	o := Options{Hosts: 3, Docker: true, DataMB: 3072, Regions: 1, Repo: repo}
	var err error
	if v := os.Getenv("LAB_HOSTS"); v != "" {
		if o.Hosts, err = strconv.Atoi(v); err != nil || o.Hosts < 1 || o.Hosts > MaxHosts {
			return o, fmt.Errorf("LAB_HOSTS=%q: want a number from 1 to %d", v, MaxHosts)
		}
	}
	if v := os.Getenv("LAB_DOCKER"); v == "0" || v == "false" || v == "no" {
		o.Docker = false
	}
	if v := os.Getenv("LAB_IMAGE_MB"); v != "" {
		if o.ImageMB, err = strconv.Atoi(v); err != nil || o.ImageMB < 0 {
			return o, fmt.Errorf("LAB_IMAGE_MB=%q: want a number of MiB", v)
		}
	}
	if v := os.Getenv("LAB_DATA_MB"); v != "" {
		if o.DataMB, err = strconv.Atoi(v); err != nil || o.DataMB < 16 {
			return o, fmt.Errorf("LAB_DATA_MB=%q: want a number of MiB (at least 16)", v)
		}
	}
	switch v := os.Getenv("LAB_REGIONS"); v {
	case "", "1":
	case "2":
		// The second region gets a host of its own beside the default ones
		// (3 → 4 hosts: oms1, oms2 | oms3, oms4).
		if o.Hosts++; o.Hosts > MaxHosts {
			return o, fmt.Errorf("LAB_REGIONS=2 adds a host to LAB_HOSTS=%d: more than %d", o.Hosts-1, MaxHosts)
		}
		o.Regions = 2
	default:
		return o, fmt.Errorf("LAB_REGIONS=%q: want 1 or 2", v)
	}
	return o, nil
}

// RegionHosts splits hosts into regions: with two, the first half (rounded
// up) is region 1, behind VIP, and the rest region 2, behind VIP2.
func RegionHosts(hosts []Host, regions int) [][]Host {
	if regions < 2 || len(hosts) < 2 {
		return [][]Host{hosts}
	}
	half := (len(hosts) + 1) / 2
	return [][]Host{hosts[:half], hosts[half:]}
}

// Host is one lab host.
type Host struct {
	Index   int // 1-based
	Name    string
	Address string
}

// HostAt returns the i-th host (1-based). Addresses start at .11 and skip
// the VIP, so that up to 100 hosts fit the /24.
func HostAt(i int) Host {
	last := 10 + i
	if last >= 100 {
		last++
	}
	return Host{Index: i, Name: "oms" + strconv.Itoa(i), Address: "10.77.0." + strconv.Itoa(last)}
}

// Hosts returns hosts 1..n.
func Hosts(n int) []Host {
	out := make([]Host, n)
	for i := range out {
		out[i] = HostAt(i + 1)
	}
	return out
}

// Netns is the host's network namespace name (under /run/netns).
func (h Host) Netns() string { return NetnsPrefix + h.Name }

// Veth is the controller-side end of the host's link, on the bridge; its
// counters are the host's traffic as seen from outside.
func (h Host) Veth() string { return VethPrefix + h.Name }

// Dir is the host's per-run folder: boot script, configs, logs, docker root.
func (h Host) Dir() string { return filepath.Join(RunDir, "hosts", h.Name) }

// KeyDir keeps the host's SSH host keys across lab-down/lab-up.
func (h Host) KeyDir() string { return filepath.Join(StateDir, "hostkeys", h.Name) }

// SSHDLog is sshd's own log for the host (LogLevel VERBOSE).
func (h Host) SSHDLog() string { return filepath.Join(h.Dir(), "sshd.log") }

// AnchorPIDFile holds the pid of the process that keeps the host's
// namespaces alive; nsenter -t that pid enters the host.
func (h Host) AnchorPIDFile() string { return filepath.Join(h.Dir(), "anchor.pid") }

// LabKey is the private key authorised for root and deploy on every host.
const LabKey = StateDir + "/id_ed25519"
