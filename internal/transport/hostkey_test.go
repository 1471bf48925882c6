package transport

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
)

func TestHostKeyUnknownRefused(t *testing.T) {
	d := startSSHD(t)
	cfg := d.config()
	cfg.KnownHostsFile = filepath.Join(t.TempDir(), "known_hosts")
	p := NewPool(cfg)
	defer p.Close()
	_, err := p.Get(testCtx(t), d.host("h1"))
	var hk *HostKeyError
	if !IsUnreachable(err) || !errors.As(err, &hk) || hk.Changed {
		t.Fatalf("want unreachable unknown-host-key error, got %v", err)
	}
	fp := strings.Fields(d.hostFingerprint(t))[1]
	for _, want := range []string{fp, "--accept-new-host-keys"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	if _, err := os.Stat(cfg.KnownHostsFile); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("refusing a host must not create the known_hosts file")
	}
}

func TestHostKeyAcceptNewRecordsOnce(t *testing.T) {
	d := startSSHD(t)
	cfg := d.config()
	cfg.KnownHostsFile = filepath.Join(t.TempDir(), "sub", "known_hosts")
	cfg.AcceptNewHostKeys = true
	// Separate pools race to record the same host: one line must result.
	var wg sync.WaitGroup
	errs := make(chan error, 6)
	for i := 0; i < 6; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p := NewPool(cfg)
			defer p.Close()
			if _, err := p.Get(testCtx(t), d.host("h"+strconv.Itoa(i))); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	data, err := os.ReadFile(cfg.KnownHostsFile)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(data), "\n"); n != 1 {
		t.Fatalf("known_hosts has %d lines:\n%s", n, data)
	}
	// The recorded key is now trusted without the flag.
	cfg.AcceptNewHostKeys = false
	p := NewPool(cfg)
	defer p.Close()
	if _, err := p.Get(testCtx(t), d.host("again")); err != nil {
		t.Fatal(err)
	}
}

func TestHostKeyChangedRefusedEvenWithAcceptNew(t *testing.T) {
	d := startSSHD(t)
	other := filepath.Join(t.TempDir(), "other")
	if out, err := runLocal("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", other); err != nil {
		t.Fatalf("ssh-keygen: %v %s", err, out)
	}
	pub, _ := os.ReadFile(other + ".pub")
	f := strings.Fields(string(pub))
	kh := filepath.Join(t.TempDir(), "known_hosts")
	line := "[127.0.0.1]:" + strconv.Itoa(d.port) + " " + f[0] + " " + f[1] + "\n"
	if err := os.WriteFile(kh, []byte(line), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := d.config()
	cfg.KnownHostsFile = kh
	cfg.AcceptNewHostKeys = true
	p := NewPool(cfg)
	defer p.Close()
	_, err := p.Get(testCtx(t), d.host("h1"))
	var hk *HostKeyError
	if !IsUnreachable(err) || !errors.As(err, &hk) || !hk.Changed {
		t.Fatalf("want changed-host-key error, got %v", err)
	}
	if after, _ := os.ReadFile(kh); string(after) != line {
		t.Fatalf("known_hosts was modified:\n%s", after)
	}
}

func TestHostKeyHashedEntryAccepted(t *testing.T) {
	d := startSSHD(t)
	kh := filepath.Join(t.TempDir(), "known_hosts")
	data, _ := os.ReadFile(d.knownHosts)
	if err := os.WriteFile(kh, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := runLocal("ssh-keygen", "-H", "-f", kh); err != nil {
		t.Fatalf("ssh-keygen -H: %v %s", err, out)
	}
	if hashed, _ := os.ReadFile(kh); !strings.HasPrefix(string(hashed), "|1|") {
		t.Fatalf("file not hashed: %s", hashed)
	}
	cfg := d.config()
	cfg.KnownHostsFile = kh
	p := NewPool(cfg)
	defer p.Close()
	if _, err := p.Get(testCtx(t), d.host("h1")); err != nil {
		t.Fatal(err)
	}
}
