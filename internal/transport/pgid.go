package transport

import (
	"bytes"
	"io"
	"strconv"
	"sync"
)

// pgidMarker prefixes the line on which the wrapper reports its process group.
const pgidMarker = "omsrun-pgid:"

// maxPreamble bounds what is held back while looking for the marker; only
// sudo or the shell can write before it, and they write little.
const maxPreamble = 64 << 10

// pgidWriter sits in front of the command's stderr: it takes the marker line
// out, records the group id, and passes everything else through. Lines before
// the marker (sudo's complaints) are kept for the become error too.
type pgidWriter struct {
	dst io.Writer

	mu     sync.Mutex
	line   []byte // partial line while still looking for the marker
	pre    []byte // complete lines seen before the marker
	id     int
	found  bool
	closed bool
	ready  chan struct{} // closed when the marker is found or the search is abandoned
}

func newPgidWriter(dst io.Writer) *pgidWriter {
	return &pgidWriter{dst: dst, ready: make(chan struct{})}
}

func (w *pgidWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return w.dst.Write(p)
	}
	n := len(p)
	for len(p) > 0 && !w.closed {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			w.line = append(w.line, p...)
			p = nil
			if len(w.line)+len(w.pre) > maxPreamble {
				w.giveUp()
			}
			break
		}
		w.line = append(w.line, p[:i+1]...)
		p = p[i+1:]
		full := w.line
		w.line = nil
		if id, ok := parseMarker(full); ok {
			w.id, w.found = id, true
			w.closed = true
			close(w.ready)
			break
		}
		w.pre = append(w.pre, full...)
		if _, err := w.dst.Write(full); err != nil {
			w.mu.Unlock()
			return 0, err
		}
		if isSudoFailure(full) {
			w.giveUp()
		}
	}
	w.mu.Unlock()
	if len(p) > 0 {
		if _, err := w.dst.Write(p); err != nil {
			return 0, err
		}
	}
	return n, nil
}

// giveUp stops looking for the marker; called with mu held.
func (w *pgidWriter) giveUp() {
	if len(w.line) > 0 {
		_, _ = w.dst.Write(w.line)
		w.pre = append(w.pre, w.line...)
		w.line = nil
	}
	w.closed = true
	close(w.ready)
}

func parseMarker(line []byte) (int, bool) {
	s := bytes.TrimRight(line, "\r\n")
	if !bytes.HasPrefix(s, []byte(pgidMarker)) {
		return 0, false
	}
	id, err := strconv.Atoi(string(s[len(pgidMarker):]))
	return id, err == nil && id > 1
}

func (w *pgidWriter) seen() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.found
}

func (w *pgidWriter) pgid() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.id
}

func (w *pgidWriter) preamble() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return string(bytes.TrimSpace(append(w.pre, w.line...)))
}
