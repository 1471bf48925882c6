package modules

import (
	"io"
	"time"
)

// progressReader counts what the transport has taken and reports it at most
// every 200 ms; it reads in 1 MiB chunks so that the file side never limits
// the stream.
type progressReader struct {
	r     io.Reader
	total int64
	done  int64
	rep   Reporter
	last  time.Time
	buf   []byte
}

const progressEvery = 200 * time.Millisecond

func newProgressReader(r io.Reader, total int64, rep Reporter) *progressReader {
	return &progressReader{r: r, total: total, rep: rep}
}

func (p *progressReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	p.count(n)
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
			return written, nil
		}
		if rerr != nil {
			return written, rerr
		}
	}
}

func (p *progressReader) count(n int) {
	p.done += int64(n)
	if now := time.Now(); now.Sub(p.last) >= progressEvery {
		p.last = now
		p.rep.Bytes(p.done, p.total)
	}
}

// flush reports the final count.
func (p *progressReader) flush() { p.rep.Bytes(p.done, p.total) }
