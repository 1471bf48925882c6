package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/omsrun/omsrun/internal/lab"
	"github.com/omsrun/omsrun/internal/lab/labtest"
	"github.com/omsrun/omsrun/internal/secret"
	"github.com/omsrun/omsrun/internal/transport"
	"github.com/omsrun/omsrun/inventory"
)

// trRootHosts are the lab hosts as inventory entries, logging in as root with the lab key.
func trRootHosts(l *labtest.Lab) []*inventory.Host {
	var out []*inventory.Host
	for _, h := range l.Hosts {
		out = append(out, &inventory.Host{Name: h.Name, Address: h.Address, Port: 22, User: "root", KeyFile: l.Key})
	}
	return out
}

// trDeployHost is host i as the non-root user with a password and sudo.
func trDeployHost(l *labtest.Lab, i int) *inventory.Host {
	h := l.Hosts[i]
	return &inventory.Host{
		Name: h.Name, Address: h.Address, Port: 22, User: l.DeployUser,
		Password: secret.String(l.DeployPassword), Become: true, BecomePassword: secret.String(l.DeployPassword),
	}
}

func trConfig(t *testing.T, l *labtest.Lab) transport.Config {
	return transport.Config{
		KnownHostsFile: l.KnownHosts,
		SSHConfigFile:  "none",
		Logf:           func(f string, a ...any) { t.Logf("ssh: "+f, a...) },
	}
}

func trCtx(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func trPool(t *testing.T, cfg transport.Config) *transport.Pool {
	p := transport.NewPool(cfg)
	t.Cleanup(func() { p.Close() })
	return p
}

// TestTransportRunsOnThreeHosts runs commands on every host at once and checks
// values with shell metacharacters reach the remote command literally.
func TestTransportRunsOnThreeHosts(t *testing.T) {
	l := labtest.Require(t)
	p := trPool(t, trConfig(t, l))
	nasty := []string{"a b", "it's", `"dq"`, "$(touch /tmp/omsrun-pwned)", "`id`", "x; echo injected", "l1\nl2", "*", ""}
	var wg sync.WaitGroup
	for _, ih := range trRootHosts(l) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx := trCtx(t, time.Minute)
			h, err := p.Get(ctx, ih)
			if err != nil {
				t.Error(err)
				return
			}
			res, err := h.Run(ctx, transport.Cmd{Argv: []string{"uname", "-n"}})
			if err != nil || res.ExitCode != 0 || strings.TrimSpace(string(res.Stdout)) != ih.Name {
				t.Errorf("%s: uname -n: %q %q exit %d err %v", ih.Name, res.Stdout, res.Stderr, res.ExitCode, err)
			}
			res, err = h.Run(ctx, transport.Cmd{Argv: append([]string{"printf", "[%s]"}, nasty...)})
			want := ""
			for _, v := range nasty {
				want += "[" + v + "]"
			}
			if err != nil || string(res.Stdout) != want {
				t.Errorf("%s: argv arrived as %q, want %q (err %v)", ih.Name, res.Stdout, want, err)
			}
			script := "printf %s " + transport.Quote(nasty[3]+nasty[5]) + "; exit 7"
			res, err = h.Run(ctx, transport.Cmd{Script: script})
			if err != nil || res.ExitCode != 7 || string(res.Stdout) != nasty[3]+nasty[5] {
				t.Errorf("%s: script gave %q exit %d err %v", ih.Name, res.Stdout, res.ExitCode, err)
			}
		}()
	}
	wg.Wait()
	for _, h := range l.Hosts {
		if out := l.Exec(t, h.Name, "ls /tmp/omsrun-pwned 2>/dev/null || true"); out != "" {
			t.Errorf("%s: a quoted value was executed", h.Name)
		}
	}
}

