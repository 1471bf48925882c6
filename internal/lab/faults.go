package lab

import (
	"context"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Fault hooks for tests and `omslab fault`. Each acts on one host from the
// controller, without going through the host's sshd (which may be the thing
// that is down).

// StopSSHD stops the host's sshd listener; established sessions keep running, as on a real host.
func StopSSHD(ctx context.Context, h Host) error {
	_, err := HostExec(ctx, h, "/bin/sh "+filepath.Join(h.Dir(), "sshd.sh")+" stop")
	return err
}

// StartSSHD starts the host's sshd again and waits until it accepts
// connections (sshd returns from daemonising a moment before it listens).
func StartSSHD(ctx context.Context, h Host) error {
	if _, err := HostExec(ctx, h, "/bin/sh "+filepath.Join(h.Dir(), "sshd.sh")+" start"); err != nil {
		return err
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", net.JoinHostPort(h.Address, "22"), time.Second)
		if err == nil {
			return c.Close()
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("sshd on %s does not listen after start: %w", h.Name, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// StopDocker stops the host's dockerd (which stops its containers).
func StopDocker(ctx context.Context, h Host) error {
	_, err := HostExec(ctx, h, "/bin/sh "+filepath.Join(h.Dir(), "docker.sh")+" stop")
	return err
}

// StartDocker starts the host's dockerd again and waits until it answers.
func StartDocker(ctx context.Context, h Host) error {
	_, err := HostExec(ctx, h, "/bin/sh "+filepath.Join(h.Dir(), "docker.sh")+" start")
	return err
}

// CutLink takes the host's bridge port down: packets vanish, connections
// hang rather than being refused, as when a cable is pulled.
func CutLink(h Host) error {
	_, err := run("ip", "link", "set", h.Veth(), "down")
	return err
}

// RestoreLink brings the host's bridge port back.
func RestoreLink(h Host) error {
	_, err := run("ip", "link", "set", h.Veth(), "up")
	return err
}

// blockComment marks the firewall rules BlockPort adds, so that
// UnblockPorts, Reset and check-clean find them and nothing else.
const blockComment = "omslab-port-block"

// BlockPort drops every TCP packet for port arriving at the host, as a
// firewall in front of it: a connection from a peer hangs instead of being
// refused. The rule lives in the host's network namespace, so lab-down
// takes it away with the namespace; Reset and UnblockPorts remove it.
func BlockPort(ctx context.Context, h Host, port int) error {
	_, err := HostExec(ctx, h, fmt.Sprintf("iptables -I INPUT -p tcp --dport %d -m comment --comment %s -j DROP", port, blockComment))
	return err
}

// UnblockPorts removes every rule BlockPort added on the host.
func UnblockPorts(ctx context.Context, h Host) error {
	_, err := HostExec(ctx, h, unblockScript)
	return err
}

// unblockScript deletes the marked rules one by one, by their own text; a
// host without iptables has none.
const unblockScript = `command -v iptables >/dev/null || exit 0
iptables -S INPUT | grep -e '--comment ` + blockComment + `' | sed 's/^-A /-D /' | while read -r rule; do eval "iptables $rule"; done`

// blockedPorts lists the rules BlockPort left in a lab network namespace.
func blockedPorts(netns string) []string {
	out, _ := run("ip", "netns", "exec", netns, "iptables", "-S", "INPUT")
	var rules []string
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, blockComment) {
			rules = append(rules, strings.TrimSpace(line))
		}
	}
	return rules
}

// fillFile is the file FillData creates; FreeData removes it.
const fillFile = "/data/.omslab-fill"

// FillData fills the host's /data tmpfs, leaving leaveKB kilobytes free.
func FillData(ctx context.Context, h Host, leaveKB int) error {
	_, err := HostExec(ctx, h, fmt.Sprintf(
		`avail=$(df -Pk /data | awk 'NR==2 {print $4}'); n=$((avail - %d)); [ "$n" -gt 0 ] || exit 0; fallocate -l "${n}K" %s || dd if=/dev/zero of=%s bs=1K count="$n" 2>/dev/null; true`,
		leaveKB, fillFile, fillFile))
	return err
}

// FreeData removes what FillData wrote.
func FreeData(ctx context.Context, h Host) error {
	_, err := HostExec(ctx, h, "rm -f "+fillFile)
	return err
}

// VethBytes returns rx+tx bytes of the host's link, counted on the
// controller side: everything the host sent or received.
func VethBytes(h Host) (uint64, error) {
	var total uint64
	for _, dir := range []string{"rx_bytes", "tx_bytes"} {
		out, err := readSys(filepath.Join("/sys/class/net", h.Veth(), "statistics", dir))
		if err != nil {
			return 0, err
		}
		n, err := strconv.ParseUint(out, 10, 64)
		if err != nil {
			return 0, err
		}
		total += n
	}
	return total, nil
}

// resetScript returns a host to bare: no containers, images, volumes or
// networks, an empty /data, no sudo timestamps.
const resetScript = `set -e
if [ -S /run/docker.sock ]; then
  # Retried: a container started meanwhile keeps its image from going.
  for try in 1 2 3; do
    ids=$(docker ps -aq); [ -z "$ids" ] || docker rm -f -v $ids >/dev/null 2>&1 || true
    ids=$(docker images -aq | sort -u); [ -z "$ids" ] || docker rmi -f $ids >/dev/null 2>&1 || true
    [ -z "$(docker ps -aq)$(docker images -aq)" ] && break
    [ $try -lt 3 ] || { echo "containers or images remain: $(docker ps -a --format '{{.Names}}') $(docker images -q)" >&2; exit 1; }
  done
  docker volume prune -f >/dev/null
  docker network prune -f >/dev/null
fi
find /data -mindepth 1 -maxdepth 1 -exec rm -rf {} +
rm -rf /run/sudo/ts
`

// Reset returns every host to bare concurrently and drops the MetaDB's
// non-system databases, so a test starts as on a freshly built lab. It also
// undoes every fault hook: links up, sshd, dockerd and MariaDB running.
func Reset(ctx context.Context, hosts []Host, docker bool) error {
	if err := StartMariaDB(); err != nil {
		return err
	}
	err := forEach(hosts, 16, func(h Host) error {
		if err := RestoreLink(h); err != nil {
			return err
		}
		script := unblockScript + "\n/bin/sh " + filepath.Join(h.Dir(), "sshd.sh") + " start\n"
		if docker {
			script += "/bin/sh " + filepath.Join(h.Dir(), "docker.sh") + " start\n"
		}
		script += resetScript
		if !docker {
			script = strings.Replace(script, "if [ -S /run/docker.sock ]", "if false", 1)
		}
		_, err := HostExec(ctx, h, script)
		return err
	})
	return errors.Join(err, DropMetaDatabases())
}
