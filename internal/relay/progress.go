package relay

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// ReceivedLine starts what a node fed by the node before it prints on
// stderr while the stream crosses: the bytes its docker load has taken so
// far follow on the same line. Only the control machine can say how far a
// relayed copy got: the bytes go from node to node, past it.
const ReceivedLine = "omsrun-relay: received "

// receivedEvery spaces the node's progress lines; the first comes with the
// first bytes, so even a transfer of a fraction of a second shows one.
const receivedEvery = 250 * time.Millisecond

// ParseReceived reads a ReceivedLine (without its newline); ok is false for
// any other line.
func ParseReceived(line string) (int64, bool) {
	v, ok := strings.CutPrefix(line, ReceivedLine)
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil || n < 0 {
		return 0, false
	}
	return n, true
}

// receivedWriter counts what reaches the sink and says so on stderr.
type receivedWriter struct {
	sink, stderr io.Writer
	n, said      int64
	last         time.Time
}

func (w *receivedWriter) Write(p []byte) (int, error) {
	k, err := w.sink.Write(p)
	w.n += int64(k)
	if now := time.Now(); k > 0 && now.Sub(w.last) >= receivedEvery {
		w.last = now
		w.say()
	}
	return k, err
}

// end says the last count, however the stream ended.
func (w *receivedWriter) end() {
	if w.n != w.said {
		w.say()
	}
}

func (w *receivedWriter) say() {
	w.said = w.n
	fmt.Fprintf(w.stderr, "%s%d\n", ReceivedLine, w.n)
}
