package transport

import (
	"bytes"
	"fmt"
	"strings"
)

// becomeMode is how a command gains root.
type becomeMode int

const (
	becomeNone         becomeMode = iota // run as the login user
	becomeAlreadyRoot                    // become asked, but the login user is root: no sudo
	becomeSudoPassword                   // sudo -S with the password as stdin's first line
	becomeSudoNoPass                     // sudo -n: no password known, fail rather than hang
)

func (h *sshHost) becomeMode(become bool) becomeMode {
	switch {
	case !become:
		return becomeNone
	case h.user == "root":
		return becomeAlreadyRoot
	case h.becomePass != "":
		return becomeSudoPassword
	}
	return becomeSudoNoPass
}

// sudoPrompt is what sudo prints when it wants the password. The password is
// written only after it appears, so a host whose sudoers says NOPASSWD (no
// prompt) never gets the password in the command's own stdin.
const sudoPrompt = "omsrun-sudo-password:"

// prefix is what goes before the command. -k drops any cached sudo timestamp,
// so sudo asks every time and the answer is never left unread.
func (m becomeMode) prefix() string {
	switch m {
	case becomeSudoPassword:
		return "sudo -k -S -p " + sudoPrompt + " -- "
	case becomeSudoNoPass:
		return "sudo -k -n -- "
	}
	return ""
}

func (m becomeMode) sudo() bool { return m == becomeSudoPassword || m == becomeSudoNoPass }

func (m becomeMode) label() string {
	if m.sudo() {
		return " (sudo)"
	}
	return ""
}

// BecomeError says sudo refused to run a command.
type BecomeError struct {
	Host string
	// NeedPassword is true when sudo wanted a password and none was given.
	NeedPassword bool
	// WrongPassword is true when sudo rejected the password given.
	WrongPassword bool
	// Message is what sudo printed.
	Message string
}

func (e *BecomeError) Error() string {
	if e.NeedPassword {
		return fmt.Sprintf("%s: sudo needs a password for become: set become_password in the inventory or pass --ask-become-pass (sudo said: %s)", e.Host, e.Message)
	}
	if e.WrongPassword {
		return fmt.Sprintf("%s: sudo rejected the become password (check become_password or --ask-become-pass)", e.Host)
	}
	if e.Message == "" {
		return fmt.Sprintf("%s: sudo failed before running the command", e.Host)
	}
	return fmt.Sprintf("%s: sudo failed: %s", e.Host, e.Message)
}

func (h *sshHost) becomeError(m becomeMode, said string) error {
	return &BecomeError{
		Host:          h.name,
		NeedPassword:  m == becomeSudoNoPass && strings.Contains(said, "password is required"),
		WrongPassword: m == becomeSudoPassword && (strings.Contains(said, "Sorry, try again") || strings.Contains(said, "incorrect password")),
		Message:       said,
	}
}

// sudoFailures are the messages after which sudo will not run the command,
// so there is no point waiting for the group id (and the caller's stdin must
// not follow: sudo would read it as another password attempt).
var sudoFailures = [][]byte{
	[]byte("Sorry, try again"),
	[]byte("incorrect password"),
	[]byte("password is required"),
	[]byte("is not in the sudoers file"),
	[]byte("is not allowed to"),
}

func isSudoFailure(line []byte) bool {
	for _, f := range sudoFailures {
		if bytes.Contains(line, f) {
			return true
		}
	}
	return false
}
