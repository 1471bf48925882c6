package transport

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sync"
	"syscall"

	"github.com/skeema/knownhosts"
	"golang.org/x/crypto/ssh"
)

// HostKeyError says why a host's key was not trusted. It reaches callers
// wrapped in an *UnreachableError.
type HostKeyError struct {
	Host        string // host:port as looked up in the file
	File        string // the known_hosts file consulted
	KeyType     string // type of the key the host presented
	Fingerprint string // SHA256 fingerprint of that key
	// Changed is true when the file holds a different key for the host: a
	// possible man-in-the-middle, refused even with --accept-new-host-keys.
	Changed bool
}

func (e *HostKeyError) Error() string {
	if e.Changed {
		return fmt.Sprintf("host key for %s has CHANGED (now %s %s); refusing to connect: "+
			"if the host was reinstalled, remove its old entry from %s", e.Host, e.KeyType, e.Fingerprint, e.File)
	}
	return fmt.Sprintf("host key for %s is not known in %s (%s %s); "+
		"check the fingerprint and pass --accept-new-host-keys to trust and record it",
		e.Host, e.File, e.KeyType, e.Fingerprint)
}

// knownHostsFiles serialises appends per file within the process; an flock
// covers other processes appending at the same time.
type knownHostsFiles struct {
	mu    sync.Mutex
	locks map[string]*sync.Mutex
}

func newKnownHostsFiles() *knownHostsFiles {
	return &knownHostsFiles{locks: map[string]*sync.Mutex{}}
}

func (k *knownHostsFiles) lock(file string) *sync.Mutex {
	k.mu.Lock()
	defer k.mu.Unlock()
	m, ok := k.locks[file]
	if !ok {
		m = &sync.Mutex{}
		k.locks[file] = m
	}
	return m
}

// load reads file; a missing file is an empty database, so a first run with
// --accept-new-host-keys can create it.
func loadKnownHosts(file string) (*knownhosts.HostKeyDB, error) {
	if _, err := os.Stat(file); errors.Is(err, os.ErrNotExist) {
		return knownhosts.NewDB()
	}
	db, err := knownhosts.NewDB(file)
	if err != nil {
		return nil, fmt.Errorf("reading known hosts: %w", err)
	}
	return db, nil
}

// verifier returns the host key callback for one dial, and the key algorithms
// to offer so a host already known by, say, its ed25519 key is not asked for
// an RSA key that would then look "changed".
func (k *knownHostsFiles) verifier(file string, accept bool, logf func(string, ...any)) (ssh.HostKeyCallback, func(addr string) []string, error) {
	db, err := loadKnownHosts(file)
	if err != nil {
		return nil, nil, err
	}
	cb := func(hostname string, remote net.Addr, key ssh.PublicKey) error {
		err := db.HostKeyCallback()(hostname, remote, key)
		if err == nil {
			return nil
		}
		hkErr := &HostKeyError{Host: hostname, File: file, KeyType: key.Type(), Fingerprint: ssh.FingerprintSHA256(key)}
		switch {
		case knownhosts.IsHostKeyChanged(err):
			hkErr.Changed = true
			return hkErr
		case knownhosts.IsHostUnknown(err):
			if !accept {
				return hkErr
			}
			return k.record(file, hostname, remote, key, hkErr, logf)
		default:
			return fmt.Errorf("checking host key of %s: %w", hostname, err)
		}
	}
	return cb, db.HostKeyAlgorithms, nil
}

// record appends a new host key, re-reading the file under the lock so two
// dials racing to record the same host write one line, and a different key
// recorded meanwhile is still reported as changed.
func (k *knownHostsFiles) record(file, hostname string, remote net.Addr, key ssh.PublicKey, hkErr *HostKeyError, logf func(string, ...any)) error {
	m := k.lock(file)
	m.Lock()
	defer m.Unlock()
	if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
		return fmt.Errorf("recording host key: %w", err)
	}
	f, err := os.OpenFile(file, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("recording host key: %w", err)
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		return fmt.Errorf("locking %s: %w", file, err)
	}
	db, err := loadKnownHosts(file)
	if err != nil {
		return err
	}
	err = db.HostKeyCallback()(hostname, remote, key)
	switch {
	case err == nil:
		return nil
	case knownhosts.IsHostKeyChanged(err):
		hkErr.Changed = true
		return hkErr
	}
	if err := knownhosts.WriteKnownHost(f, hostname, remote, key); err != nil {
		return fmt.Errorf("recording host key: %w", err)
	}
	logf("recorded new host key for %s in %s: %s %s", hostname, file, key.Type(), ssh.FingerprintSHA256(key))
	return nil
}