// TestTransportOneConnectionPerHost runs many commands, more at once than
// MaxSessions, and counts the connections in sshd's own log. The pool logs in
// with a key made for this test alone, so connections of anything else
// running against the lab are not counted.
func TestTransportOneConnectionPerHost(t *testing.T) {
	l := labtest.Require(t)
	key, fp := trTestKey(t, l)
	p := trPool(t, trConfig(t, l))
	const runs = 30
	var wg sync.WaitGroup
	for _, ih := range trRootHosts(l) {
		ih.KeyFile = key
		for i := 0; i < runs; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ctx := trCtx(t, 2*time.Minute)
				h, err := p.Get(ctx, ih)
				if err != nil {
					t.Error(err)
					return
				}
				res, err := h.Run(ctx, transport.Cmd{Script: "sleep 0.2; echo " + strconv.Itoa(i)})
				if err != nil || strings.TrimSpace(string(res.Stdout)) != strconv.Itoa(i) {
					t.Errorf("%s run %d: %q %q err %v", ih.Name, i, res.Stdout, res.Stderr, err)
				}
			}()
		}
	}
	wg.Wait()
	if p.Dials() != len(l.Hosts) {
		t.Errorf("pool reports %d dials for %d hosts", p.Dials(), len(l.Hosts))
	}
	for _, h := range l.Hosts {
		log := l.SSHDLog(t, h.Name)
		if got := strings.Count(log, "Accepted publickey for root from "+l.Controller); got == 0 {
			t.Fatalf("%s: sshd log has no accepted logins: is LogLevel VERBOSE?", h.Name)
		}
		got := 0
		for _, line := range strings.Split(log, "\n") {
			if strings.Contains(line, "Accepted publickey for root") && strings.Contains(line, fp) {
				got++
			}
		}
		if got != 1 {
			t.Errorf("%s: sshd accepted %d connections for %d commands, want 1", h.Name, got, runs)
		}
	}
}

// trTestKey makes a client key, authorises it for root on every host until
// the test ends, and returns its file and SHA256 fingerprint.
func trTestKey(t *testing.T, l *labtest.Lab) (string, string) {
	file := filepath.Join(t.TempDir(), "id_ed25519")
	comment := "omsrun-transport-test-" + trTag()
	if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", file).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen: %v %s", err, out)
	}
	pub, err := os.ReadFile(file + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	k, _, _, _, err := ssh.ParseAuthorizedKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range l.Hosts {
		l.Exec(t, h.Name, "echo "+transport.Quote(strings.TrimSpace(string(pub)))+" >> /root/.ssh/authorized_keys")
		t.Cleanup(func() {
			l.Exec(t, h.Name, "sed -i '/ "+comment+"$/d' /root/.ssh/authorized_keys")
		})
	}
	return file, ssh.FingerprintSHA256(k)
}

// trHostKeys reads the lab's known_hosts keys of one address.
func trHostKeys(t *testing.T, l *labtest.Lab, addr string) []ssh.PublicKey {
	data, err := os.ReadFile(l.KnownHosts)
	if err != nil {
		t.Fatal(err)
	}
	var keys []ssh.PublicKey
	for len(data) > 0 {
		_, hosts, key, _, rest, err := ssh.ParseKnownHosts(data)
		if err != nil {
			break
		}
		for _, h := range hosts {
			if h == addr {
				keys = append(keys, key)
			}
		}
		data = rest
	}
	if len(keys) == 0 {
		t.Fatalf("no keys for %s in %s", addr, l.KnownHosts)
	}
	return keys
}

func TestTransportUnknownHostKeyRefused(t *testing.T) {
	l := labtest.Require(t)
	cfg := trConfig(t, l)
	cfg.KnownHostsFile = filepath.Join(t.TempDir(), "known_hosts")
	h := trRootHosts(l)[0]
	_, err := trPool(t, cfg).Get(trCtx(t, time.Minute), h)
	var hk *transport.HostKeyError
	if !transport.IsUnreachable(err) || !errors.As(err, &hk) || hk.Changed {
		t.Fatalf("want an unknown host key error, got %v", err)
	}
	known := false
	for _, k := range trHostKeys(t, l, h.Address) {
		if ssh.FingerprintSHA256(k) == hk.Fingerprint {
			known = true
		}
	}
	if !known || !strings.Contains(err.Error(), hk.Fingerprint) || !strings.Contains(err.Error(), "--accept-new-host-keys") {
		t.Fatalf("error should give the host's real fingerprint and the flag: %v", err)
	}

	// Accepting records the key, after which it is trusted without the flag.
	cfg.AcceptNewHostKeys = true
	if _, err := trPool(t, cfg).Get(trCtx(t, time.Minute), h); err != nil {
		t.Fatal(err)
	}
	cfg.AcceptNewHostKeys = false
	if _, err := trPool(t, cfg).Get(trCtx(t, time.Minute), h); err != nil {
		t.Fatalf("recorded key not trusted: %v", err)
	}
}

