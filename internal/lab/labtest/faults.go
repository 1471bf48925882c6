package labtest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/omsrun/omsrun/internal/lab"
)

// Fault hooks. Each registers its undo with t.Cleanup, so a failing test
// does not leave the lab broken for the next one; calling the undo
// yourself earlier is fine (they are idempotent).

func ctx(t testing.TB) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return c
}

// StopSSHD stops host's sshd listener (new connections are refused).
func (l *Lab) StopSSHD(t testing.TB, host string) {
	t.Helper()
	h := l.host(t, host)
	if err := lab.StopSSHD(ctx(t), h); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lab.StartSSHD(context.Background(), h) })
}

// StartSSHD starts host's sshd again.
func (l *Lab) StartSSHD(t testing.TB, host string) {
	t.Helper()
	if err := lab.StartSSHD(ctx(t), l.host(t, host)); err != nil {
		t.Fatal(err)
	}
}

// CutLink takes host's link down: packets are dropped silently, so
// connections hang rather than fail.
func (l *Lab) CutLink(t testing.TB, host string) {
	t.Helper()
	h := l.host(t, host)
	if err := lab.CutLink(h); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lab.RestoreLink(h) })
}

// RestoreLink brings host's link back up.
func (l *Lab) RestoreLink(t testing.TB, host string) {
	t.Helper()
	if err := lab.RestoreLink(l.host(t, host)); err != nil {
		t.Fatal(err)
	}
}

// StopDocker stops host's dockerd (and with it its containers).
func (l *Lab) StopDocker(t testing.TB, host string) {
	t.Helper()
	h := l.host(t, host)
	if err := lab.StopDocker(ctx(t), h); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lab.StartDocker(context.Background(), h) })
}

// StartDocker starts host's dockerd and waits until it answers.
func (l *Lab) StartDocker(t testing.TB, host string) {
	t.Helper()
	if err := lab.StartDocker(ctx(t), l.host(t, host)); err != nil {
		t.Fatal(err)
	}
}

// FillData fills host's /data (a tmpfs of a few GiB) until leaveKB KiB are free.
func (l *Lab) FillData(t testing.TB, host string, leaveKB int) {
	t.Helper()
	h := l.host(t, host)
	if err := lab.FillData(ctx(t), h, leaveKB); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lab.FreeData(context.Background(), h) })
}

// FreeData removes what FillData wrote.
func (l *Lab) FreeData(t testing.TB, host string) {
	t.Helper()
	if err := lab.FreeData(ctx(t), l.host(t, host)); err != nil {
		t.Fatal(err)
	}
}

// StopMariaDB stops the MetaDB.
func (l *Lab) StopMariaDB(t testing.TB) {
	t.Helper()
	if err := lab.StopMariaDB(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lab.StartMariaDB() })
}

// StartMariaDB starts the MetaDB and waits until it accepts connections.
func (l *Lab) StartMariaDB(t testing.TB) {
	t.Helper()
	if err := lab.StartMariaDB(); err != nil {
		t.Fatal(err)
	}
}

// Reset returns every host to bare (no containers, no images, empty /data,
// no sudo timestamps), drops the MetaDB's OMS databases, and undoes any
// fault left in place. It takes a few seconds.
func (l *Lab) Reset(t testing.TB) {
	t.Helper()
	if err := lab.Reset(ctx(t), l.hosts, l.Docker); err != nil {
		t.Fatalf("reset the lab: %v", err)
	}
}

// DropMetaDatabases drops every non-system database in the MetaDB.
func (l *Lab) DropMetaDatabases(t testing.TB) {
	t.Helper()
	if err := lab.DropMetaDatabases(); err != nil {
		t.Fatal(err)
	}
}

// MetaSQL runs SQL on the MetaDB as its root user (batch output, no column
// names) and returns the output.
func (l *Lab) MetaSQL(t testing.TB, sql string) string {
	t.Helper()
	out, err := lab.MariaDBSQL(sql)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// VethBytes is the host's rx+tx byte count on its link, read on the
// controller: what went over the wire, whoever sent it.
func (l *Lab) VethBytes(t testing.TB, host string) uint64 {
	t.Helper()
	n, err := lab.VethBytes(l.host(t, host))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// SSHDConnections counts the TCP connections host's sshd accepted since
// the lab came up, from sshd's own log.
func (l *Lab) SSHDConnections(t testing.TB, host string) int {
	t.Helper()
	b, err := os.ReadFile(l.host(t, host).SSHDLog())
	if err != nil {
		t.Fatal(err)
	}
	return strings.Count(string(b), "Connection from ")
}

// SSHDLog returns host's sshd log (LogLevel VERBOSE).
func (l *Lab) SSHDLog(t testing.TB, host string) string {
	t.Helper()
	b, err := os.ReadFile(l.host(t, host).SSHDLog())
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// SetStartupDelay makes the stand-in on every host take d to start (and to
// come back from every supervisorctl restart) in containers that mount
// mountDir, by writing the file it reads under mountDir/run. The end of the
// test puts the lab's default back.
func (l *Lab) SetStartupDelay(t testing.TB, mountDir string, d time.Duration) {
	t.Helper()
	file := filepath.Join(mountDir, "run", filepath.Base(lab.StandinDelayFile))
	for _, h := range l.Hosts {
		l.Exec(t, h.Name, fmt.Sprintf("mkdir -p %s && echo %s > %s", filepath.Dir(file), d, file))
	}
	t.Cleanup(func() {
		for _, h := range l.Hosts {
			l.Run(context.Background(), h.Name, "rm -f "+file)
		}
	})
}

// ConfigureVIP restarts the VIP's haproxy with o until the end of the test.
func (l *Lab) ConfigureVIP(t testing.TB, o lab.VIPOptions) {
	t.Helper()
	if err := lab.ConfigureVIP(l.hosts, o); err != nil {
		t.Fatalf("configure the VIP: %v", err)
	}
	t.Cleanup(func() {
		if err := lab.ConfigureVIP(l.hosts, lab.VIPOptions{}); err != nil {
			t.Errorf("restore the VIP: %v", err)
		}
	})
}

// BlockPort drops TCP packets for port arriving at host (a firewall's
// drop); the test's cleanup and Reset remove the rule.
func (l *Lab) BlockPort(t testing.TB, host string, port int) {
	t.Helper()
	h := l.host(t, host)
	if err := lab.BlockPort(context.Background(), h, port); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lab.UnblockPorts(context.Background(), h) })
}

// UnblockPorts removes what BlockPort did on host.
func (l *Lab) UnblockPorts(t testing.TB, host string) {
	t.Helper()
	if err := lab.UnblockPorts(context.Background(), l.host(t, host)); err != nil {
		t.Fatal(err)
	}
}
