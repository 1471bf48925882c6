package transport

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"golang.org/x/crypto/ssh"
)

// The checks below answer, before any connection, whether a dial would fail
// on the control machine's own files: they read a file exactly as the dial
// does (expandHome, loadKnownHosts, ssh.ParsePrivateKey), so validate
// refuses what every connection would refuse and nothing else.

// ErrKnownHostsMissing is CheckKnownHosts's answer for a file that does not
// exist while new host keys are not accepted: every host's key would be unknown.
var ErrKnownHostsMissing = errors.New("does not exist, so no host's key can be verified against it")

// DefaultKnownHostsFile is the file host keys are checked against when
// neither the inventory nor --known-hosts names one.
const DefaultKnownHostsFile = "~/.ssh/known_hosts"

// HomePath is path with a leading ~/ read as the home directory, as the dial reads a key_file or known_hosts_file.
func HomePath(path string) string {
	home, _ := os.UserHomeDir()
	return expandHome(path, home)
}

// CheckKeyFile says why the dial could not load file as a host's key_file,
// or nil. An encrypted key is fine: the run asks for its passphrase.
func CheckKeyFile(file string) error {
	path := HomePath(file)
	pem, err := readRegular(path)
	if err != nil {
		return err
	}
	_, err = ssh.ParsePrivateKey(pem)
	var missing *ssh.PassphraseMissingError
	if err != nil && !errors.As(err, &missing) {
		return fmt.Errorf("%s is not a private key omsrun can read (%w)", path, err)
	}
	return nil
}

// CheckKnownHosts says why the dial could not check host keys against file,
// or nil. A missing file is an empty one to the dial, which creates it when
// acceptNew records a key; without acceptNew every host would be refused,
// and the answer is ErrKnownHostsMissing.
func CheckKnownHosts(file string, acceptNew bool) error {
	path := HomePath(file)
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		if acceptNew {
			return nil
		}
		return fmt.Errorf("%s %w", path, ErrKnownHostsMissing)
	}
	if _, err := readRegular(path); err != nil {
		return err
	}
	if _, err := loadKnownHosts(path); err != nil {
		why := err
		if inner := errors.Unwrap(err); inner != nil {
			why = inner // x/crypto's own words name the file and line
		}
		return &fileError{fmt.Sprintf("%s does not parse as a known_hosts file (%v)", path, why), err}
	}
	return nil
}

// readRegular reads path, saying plainly when it is missing, a directory or unreadable.
func readRegular(path string) ([]byte, error) {
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return nil, fmt.Errorf("%s is a directory, not a file", path)
	}
	b, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, &fileError{path + " does not exist", err}
	case errors.Is(err, fs.ErrPermission):
		return nil, &fileError{path + " cannot be read by this user", err}
	case err != nil:
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	return b, nil
}

// fileError says what is wrong with a file in words, keeping the os error
// underneath for errors.Is.
type fileError struct {
	msg string
	err error
}

func (e *fileError) Error() string { return e.msg }
func (e *fileError) Unwrap() error { return e.err }
