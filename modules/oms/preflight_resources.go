package oms

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/omsrun/omsrun/internal/omsconfig"
	"github.com/omsrun/omsrun/modules"
)

// defaultOMSPorts are the five ports OMS holds on the host network, in
// obd's order: nginx, CM, Ghana, supervisor, the container's sshd
// (docs/oms-facts.md C3).
var defaultOMSPorts = []int{8089, 8088, 8090, 9000, 2023}

// What obd's resource check warns below (docs/oms-facts.md P1, P2): 8 CPUs
// and 16 GB of memory (each migration task needs about 12 GB). Memory is
// compared in KiB against 15.5 GiB, since a "16 GB" machine shows a little
// less in MemTotal.
const (
	minCPUs     = 8
	minMemKiB   = 31 * 512 * 1024 // 15.5 GiB
	memAdviceGB = 16
)

// resourceScript prints the CPU count, MemTotal in KiB and whether the host
// runs cgroup v2, one per line.
const resourceScript = `grep -c ^processor /proc/cpuinfo 2>/dev/null || echo 0
awk '/^MemTotal:/ {print $2}' /proc/meminfo 2>/dev/null || echo 0
if [ -f /sys/fs/cgroup/cgroup.controllers ]; then echo v2; else echo v1; fi`

// hostResources is what resourceScript read.
type hostResources struct {
	cpus     int
	memKiB   int64
	cgroupV2 bool
}

func parseResources(out string) hostResources {
	f := strings.Fields(out)
	var r hostResources
	if len(f) >= 3 {
		r.cpus, _ = strconv.Atoi(f[0])
		r.memKiB, _ = strconv.ParseInt(f[1], 10, 64)
		r.cgroupV2 = f[2] == "v2"
	}
	return r
}

// resourceWarnings are obd's warnings plus the troubleshooting guide's
// cgroup v2 problem: OMS up to 4.2.4 reports a wrong machine status there
// (docs/oms-facts.md P4). Warnings, not failures, as in obd.
func resourceWarnings(r hostResources, image string) []string {
	var w []string
	if r.cpus > 0 && r.cpus < minCPUs {
		w = append(w, fmt.Sprintf("%d CPUs: OMS wants at least %d", r.cpus, minCPUs))
	}
	if r.memKiB > 0 && r.memKiB < minMemKiB {
		w = append(w, fmt.Sprintf("%.1f GiB of memory: OMS wants at least %d GB (each migration task needs about 12 GB)",
			float64(r.memKiB)/(1<<20), memAdviceGB))
	}
	if r.cgroupV2 && imageAtMost(image, [3]int{4, 2, 4}) {
		w = append(w, fmt.Sprintf("cgroup v2 on this host: OMS %s (4.2.4 or older) shows a wrong server status under cgroup v2; use a later OMS or cgroup v1", image))
	}
	return w
}

var versionRE = regexp.MustCompile(`(\d+)\.(\d+)\.(\d+)`)

// imageAtMost says whether the image's tag carries a version (as in
// oms:feature_4.2.4-ce) no later than max. A tag without one says nothing.
func imageAtMost(image string, max [3]int) bool {
	tag := image
	if i := strings.LastIndex(image, ":"); i >= 0 && !strings.Contains(image[i:], "/") {
		tag = image[i+1:]
	} else {
		return false
	}
	m := versionRE.FindStringSubmatch(tag)
	if m == nil {
		return false
	}
	for i := 0; i < 3; i++ {
		n, _ := strconv.Atoi(m[i+1])
		if n != max[i] {
			return n < max[i]
		}
	}
	return true
}

// checkPortList refuses a port named twice: two OMS services cannot share
// one (obd refuses it too, docs/oms-facts.md C5).
func checkPortList(ports []int) error {
	seen := map[int]bool{}
	for _, p := range ports {
		if seen[p] {
			return fmt.Errorf("ports: %d is given twice; each OMS service needs its own port", p)
		}
		seen[p] = true
	}
	return nil
}

// checkMetaUser refuses OceanBase's sys tenant as the MetaDB, as obd does
// (docs/oms-facts.md K3).
func checkMetaUser(user string) error {
	if err := omsconfig.CheckMetaUser(user); err != nil {
		return fmt.Errorf("metadb_user %w; create a MySQL-mode tenant and a user in it", err)
	}
	return nil
}

// warnResources reports the warnings on the host's line.
func warnResources(env *modules.Env, out, image string) {
	for _, w := range resourceWarnings(parseResources(out), image) {
		env.Report.Warn(w)
	}
}
