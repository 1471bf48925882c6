package lab

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"text/template"
	"time"
)

// hostKeyTypes are generated once per host and kept in StateDir, so that a
// rebuilt lab presents the same keys. Several types let tests exercise
// known_hosts files with mixed key types.
var hostKeyTypes = []string{"ed25519", "ecdsa", "rsa"}

func ensureHostKeys(h Host) error {
	if err := os.MkdirAll(h.KeyDir(), 0o700); err != nil {
		return err
	}
	for _, t := range hostKeyTypes {
		f := filepath.Join(h.KeyDir(), "ssh_host_"+t+"_key")
		if _, err := os.Stat(f); err == nil {
			continue
		}
		os.Remove(f + ".pub")
		args := []string{"-q", "-N", "", "-t", t, "-C", "root@" + h.Name, "-f", f}
		if t == "rsa" {
			args = append(args, "-b", "2048")
		}
		if _, err := run("ssh-keygen", args...); err != nil {
			return err
		}
	}
	return nil
}

// hostKnownHosts returns the known_hosts lines for h.
func hostKnownHosts(h Host) (string, error) {
	var b strings.Builder
	for _, t := range hostKeyTypes {
		pub, err := os.ReadFile(filepath.Join(h.KeyDir(), "ssh_host_"+t+"_key.pub"))
		if err != nil {
			return "", err
		}
		f := strings.Fields(string(pub))
		if len(f) < 2 {
			return "", fmt.Errorf("host %s: malformed %s public key", h.Name, t)
		}
		fmt.Fprintf(&b, "%s %s %s\n", h.Address, f[0], f[1])
	}
	return b.String(), nil
}

type hostData struct {
	Host
	Opts      Options
	Dir       string
	KeyDir    string
	LabKey    string
	DataMB    int
	Docker    bool
	Deploy    string
	Anchor    string
	SSHDLog   string
	Runtime   string // runc wrapper, when the machine lacks capabilities
	HostsFile string
}

var sshdConfigTmpl = template.Must(template.New("sshd").Parse(`# omslab: sshd of lab host {{.Name}}
ListenAddress {{.Address}}
Port 22
HostKey {{.KeyDir}}/ssh_host_ed25519_key
HostKey {{.KeyDir}}/ssh_host_ecdsa_key
HostKey {{.KeyDir}}/ssh_host_rsa_key
PidFile /run/sshd.pid
LogLevel VERBOSE
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication yes
KbdInteractiveAuthentication no
UsePAM no
AuthorizedKeysFile .ssh/authorized_keys
MaxSessions 10
MaxStartups 100:30:200
LoginGraceTime 30
UseDNS no
PrintMotd no
PrintLastLog no
AllowTcpForwarding yes
AcceptEnv LANG LC_*
Subsystem sftp internal-sftp
`))

// bootTmpl runs as the first process of the host, already inside its
// network namespace and in fresh mount and UTS namespaces. It makes the
// per-host folders private, starts dockerd and sshd, and then stays as the
// anchor that keeps the namespaces alive while sshd or dockerd are stopped
// by fault tests.
var bootTmpl = template.Must(template.New("boot").Parse(`#!/bin/sh
# omslab: boot script of lab host {{.Name}} ({{.Address}})
set -eu
D={{.Dir}}
hostname {{.Name}}
mount -t tmpfs -o mode=0755,size=512m omslab-run /run
mkdir -p /run/lock /run/sshd /run/sudo
[ -L /var/lock ] || mount -t tmpfs -o mode=1777,size=16m omslab-lock /var/lock
mount -t tmpfs -o mode=0700,size=256m omslab-root /root
mount -t tmpfs -o mode=0755,size=256m omslab-home /home
mount -t tmpfs -o mode=1777,size=1g omslab-tmp /tmp
mount -t tmpfs -o mode=0755,size=256m omslab-log /var/log
mount -t tmpfs -o mode=0755,size={{.DataMB}}m omslab-data /data
mount --bind {{.HostsFile}} /etc/hosts
mkdir -p "$D/docker"
mount --bind "$D/docker" /var/lib/docker
mkdir -p /root/.ssh /home/{{.Deploy}}/.ssh
cp {{.LabKey}}.pub /root/.ssh/authorized_keys
cp {{.LabKey}}.pub /home/{{.Deploy}}/.ssh/authorized_keys
chmod 700 /root/.ssh /home/{{.Deploy}}/.ssh
chmod 600 /root/.ssh/authorized_keys /home/{{.Deploy}}/.ssh/authorized_keys
chown -R {{.Deploy}}: /home/{{.Deploy}}
chmod 750 /home/{{.Deploy}}
{{if .Docker}}/bin/sh "$D/docker.sh" start
{{end}}/bin/sh "$D/sshd.sh" start
echo $$ > {{.Anchor}}
exec sleep infinity
`))

// sshdTmpl and dockerTmpl start and stop one daemon; they run inside the
// host (omslab nsenters first), both at boot and for fault tests. dockerd
// gets the cgroupfs driver because the systemd one (its default on cgroup
// v2) talks to systemd over D-Bus in /run, which is private to the host.
var sshdTmpl = template.Must(template.New("sshd.sh").Parse(`#!/bin/sh
# omslab: start|stop sshd of lab host {{.Name}}
case "$1" in
start)
  if [ -f /run/sshd.pid ] && kill -0 "$(cat /run/sshd.pid)" 2>/dev/null; then exit 0; fi
  exec /usr/sbin/sshd -f {{.Dir}}/sshd_config -E {{.SSHDLog}} ;;
stop)
  [ -f /run/sshd.pid ] || exit 0
  pid=$(cat /run/sshd.pid)
  kill "$pid" 2>/dev/null || true
  while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
  rm -f /run/sshd.pid ;;
*) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
`))

