package transport

import (
	"errors"
	"fmt"
	"os"
	"sync"

	"golang.org/x/crypto/ssh"
)

// keyCache parses each private key file once per run, so an encrypted key's
// passphrase is asked once however many hosts use it.
type keyCache struct {
	mu    sync.Mutex
	cache map[string]keyEntry
}

type keyEntry struct {
	signer ssh.Signer
	err    error
}

func newKeyCache() *keyCache { return &keyCache{cache: map[string]keyEntry{}} }

// signer loads file; the lock is held across the passphrase prompt on purpose,
// so concurrent dials do not ask for the same passphrase at once.
func (k *keyCache) signer(file string, passphrase func(string) ([]byte, error)) (ssh.Signer, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if e, ok := k.cache[file]; ok {
		return e.signer, e.err
	}
	s, err := loadKey(file, passphrase)
	k.cache[file] = keyEntry{s, err}
	return s, err
}

func loadKey(file string, passphrase func(string) ([]byte, error)) (ssh.Signer, error) {
	pem, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("reading key: %w", err)
	}
	s, err := ssh.ParsePrivateKey(pem)
	var missing *ssh.PassphraseMissingError
	if errors.As(err, &missing) {
		if passphrase == nil {
			return nil, fmt.Errorf("key %s is encrypted and no passphrase can be asked", file)
		}
		pass, perr := passphrase(file)
		if perr != nil {
			return nil, fmt.Errorf("passphrase for %s: %w", file, perr)
		}
		s, err = ssh.ParsePrivateKeyWithPassphrase(pem, pass)
	}
	if err != nil {
		return nil, fmt.Errorf("parsing key %s: %w", file, err)
	}
	return s, nil
}
