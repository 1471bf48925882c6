package lab

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Down removes everything the lab made on the machine: processes in the
// hosts' namespaces (containers and shims included), the namespaces, links,
// services and the run folder. Keys, the MetaDB datadir and the images stay.
func Down(repo string, log io.Writer) error {
	os.Remove(filepath.Join(repo, ".lab", EnvFile))
	os.Remove(filepath.Join(repo, RepoInventory))
	var errs []error
	netns := labNetns()
	pids := map[int]bool{}
	for _, ns := range netns {
		out, _ := run("ip", "netns", "pids", ns)
		for _, f := range strings.Fields(out) {
			if pid, err := strconv.Atoi(f); err == nil {
				pids[pid] = true
			}
		}
	}
	// Containers without --net host live in their own namespaces; they are
	// found as descendants of the hosts' processes (shims, dockerd).
	for pid := range labProcesses() {
		pids[pid] = true
	}
	for pid := range descendants(pids) {
		pids[pid] = true
	}
	fmt.Fprintf(log, "stopping %d host processes\n", len(pids))
	for pid := range pids {
		syscall.Kill(pid, syscall.SIGKILL)
	}
	deadline := time.Now().Add(10 * time.Second)
	for pid := range pids {
		for alive(pid) && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		if alive(pid) {
			errs = append(errs, fmt.Errorf("process %d survived SIGKILL", pid))
		}
	}
	stopPID(readPID(haproxyPID), 5*time.Second)
	stopPID(readPID(influxPID), 10*time.Second)
	StopMariaDB()
	for _, ns := range netns {
		if _, err := run("ip", "netns", "del", ns); err != nil {
			errs = append(errs, err)
		}
	}
	for _, l := range labLinks() {
		if _, err := run("ip", "link", "del", l); err != nil && !strings.Contains(err.Error(), "Cannot find") {
			errs = append(errs, err)
		}
	}
	for _, m := range labMounts() {
		syscall.Unmount(m, syscall.MNT_DETACH)
	}
	cleanCgroups()
	// An interrupted bench's byte counters (the shaping went with the bridge).
	if err := UncountUplink(); err != nil {
		errs = append(errs, err)
	}
	if err := os.RemoveAll(RunDir); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// labProcesses finds processes whose command line names the lab's folders,
// in case a namespace was deleted while something still ran in it.
func labProcesses() map[int]bool {
	out := map[int]bool{}
	self := os.Getpid()
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == self {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err != nil {
			continue
		}
		if strings.Contains(string(b), RunDir) {
			out[pid] = true
		}
	}
	return out
}

// descendants returns every process below the given ones.
func descendants(roots map[int]bool) map[int]bool {
	children := map[int][]int{}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(s[i+1:])
		if len(f) < 2 {
			continue
		}
		ppid, _ := strconv.Atoi(f[1])
		children[ppid] = append(children[ppid], pid)
	}
	out := map[int]bool{}
	queue := make([]int, 0, len(roots))
	for pid := range roots {
		queue = append(queue, pid)
	}
	for len(queue) > 0 {
		pid := queue[0]
		queue = queue[1:]
		for _, c := range children[pid] {
			if !out[c] && !roots[c] {
				out[c] = true
				queue = append(queue, c)
			}
		}
	}
	return out
}

// labMounts lists mount points in this namespace that belong to the lab
// (there should be none: hosts mount only inside their own namespaces).
func labMounts() []string {
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return nil
	}
	var out []string
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 5 {
			continue
		}
		mp := f[4]
		if strings.HasPrefix(mp, StateDir) || strings.HasPrefix(mp, "/run/netns/"+NetnsPrefix) || strings.Contains(line, " omslab-") {
			out = append(out, mp)
		}
	}
	// Deepest first, so nested mounts come off before their parents.
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out
}

// cleanCgroups removes the empty cgroups the hosts' dockerds made for
// their containers. No dockerd runs in the root namespace, so every
// docker cgroup is the lab's.
func cleanCgroups() {
	var dirs []string
	// cgroup v1 (a hierarchy per controller) and v2 (one unified tree).
	for _, pattern := range []string{"/sys/fs/cgroup/*/docker/*", "/sys/fs/cgroup/*/docker", "/sys/fs/cgroup/docker/*", "/sys/fs/cgroup/docker"} {
		m, _ := filepath.Glob(pattern)
		dirs = append(dirs, m...)
	}
	for _, d := range dirs {
		if st, err := os.Stat(d); err == nil && st.IsDir() {
			syscall.Rmdir(d)
		}
	}
}

// Leftovers lists whatever of the lab still exists on the machine; empty
// after a complete lab-down. CI runs it (make lab-check-clean) after lab-down.
func Leftovers() []string {
	var out []string
	for _, ns := range labNetns() {
		out = append(out, "network namespace "+ns)
		// A port-block fault: checked apart, so that check-clean also
		// catches it while the lab is up.
		for _, r := range blockedPorts(ns) {
			out = append(out, "firewall rule in "+ns+" (port-block fault): "+r)
		}
	}
	for _, l := range labLinks() {
		out = append(out, "link "+l)
	}
	for pid := range labProcesses() {
		out = append(out, fmt.Sprintf("process %d (%s)", pid, cmdline(pid)))
	}
	// Processes of the lab's services and hosts, found by what they run and
	// where: a dockerd, containerd or sshd outside the root network namespace.
	self, _ := os.Readlink("/proc/self/ns/net")
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		ns, err := os.Readlink("/proc/" + e.Name() + "/ns/net")
		if err != nil || ns == self {
			continue
		}
		out = append(out, fmt.Sprintf("process %d in another network namespace (%s)", pid, cmdline(pid)))
	}
	for _, m := range labMounts() {
		out = append(out, "mount "+m)
	}
	if _, err := os.Stat(RunDir); err == nil {
		out = append(out, "folder "+RunDir)
	}
	// The bench's link shaping, checked apart from the bridge itself so that
	// check-clean also catches it while the lab is up.
	if q := BridgeQdisc(); q != "" {
		out = append(out, "queueing discipline on "+Bridge+" (bench shaping): "+q)
	}
	// Its byte counters too: they hook every packet the controller sends.
	if countTableExists() {
		out = append(out, "nftables table inet "+countTable+" (bench uplink counters)")
	}
	return out
}

func cmdline(pid int) string {
	b, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	return strings.TrimSpace(strings.ReplaceAll(string(b), "\x00", " "))
}
