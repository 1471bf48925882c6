package image

import (
	"compress/gzip"
	"io"
)

// members writes a multi-member gzip stream (RFC 1952 allows concatenated
// members; Go's gzip reader and docker load read them as one stream),
// starting a new member whenever the compression level changes.
type members struct {
	w   io.Writer
	zw  *gzip.Writer
	cur int
}

func (m *members) level(l int) error {
	if m.zw != nil && m.cur == l {
		return nil
	}
	if err := m.Close(); err != nil {
		return err
	}
	zw, err := gzip.NewWriterLevel(m.w, l)
	if err != nil {
		return err
	}
	m.zw, m.cur = zw, l
	return nil
}

// restart closes the current member and starts one at level l, so that
// what follows can be measured on its own.
func (m *members) restart(l int) error {
	if err := m.Close(); err != nil {
		return err
	}
	return m.level(l)
}

func (m *members) Write(p []byte) (int, error) { return m.zw.Write(p) }

func (m *members) Close() error {
	if m.zw == nil {
		return nil
	}
	err := m.zw.Close()
	m.zw = nil
	return err
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
