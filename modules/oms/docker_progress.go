package oms

import (
	"bytes"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/omsrun/omsrun/internal/relay"
	"github.com/omsrun/omsrun/modules"
)

// progressReader counts what the transport has taken and reports it at most
// every 200 ms; it reads in 1 MiB chunks so that the file side never limits
// the stream. The count is atomic because the transport reads on its own
// goroutine, which may still be winding down when the command has ended.
type progressReader struct {
	r     io.Reader
	total int64
	done  atomic.Int64
	rep   modules.Reporter
	last  time.Time
	buf   []byte
	// atEOF is said once the whole input has been handed over, when the
	// remote side still has work to do (docker load importing layers).
	atEOF string
	eof   atomic.Bool
}

const progressEvery = 200 * time.Millisecond

func newProgressReader(r io.Reader, total int64, rep modules.Reporter, atEOF string) *progressReader {
	return &progressReader{r: r, total: total, rep: rep, atEOF: atEOF}
}

func (p *progressReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	p.count(n)
	if err == io.EOF {
		p.sawEOF()
	}
	return n, err
}

// WriteTo lets io.Copy hand over large chunks instead of 32 KiB ones.
func (p *progressReader) WriteTo(w io.Writer) (int64, error) {
	if p.buf == nil {
		p.buf = make([]byte, 1<<20)
	}
	var written int64
	for {
		n, rerr := p.r.Read(p.buf)
		if n > 0 {
			m, werr := w.Write(p.buf[:n])
			written += int64(m)
			p.count(m)
			if werr != nil {
				return written, werr
			}
		}
		if rerr == io.EOF {
			p.sawEOF()
			return written, nil
		}
		if rerr != nil {
			return written, rerr
		}
	}
}

func (p *progressReader) count(n int) {
	done := p.done.Add(int64(n))
	if now := time.Now(); now.Sub(p.last) >= progressEvery {
		p.last = now
		p.rep.Bytes(done, p.total)
	}
}

func (p *progressReader) sawEOF() {
	if p.eof.CompareAndSwap(false, true) {
		p.rep.Bytes(p.done.Load(), p.total)
		if p.atEOF != "" {
			p.rep.Phase(p.atEOF)
		}
	}
}

// sent is the number of bytes handed to the transport so far.
func (p *progressReader) sent() int64 { return p.done.Load() }

// flush reports the final count.
func (p *progressReader) flush() { p.rep.Bytes(p.done.Load(), p.total) }

// nodeProgress is a relay node's stderr: the lines where the node says how
// much it has received (relay.ReceivedLine) become the host's progress, as
// a transfer from here would; every other line goes on to w, whole, for the
// watchers and the error message. total is what the stream is about to be
// (a docker save's size is known only at its end): the count may pass it.
type nodeProgress struct {
	mu      sync.Mutex
	w       io.Writer
	rep     modules.Reporter
	total   int64
	partial []byte
}

func (p *nodeProgress) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.partial = append(p.partial, b...)
	for {
		i := bytes.IndexByte(p.partial, '\n')
		if i < 0 {
			break
		}
		line := p.partial[:i+1]
		if n, ok := relay.ParseReceived(string(line[:i])); ok {
			p.rep.Bytes(n, max(p.total, n))
		} else {
			p.w.Write(line)
		}
		p.partial = p.partial[i+1:]
	}
	if len(p.partial) > 4<<10 {
		p.flushLocked() // no newline coming: not a progress line
	}
	return len(b), nil
}

// flush passes on what followed the last newline (a message cut short).
func (p *nodeProgress) flush() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.flushLocked()
}

func (p *nodeProgress) flushLocked() {
	if len(p.partial) > 0 {
		p.w.Write(p.partial)
		p.partial = nil
	}
}