var dockerTmpl = template.Must(template.New("docker.sh").Parse(`#!/bin/sh
# omslab: start|stop dockerd of lab host {{.Name}}
case "$1" in
start)
  if [ -f /run/docker.pid ] && kill -0 "$(cat /run/docker.pid)" 2>/dev/null; then exit 0; fi
  setsid /usr/sbin/dockerd --host unix:///run/docker.sock --data-root /var/lib/docker --exec-root /run/docker \
    --pidfile /run/docker.pid --bridge=none --iptables=false --ip-masq=false --userland-proxy=false \
    --exec-opt native.cgroupdriver=cgroupfs \
    {{if .Runtime}}--add-runtime omslab={{.Runtime}} --default-runtime omslab {{end}}--log-level warn >>{{.Dir}}/dockerd.log 2>&1 </dev/null &
  i=0
  until /usr/bin/docker -H unix:///run/docker.sock version >/dev/null 2>&1; do
    i=$((i+1)); [ $i -lt 600 ] || { echo "dockerd did not come up, see {{.Dir}}/dockerd.log" >&2; exit 1; }
    sleep 0.1
  done ;;
stop)
  [ -f /run/docker.pid ] || exit 0
  pid=$(cat /run/docker.pid)
  kill "$pid" 2>/dev/null || true
  while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done ;;
*) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
`))

// writeHostFiles renders the host's sshd config and scripts into its run folder.
func writeHostFiles(h Host, o Options, runtime string) error {
	d := hostData{Runtime: runtime, HostsFile: hostsFile, Host: h, Opts: o, Dir: h.Dir(), KeyDir: h.KeyDir(), LabKey: LabKey, DataMB: o.DataMB,
		Docker: o.Docker, Deploy: DeployUser, Anchor: h.AnchorPIDFile(), SSHDLog: h.SSHDLog()}
	if err := os.MkdirAll(h.Dir(), 0o755); err != nil {
		return err
	}
	files := map[string]*template.Template{"sshd_config": sshdConfigTmpl, "boot.sh": bootTmpl, "sshd.sh": sshdTmpl, "docker.sh": dockerTmpl}
	for name, t := range files {
		var b strings.Builder
		if err := t.Execute(&b, d); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(h.Dir(), name), []byte(b.String()), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// hostsFile is bind-mounted over each host's /etc/hosts so that every
// host resolves its own name (sudo warns on every call otherwise) and its
// peers', without touching the controller's /etc/hosts.
var hostsFile = filepath.Join(RunDir, "hosts.txt")

func writeHostsFile(hosts []Host) error {
	var b strings.Builder
	b.WriteString("# omslab: /etc/hosts of the lab hosts\n127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n")
	fmt.Fprintf(&b, "%s\tcontroller\n", Controller)
	for _, h := range hosts {
		fmt.Fprintf(&b, "%s\t%s\n", h.Address, h.Name)
	}
	return os.WriteFile(hostsFile, []byte(b.String()), 0o644)
}

// bootHost starts the host's first process: new mount and UTS namespaces
// (unshare), then the host's network namespace (nsenter). `ip netns exec` is
// not used because it remounts /sys, which hides the cgroup mounts dockerd needs.
func bootHost(h Host) error {
	_, err := startDetached(filepath.Join(h.Dir(), "boot.log"),
		"unshare", "-m", "-u", "--propagation", "private",
		"nsenter", "--net=/run/netns/"+h.Netns(), "/bin/sh", filepath.Join(h.Dir(), "boot.sh"))
	return err
}

// waitHost waits until the boot script finished and sshd accepts connections.
func waitHost(h Host, timeout time.Duration) error {
	return waitFor("host "+h.Name, timeout, func() error {
		if !alive(readPID(h.AnchorPIDFile())) {
			if b, err := os.ReadFile(filepath.Join(h.Dir(), "boot.log")); err == nil && len(b) > 0 {
				return fmt.Errorf("booting (boot.log: %s)", lastLines(string(b), 5))
			}
			return fmt.Errorf("booting")
		}
		c, err := net.DialTimeout("tcp", net.JoinHostPort(h.Address, "22"), time.Second)
		if err != nil {
			return err
		}
		return c.Close()
	})
}

// HostCommand returns a command that runs script with /bin/sh inside the
// host's namespaces, as root, without going through its sshd.
func HostCommand(ctx context.Context, h Host, script string) (*exec.Cmd, error) {
	pid := readPID(h.AnchorPIDFile())
	if !alive(pid) {
		return nil, fmt.Errorf("host %s is not running (no anchor process)", h.Name)
	}
	cmd := exec.CommandContext(ctx, "nsenter", "-t", strconv.Itoa(pid), "-m", "-n", "-u", "--", "/bin/sh", "-c", script)
	cmd.Env = append(os.Environ(), "HOME=/root")
	return cmd, nil
}

// HostExec runs script inside the host and returns stdout (trimmed); the
// error includes stderr.
func HostExec(ctx context.Context, h Host, script string) (string, error) {
	cmd, err := HostCommand(ctx, h, script)
	if err != nil {
		return "", err
	}
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("host %s: %q: %w: %s", h.Name, script, err, strings.TrimSpace(errb.String()))
	}
	return strings.TrimSpace(out.String()), nil
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}
