package lab

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// deps maps a program the lab runs to the Debian package that provides it.
var deps = []struct{ bin, pkg string }{
	{"sshd", "openssh-server"}, {"ssh-keygen", "openssh-client"}, {"sudo", "sudo"},
	{"dockerd", "docker.io"}, {"mariadbd", "mariadb-server"}, {"mariadb", "mariadb-client"},
	{"ip", "iproute2"}, {"influxd", "influxdb"}, {"haproxy", "haproxy"},
	{"busybox", "busybox-static"}, {"unshare", "util-linux"}, {"nsenter", "util-linux"},
}

// EnsureDeps installs the Debian packages whose programs are missing. The
// packages' own services are kept from starting (policy-rc.d): a system
// dockerd would set the FORWARD policy to DROP, and a system influxd would
// take port 8086 on every address.
func EnsureDeps(log io.Writer) error {
	var missing []string
	seen := map[string]bool{}
	for _, d := range deps {
		if _, err := exec.LookPath(d.bin); err != nil && !seen[d.pkg] {
			missing = append(missing, d.pkg)
			seen[d.pkg] = true
		}
	}
	if len(missing) == 0 {
		return nil
	}
	fmt.Fprintf(log, "installing %s\n", strings.Join(missing, " "))
	const policy = "/usr/sbin/policy-rc.d"
	if _, err := os.Stat(policy); errors.Is(err, os.ErrNotExist) {
		if err := os.WriteFile(policy, []byte("#!/bin/sh\n# omslab: keep package services from starting during install\nexit 101\n"), 0o755); err == nil {
			defer os.Remove(policy)
		}
	}
	install := func() error {
		cmd := exec.Command("apt-get", append([]string{"install", "-y", "--no-install-recommends"}, missing...)...)
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		cmd.Stdout, cmd.Stderr = log, log
		return cmd.Run()
	}
	if err := install(); err != nil {
		if _, uerr := run("apt-get", "update"); uerr != nil {
			return fmt.Errorf("apt-get update: %w", uerr)
		}
		if err := install(); err != nil {
			return fmt.Errorf("apt-get install %s: %w", strings.Join(missing, " "), err)
		}
	}
	return nil
}

// ensureUsers creates the non-root user (shared /etc, private homes) and
// its sudo rule, which asks for the user's password.
func ensureUsers() error {
	if _, err := run("id", DeployUser); err != nil {
		if _, err := run("useradd", "-M", "-d", "/home/"+DeployUser, "-s", "/bin/bash", DeployUser); err != nil {
			return err
		}
	}
	if _, err := runIn(context.Background(), []byte(DeployUser+":"+DeployPassword+"\n"), "chpasswd"); err != nil {
		return err
	}
	rule := "# omslab: the lab's non-root user; sudo asks for its password\n" +
		"Defaults:" + DeployUser + " lecture=never\n" + DeployUser + " ALL=(ALL:ALL) ALL\n"
	return os.WriteFile("/etc/sudoers.d/omslab", []byte(rule), 0o440)
}

// ensureLabKey creates the lab's SSH key once.
func ensureLabKey() error {
	if _, err := os.Stat(LabKey); err == nil {
		return nil
	}
	os.Remove(LabKey + ".pub")
	_, err := run("ssh-keygen", "-q", "-N", "", "-t", "ed25519", "-C", "omslab", "-f", LabKey)
	return err
}

