package transport

import (
	"bufio"
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/omsrun/omsrun/inventory"
)

// testSSHD is a throwaway OpenSSH server on 127.0.0.1, with its own config,
// host key and authorized client key, for tests that need a real sshd
// without the lab.
type testSSHD struct {
	dir        string
	port       int
	clientKey  string // private key file accepted for the current user
	hostPub    string // host public key line
	knownHosts string // known_hosts holding the host key
	log        string // sshd's log file
	cmd        *exec.Cmd
}

func startSSHD(t *testing.T) *testSSHD {
	t.Helper()
	if os.Getuid() != 0 {
		t.Skip("the throwaway sshd needs root")
	}
	sshd, err := exec.LookPath("sshd")
	if err != nil {
		if _, err = os.Stat("/usr/sbin/sshd"); err != nil {
			t.Skip("no sshd installed")
		}
		sshd = "/usr/sbin/sshd"
	}
	// sshd refuses to start without its privilege separation directory.
	if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
		t.Skip("cannot create /run/sshd:", err)
	}
	d := &testSSHD{dir: t.TempDir()}
	keygen := func(file string) {
		out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", file).CombinedOutput()
		if err != nil {
			t.Fatalf("ssh-keygen: %v: %s", err, out)
		}
	}
	hostKey := filepath.Join(d.dir, "host_key")
	keygen(hostKey)
	d.clientKey = filepath.Join(d.dir, "client_key")
	keygen(d.clientKey)
	pub, _ := os.ReadFile(d.clientKey + ".pub")
	if err := os.WriteFile(filepath.Join(d.dir, "authorized_keys"), pub, 0o600); err != nil {
		t.Fatal(err)
	}
	hp, _ := os.ReadFile(hostKey + ".pub")
	d.hostPub = strings.TrimSpace(string(hp))

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	d.port = l.Addr().(*net.TCPAddr).Port
	l.Close()
	f := strings.Fields(d.hostPub)
	d.knownHosts = filepath.Join(d.dir, "known_hosts")
	line := "[127.0.0.1]:" + strconv.Itoa(d.port) + " " + f[0] + " " + f[1] + "\n"
	if err := os.WriteFile(d.knownHosts, []byte(line), 0o600); err != nil {
		t.Fatal(err)
	}
	d.log = filepath.Join(d.dir, "sshd.log")
	cfg := strings.Join([]string{
		"ListenAddress 127.0.0.1",
		"HostKey " + hostKey,
		"AuthorizedKeysFile " + filepath.Join(d.dir, "authorized_keys"),
		"PasswordAuthentication no",
		"KbdInteractiveAuthentication no",
		"PermitRootLogin prohibit-password",
		"StrictModes no",
		"UsePAM no",
		"PidFile " + filepath.Join(d.dir, "sshd.pid"),
		"LogLevel VERBOSE",
		"MaxSessions 10",
		"Subsystem sftp internal-sftp",
	}, "\n") + "\n"
	cfgFile := filepath.Join(d.dir, "sshd_config")
	if err := os.WriteFile(cfgFile, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	d.cmd = exec.Command(sshd, "-D", "-e", "-f", cfgFile, "-p", strconv.Itoa(d.port), "-E", d.log)
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = d.cmd.Process.Kill()
		_ = d.cmd.Wait()
	})
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := net.Dial("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(d.port)))
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(d.log)
			t.Fatalf("sshd did not come up: %s", log)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return d
}

// host is the inventory entry for this sshd, logging in as root with the client key.
func (d *testSSHD) host(name string) *inventory.Host {
	return &inventory.Host{Name: name, Address: "127.0.0.1", Port: d.port, User: "root", KeyFile: d.clientKey}
}

// config is a pool config trusting this sshd and ignoring ~/.ssh/config.
func (d *testSSHD) config() Config {
	return Config{KnownHostsFile: d.knownHosts, SSHConfigFile: "none"}
}

// connections counts the sessions sshd accepted, from its own log.
func (d *testSSHD) connections(t *testing.T) int {
	t.Helper()
	f, err := os.Open(d.log)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if strings.Contains(sc.Text(), "Accepted publickey") {
			n++
		}
	}
	return n
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// hostFingerprint is `ssh-keygen -l` of the host key: "bits SHA256:... comment (type)".
func (d *testSSHD) hostFingerprint(t *testing.T) string {
	t.Helper()
	out, err := runLocal("ssh-keygen", "-l", "-f", filepath.Join(d.dir, "host_key.pub"))
	if err != nil {
		t.Fatalf("ssh-keygen -l: %v %s", err, out)
	}
	return string(out)
}

func runLocal(name string, args ...string) ([]byte, error) {
	return exec.Command(name, args...).CombinedOutput()
}

// knownHostsFor writes a known_hosts trusting this sshd's key at another port
// (for connections through a proxy).
func (d *testSSHD) knownHostsFor(t *testing.T, port int) string {
	t.Helper()
	f := strings.Fields(d.hostPub)
	kh := filepath.Join(t.TempDir(), "known_hosts")
	line := "[127.0.0.1]:" + strconv.Itoa(port) + " " + f[0] + " " + f[1] + "\n"
	if err := os.WriteFile(kh, []byte(line), 0o600); err != nil {
		t.Fatal(err)
	}
	return kh
}
