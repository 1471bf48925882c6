package oms

import (
	"io"
	"sync/atomic"
	"time"

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
