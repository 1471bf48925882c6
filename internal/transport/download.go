package transport

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/melbahja/goph"
)

// Downloader is implemented by hosts that can send a file's bytes over the
// connection they already have (SFTP on SSH), with no command and no shell
// between the file and the caller.
type Downloader interface {
	// Download copies the file at remote into w and returns the bytes copied.
	// It reads as the login user: sudo does not reach SFTP.
	Download(ctx context.Context, remote string, w io.Writer) (int64, error)
}

// Unwrapper is implemented by hosts that wrap another (the engine's run lock,
// its verbose log), so optional abilities such as Downloader stay reachable.
type Unwrapper interface {
	Unwrap() Host
}

// AsDownloader finds a Downloader in h or in the hosts it wraps.
func AsDownloader(h Host) (Downloader, bool) {
	for h != nil {
		if d, ok := h.(Downloader); ok {
			return d, true
		}
		u, ok := h.(Unwrapper)
		if !ok {
			return nil, false
		}
		h = u.Unwrap()
	}
	return nil, false
}

var _ Downloader = (*sshHost)(nil)

// Download implements Downloader with goph's SFTP client on the pooled
// *ssh.Client: one more channel on the existing connection, no new login.
// goph.Client is built around our client rather than dialled by goph, so
// host keys, jumps and auth stay the pool's; it is never Closed, which would
// close the shared connection.
func (h *sshHost) Download(ctx context.Context, remote string, w io.Writer) (int64, error) {
	if err := h.acquire(ctx, h.sessions); err != nil {
		return 0, err
	}
	defer func() { <-h.sessions }()
	g := goph.Client{Client: h.client}
	sc, err := g.NewSftp()
	if err != nil {
		return 0, h.sessionError(fmt.Errorf("sftp: %w", err))
	}
	defer sc.Close()
	f, err := sc.Open(remote)
	if err != nil {
		return 0, fmt.Errorf("%s: sftp open %s: %w", h.name, remote, err)
	}
	// Closing the SFTP client ends a copy blocked on the network when ctx ends.
	stop := context.AfterFunc(ctx, func() { sc.Close() })
	defer stop()
	n, err := io.Copy(w, f)
	f.Close()
	if ctx.Err() != nil {
		return n, ctx.Err()
	}
	if err != nil {
		if !h.alive() {
			return n, h.unreachable(err)
		}
		return n, fmt.Errorf("%s: sftp read %s: %w", h.name, remote, err)
	}
	return n, nil
}

// errNotDownloader is returned by hosts that wrap one without the ability.
var errNotDownloader = errors.New("this host cannot download files")

// DownloadFrom downloads through h's Downloader, unwrapping as needed.
func DownloadFrom(ctx context.Context, h Host, remote string, w io.Writer) (int64, error) {
	d, ok := AsDownloader(h)
	if !ok {
		return 0, errNotDownloader
	}
	return d.Download(ctx, remote, w)
}
