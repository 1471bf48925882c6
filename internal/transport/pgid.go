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
// (and sudo's prompt) out, records the group id, and passes everything else
// through. Lines before the marker (sudo's complaints) are kept for the become
// error too.
type pgidWriter struct {
	dst    io.Writer
	prompt []byte // sudo's prompt, removed wherever a line starts with it

	mu     sync.Mutex
	line   []byte // partial line while still looking for the marker
	pre    []byte // complete lines seen before the marker
	id     int
	found  bool
	closed bool
	ready  chan struct{} // closed when the marker is found or the search is abandoned
	asked  chan struct{} // receives once per prompt sudo prints
}

func newPgidWriter(dst io.Writer) *pgidWriter {
	return &pgidWriter{dst: dst, ready: make(chan struct{}), asked: make(chan struct{}, 1)}
}

func (w *pgidWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return w.dst.Write(p)
	}
	n := len(p)
	w.line = append(w.line, p...)
	var out []byte // what passes through to dst, written after unlocking
	for !w.closed {
		if len(w.prompt) > 0 && bytes.HasPrefix(w.line, w.prompt) {
			w.line = w.line[len(w.prompt):]
			select {
			case w.asked <- struct{}{}:
			default:
			}
			continue
		}
		i := bytes.IndexByte(w.line, '\n')
		if i < 0 {
			if len(w.line)+len(w.pre) > maxPreamble {
				out = w.giveUp(out)
			}
			break
		}
		full, rest := w.line[:i+1], w.line[i+1:]
		if id, ok := parseMarker(full); ok {
			w.id, w.found = id, true
			out = append(out, rest...)
			w.line = nil
			w.finish()
			break
		}
		out = append(out, full...)
		w.pre = append(w.pre, full...)
		w.line = rest
		if isSudoFailure(full) {
			out = w.giveUp(out)
		}
	}
	w.mu.Unlock()
	if len(out) > 0 {
		if _, err := w.dst.Write(out); err != nil {
			return 0, err
		}
	}
	return n, nil
}

// giveUp stops looking for the marker, passing on what was held back; called with mu held.
func (w *pgidWriter) giveUp(out []byte) []byte {
	out = append(out, w.line...)
	w.pre = append(w.pre, w.line...)
	w.line = nil
	w.finish()
	return out
}

func (w *pgidWriter) finish() {
	w.closed = true
	close(w.ready)
}

// flush passes on a partial line still held back when the output ends
// without a marker, so nothing the remote side wrote is lost.
func (w *pgidWriter) flush() {
	w.mu.Lock()
	var out []byte
	if !w.closed {
		out = w.giveUp(nil)
	}
	w.mu.Unlock()
	if len(out) > 0 {
		_, _ = w.dst.Write(out)
	}
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
