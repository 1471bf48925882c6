package transport

import (
	"errors"
	"strings"
	"syscall"

	"golang.org/x/crypto/ssh"
)

// PeerAnswer classifies a failed Dial to a TCP port by what the network
// path said: refused means the packet reached a host that answered (the
// path is open, nothing listens); unreachable means a router or firewall
// said no. Both false: nothing is known about the path (a timeout is the
// caller's context; sshd may refuse to forward at all).
func PeerAnswer(err error) (refused, unreachable bool) {
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return true, false
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return false, true
	}
	// Over SSH (direct-tcpip) the host's sshd connects and reports its
	// connect(2) error only as text: strerror of the errno.
	var oce *ssh.OpenChannelError
	if errors.As(err, &oce) && oce.Reason == ssh.ConnectionFailed {
		if strings.Contains(strings.ToLower(oce.Message), "refused") {
			return true, false
		}
		return false, true
	}
	return false, false
}