func TestTransportChangedHostKeyRefused(t *testing.T) {
	l := labtest.Require(t)
	// oms1's address with oms2's keys (every type) is what a swapped host looks like.
	var lines []string
	for _, k := range trHostKeys(t, l, l.Hosts[1].Address) {
		lines = append(lines, l.Hosts[0].Address+" "+strings.TrimSpace(string(ssh.MarshalAuthorizedKey(k))))
	}
	kh := filepath.Join(t.TempDir(), "known_hosts")
	orig := strings.Join(lines, "\n") + "\n"
	if err := os.WriteFile(kh, []byte(orig), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, accept := range []bool{false, true} {
		cfg := trConfig(t, l)
		cfg.KnownHostsFile, cfg.AcceptNewHostKeys = kh, accept
		_, err := trPool(t, cfg).Get(trCtx(t, time.Minute), trRootHosts(l)[0])
		var hk *transport.HostKeyError
		if !transport.IsUnreachable(err) || !errors.As(err, &hk) || !hk.Changed {
			t.Fatalf("accept-new=%v: want a changed host key error, got %v", accept, err)
		}
		if after, _ := os.ReadFile(kh); string(after) != orig {
			t.Fatalf("accept-new=%v: known_hosts was modified", accept)
		}
	}
}

func TestTransportHashedKnownHosts(t *testing.T) {
	l := labtest.Require(t)
	kh := filepath.Join(t.TempDir(), "known_hosts")
	data, err := os.ReadFile(l.KnownHosts)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(kh, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("ssh-keygen", "-H", "-f", kh).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen -H: %v %s", err, out)
	}
	cfg := trConfig(t, l)
	cfg.KnownHostsFile = kh
	p := trPool(t, cfg)
	for _, h := range trRootHosts(l) {
		if _, err := p.Get(trCtx(t, time.Minute), h); err != nil {
			t.Errorf("%s: %v", h.Name, err)
		}
	}
}

// TestTransportBecomeDeploy uses the non-root user with a sudo password: the
// command runs as root, its stdin arrives byte for byte without the password,
// and the password never shows in the host's process list.
func TestTransportBecomeDeploy(t *testing.T) {
	l := labtest.Require(t)
	p := trPool(t, trConfig(t, l))
	ih := trDeployHost(l, 0)
	ctx := trCtx(t, 2*time.Minute)
	h, err := p.Get(ctx, ih)
	if err != nil {
		t.Fatal(err)
	}
	res, err := h.Run(ctx, transport.Cmd{Argv: []string{"id", "-un"}})
	if err != nil || strings.TrimSpace(string(res.Stdout)) != l.DeployUser {
		t.Fatalf("without become: %q %q %v", res.Stdout, res.Stderr, err)
	}
	res, err = h.Run(ctx, transport.Cmd{Argv: []string{"id", "-u"}, Become: true})
	if err != nil || strings.TrimSpace(string(res.Stdout)) != "0" {
		t.Fatalf("with become: %q %q %v", res.Stdout, res.Stderr, err)
	}

	payload := make([]byte, 8<<20)
	if _, err := rand.Read(payload); err != nil {
		t.Fatal(err)
	}
	// Starting with a newline-free prefix would hide a password line glued on front.
	sum := sha256.Sum256(payload)
	res, err = h.Run(ctx, transport.Cmd{Script: "sha256sum; id -u", Become: true, Stdin: bytes.NewReader(payload)})
	if err != nil {
		t.Fatal(err)
	}
	if want := hex.EncodeToString(sum[:]) + "  -\n0\n"; string(res.Stdout) != want {
		t.Fatalf("stdin did not arrive intact: got %q want %q (stderr %q)", res.Stdout, want, res.Stderr)
	}
	res, err = h.Run(ctx, transport.Cmd{Argv: []string{"cat"}, Become: true, Stdin: strings.NewReader("line one\nline two\n")})
	if err != nil || string(res.Stdout) != "line one\nline two\n" {
		t.Fatalf("cat under sudo gave %q %q %v", res.Stdout, res.Stderr, err)
	}
	if bytes.Contains(res.Stdout, []byte(l.DeployPassword)) || bytes.Contains(res.Stderr, []byte(l.DeployPassword)) {
		t.Fatal("the sudo password reached the command's output")
	}

	// While a become command runs, look for the password in every process's arguments.
	tag := trTag()
	done := make(chan error, 1)
	go func() {
		_, err := h.Run(ctx, transport.Cmd{Script: "sleep " + tag + "; true", Become: true})
		done <- err
	}()
	trWaitProcs(t, l, l.Hosts[0].Name, tag, 1)
	if ps := l.Exec(t, l.Hosts[0].Name, "ps -eo args"); strings.Contains(ps, l.DeployPassword) {
		t.Fatal("the sudo password is visible in the host's process list")
	}
	l.Exec(t, l.Hosts[0].Name, "pkill -f '^sleep "+tag+"' || true")
	<-done
}

// TestTransportBecomeWithoutPassword fails clearly, and a wrong password is
// refused without hanging.
func TestTransportBecomeWithoutPassword(t *testing.T) {
	l := labtest.Require(t)
	p := trPool(t, trConfig(t, l))
	ctx := trCtx(t, 2*time.Minute)

	ih := trDeployHost(l, 1)
	ih.BecomePassword = ""
	h, err := p.Get(ctx, ih)
	if err != nil {
		t.Fatal(err)
	}
	_, err = h.Run(ctx, transport.Cmd{Argv: []string{"true"}, Become: true})
	var be *transport.BecomeError
	if !errors.As(err, &be) || !be.NeedPassword || !strings.Contains(err.Error(), "--ask-become-pass") {
		t.Fatalf("want a become error asking for the password, got %v", err)
	}
	// The remedy as printed: set become_password in the inventory.
	if m := regexp.MustCompile(`set (become_password) in the inventory`).FindStringSubmatch(err.Error()); m == nil {
		t.Fatalf("the error does not say to set become_password: %v", err)
	}
	ih.BecomePassword = secret.String(l.DeployPassword)
	h, err = trPool(t, trConfig(t, l)).Get(ctx, ih)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.Run(ctx, transport.Cmd{Argv: []string{"true"}, Become: true}); err != nil {
		t.Fatalf("with become_password set as the error says: %v", err)
	}

	ih = trDeployHost(l, 2)
	ih.BecomePassword = "not-the-password"
	h, err = p.Get(ctx, ih)
	if err != nil {
		t.Fatal(err)
	}
	_, err = h.Run(ctx, transport.Cmd{Argv: []string{"cat"}, Become: true, Stdin: strings.NewReader("secret data\n")})
	if !errors.As(err, &be) || !be.WrongPassword {
		t.Fatalf("want a become error for the wrong password, got %v", err)
	}
}

func trTag() string {
	return strconv.Itoa(4000000 + int(time.Now().UnixNano()%1000000))
}

// trWaitProcs waits until exactly n processes on host match "sleep TAG".
func trWaitProcs(t *testing.T, l *labtest.Lab, host, tag string, n int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		out := l.Exec(t, host, "pgrep -f '^sleep "+tag+"' | wc -l")
		if out == strconv.Itoa(n) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %s processes match sleep %s, want %d\n%s", host, out, tag, n, l.Exec(t, host, "ps -eo pid,pgid,user,args | grep "+tag))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestTransportCancelLeavesNoProcess cancels commands that spawned children,
// as root and through sudo, and checks on the host that nothing is left.
func TestTransportCancelLeavesNoProcess(t *testing.T) {
	l := labtest.Require(t)
	p := trPool(t, trConfig(t, l))
	for name, ih := range map[string]*inventory.Host{"root": trRootHosts(l)[0], "deploy with sudo": trDeployHost(l, 1)} {
		t.Run(name, func(t *testing.T) {
			h, err := p.Get(trCtx(t, time.Minute), ih)
			if err != nil {
				t.Fatal(err)
			}
			tag := trTag()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			done := make(chan error, 1)
			go func() {
				_, err := h.Run(ctx, transport.Cmd{Script: "sleep " + tag + " & sleep " + tag + "; wait", Become: ih.Become})
				done <- err
			}()
			trWaitProcs(t, l, ih.Name, tag, 2)
			start := time.Now()
			cancel()
			select {
			case err := <-done:
				if !errors.Is(err, context.Canceled) {
					t.Fatalf("Run returned %v, want context.Canceled", err)
				}
				t.Logf("Run returned %s after cancel", time.Since(start).Round(time.Millisecond))
			case <-time.After(20 * time.Second):
				t.Fatal("Run did not return after cancel")
			}
			trWaitProcs(t, l, ih.Name, tag, 0)
		})
	}
}

// trEndless yields random-looking bytes forever and calls cut once after at bytes.
type trEndless struct {
	n, at int
	cut   func()
	buf   []byte
}

func (e *trEndless) Read(p []byte) (int, error) {
	if e.buf == nil {
		e.buf = make([]byte, 1<<20)
		_, _ = rand.Read(e.buf)
	}
	n := copy(p, e.buf)
	e.n += n
	if e.cut != nil && e.n >= e.at {
		e.cut()
		e.cut = nil
	}
	return n, nil
}

// TestTransportLinkCutDuringStream pulls a host's cable while stdin is
// streaming: with the default keepalive the Run fails as unreachable within
// 30 s, the other hosts keep working, and a later Get dials again.
func TestTransportLinkCutDuringStream(t *testing.T) {
	l := labtest.Require(t)
	cfg := trConfig(t, l)
	p := trPool(t, cfg)
	hosts := trRootHosts(l)
	victim := hosts[len(hosts)-1]
	ctx := trCtx(t, 2*time.Minute)
	h, err := p.Get(ctx, victim)
	if err != nil {
		t.Fatal(err)
	}
	// The cut is kept in place until detection: other tests running against
	// the lab reset it, which brings the link back; then cut again and time
	// from the last cut.
	var mu sync.Mutex
	var cutAt time.Time
	cutNow := func() {
		mu.Lock()
		defer mu.Unlock()
		cutAt = time.Now()
		l.CutLink(t, victim.Name)
	}
	in := &trEndless{at: 32 << 20, cut: cutNow}
	done := make(chan error, 1)
	go func() {
		_, err := h.Run(ctx, transport.Cmd{Script: "cat > /dev/null", Stdin: in, Stdout: io.Discard})
		done <- err
	}()
	operstate := "/sys/class/net/" + lab.HostAt(len(hosts)).Veth() + "/operstate"
	watch := time.NewTicker(200 * time.Millisecond)
	defer watch.Stop()
	limit := time.After(90 * time.Second)
	for waiting := true; waiting; {
		select {
		case err := <-done:
			mu.Lock()
			took := time.Since(cutAt)
			mu.Unlock()
			if !transport.IsUnreachable(err) {
				t.Fatalf("want unreachable, got %v", err)
			}
			t.Logf("cut detected after %s: %v", took.Round(time.Millisecond), err)
			if took > 30*time.Second {
				t.Fatalf("detection took %s, want ≤ 30s", took)
			}
			waiting = false
		case <-watch.C:
			mu.Lock()
			cut := !cutAt.IsZero()
			mu.Unlock()
			if state, _ := os.ReadFile(operstate); cut && strings.TrimSpace(string(state)) == "up" {
				t.Logf("the link of %s was brought back by something else; cutting it again", victim.Name)
				cutNow()
			}
		case <-limit:
			t.Fatal("Run hung after the link was cut")
		}
	}
	other, err := p.Get(ctx, hosts[0])
	if err != nil {
		t.Fatal(err)
	}
	if res, err := other.Run(ctx, transport.Cmd{Argv: []string{"true"}}); err != nil || res.ExitCode != 0 {
		t.Fatalf("%s after the cut: %v", hosts[0].Name, err)
	}
	l.RestoreLink(t, victim.Name)
	h, err = p.Get(ctx, victim)
	if err != nil {
		t.Fatalf("redial after restoring the link: %v", err)
	}
	if _, err := h.Run(ctx, transport.Cmd{Argv: []string{"true"}}); err != nil {
		t.Fatal(fmt.Errorf("run after redial: %w", err))
	}
}

// TestTransportProxyJump reaches a host through another one named in an
// ssh config file, as through a bastion: the target sees the jump host as
// the client.
func TestTransportProxyJump(t *testing.T) {
	l := labtest.Require(t)
	jump, target := l.Hosts[0], l.Hosts[1]
	cfgText := fmt.Sprintf("Host behind-%s\n  HostName %s\n  User root\n  IdentityFile %s\n  ProxyJump root@%s\n\nHost %s\n  IdentityFile %s\n",
		target.Name, target.Address, l.Key, jump.Address, jump.Address, l.Key)
	sshCfg := filepath.Join(t.TempDir(), "ssh_config")
	if err := os.WriteFile(sshCfg, []byte(cfgText), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := trConfig(t, l)
	cfg.SSHConfigFile = sshCfg
	p := trPool(t, cfg)
	ctx := trCtx(t, time.Minute)
	h, err := p.Get(ctx, &inventory.Host{Name: target.Name, Address: "behind-" + target.Name, Port: 22})
	if err != nil {
		t.Fatal(err)
	}
	res, err := h.Run(ctx, transport.Cmd{Script: "uname -n; echo $SSH_CONNECTION"})
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(res.Stdout)), "\n")
	if len(lines) != 2 || lines[0] != target.Name || !strings.HasPrefix(lines[1], jump.Address+" ") {
		t.Fatalf("through the jump host got %q", res.Stdout)
	}
	if p.Dials() != 2 {
		t.Fatalf("want 2 dials (jump and target), got %d", p.Dials())
	}
}