// Up brings the lab up from whatever state the machine is in. .lab/env is
// written last, so its presence means every host and service answered.
func Up(o Options, log io.Writer) error {
	start := time.Now()
	step := func(what string) { fmt.Fprintf(log, "[%5.1fs] %s\n", time.Since(start).Seconds(), what) }
	labDir := filepath.Join(o.Repo, ".lab")
	if err := os.MkdirAll(labDir, 0o755); err != nil {
		return err
	}
	os.Remove(filepath.Join(labDir, EnvFile))
	step("checking packages")
	if err := EnsureDeps(log); err != nil {
		return err
	}
	step("clearing leftovers")
	if err := Down(o.Repo, io.Discard); err != nil {
		return fmt.Errorf("clear an earlier lab: %w", err)
	}
	for _, d := range []string{RunDir, "/data", "/var/lib/docker", filepath.Join(labDir, "images")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	hosts := Hosts(o.Hosts)
	step("keys, users and images")
	if err := ensureLabKey(); err != nil {
		return err
	}
	if err := ensureUsers(); err != nil {
		return err
	}
	if err := forEach(hosts, 8, ensureHostKeys); err != nil {
		return err
	}
	imgs, err := buildImages(o, labDir)
	if err != nil {
		return err
	}
	runtime, err := writeRuntimeWrapper()
	if err != nil {
		return err
	}
	if err := writeHostsFile(hosts); err != nil {
		return err
	}
	step("network")
	if err := setupBridge(); err != nil {
		return err
	}
	if err := forEach(hosts, 8, func(h Host) error {
		if err := setupHostNet(h); err != nil {
			return err
		}
		if err := writeHostFiles(h, o, runtime); err != nil {
			return err
		}
		return bootHost(h)
	}); err != nil {
		return err
	}
	step("MetaDB and TSDB (hosts booting meanwhile)")
	for _, p := range []struct {
		port    int
		service string
	}{{MetaPort, "mariadb"}, {TSDBPort, "influxdb"}, {8088, "haproxy"}, {8089, "haproxy"}} {
		if err := freePort(p.port, p.service, log); err != nil {
			return err
		}
	}
	if err := StartMariaDB(); err != nil {
		return err
	}
	if err := setupMetaUser(); err != nil {
		return err
	}
	if err := startInflux(); err != nil {
		return err
	}
	step("VIP")
	if err := startHAProxy(hosts); err != nil {
		return err
	}
	step("waiting for hosts")
	// Booting is CPU-bound (each dockerd starts its own containerd), so the
	// wait grows with the number of hosts.
	wait := 60*time.Second + time.Duration(len(hosts))*2*time.Second
	if err := forEach(hosts, len(hosts), func(h Host) error { return waitHost(h, wait) }); err != nil {
		return err
	}
	if err := writeFacts(o, labDir, hosts, imgs); err != nil {
		return err
	}
	step(fmt.Sprintf("lab up: %d hosts, VIP %s, facts in %s", len(hosts), VIP, filepath.Join(labDir, EnvFile)))
	return nil
}

// Down removes everything the lab made on the machine: processes in the
// hosts' namespaces (containers and shims included), the namespaces, links,
// services and the run folder. Keys, the MetaDB datadir and the images stay.
func Down(repo string, log io.Writer) error {
	os.Remove(filepath.Join(repo, ".lab", EnvFile))
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

// forEach runs fn for every host, at most limit at a time, and joins the errors.
func forEach(hosts []Host, limit int, fn func(Host) error) error {
	sem := make(chan struct{}, max(limit, 1))
	var mu sync.Mutex
	var errs []error
	var wg sync.WaitGroup
	for _, h := range hosts {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if err := fn(h); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// Leftovers lists whatever of the lab still exists on the machine; empty
// after a complete lab-down. CI runs it (make lab-check-clean) after lab-down.
func Leftovers() []string {
	var out []string
	for _, ns := range labNetns() {
		out = append(out, "network namespace "+ns)
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
	return out
}

func cmdline(pid int) string {
	b, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	return strings.TrimSpace(strings.ReplaceAll(string(b), "\x00", " "))
}

// Lock takes the lab's exclusive lock (held until the returned func runs),
// so that concurrent omslab commands that change the lab run one at a time.
func Lock() (func(), error) {
	if err := os.MkdirAll(StateDir, 0o755); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(filepath.Join(StateDir, "lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock the lab: %w", err)
	}
	return func() { f.Close() }, nil
}

// RefreshImages rebuilds the stand-in images and, when the lab is up,
// rewrites its facts (the image IDs in .lab/env) without touching hosts.
func RefreshImages(o Options) error {
	labDir := filepath.Join(o.Repo, ".lab")
	if err := os.MkdirAll(filepath.Join(labDir, "images"), 0o755); err != nil {
		return err
	}
	imgs, err := buildImages(o, labDir)
	if err != nil {
		return err
	}
	env, err := ReadEnv(filepath.Join(labDir, EnvFile))
	if err != nil {
		return nil // lab down: the images are all there is to refresh
	}
	n, _ := strconv.Atoi(env["LAB_HOST_COUNT"])
	o.Docker = env["LAB_DOCKER"] == "1"
	return writeFacts(o, labDir, Hosts(n), imgs)
}
