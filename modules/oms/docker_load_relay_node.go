package oms

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync"

	"github.com/omsrun/omsrun/internal/relay"
	"github.com/omsrun/omsrun/internal/relaybin"
	"github.com/omsrun/omsrun/internal/textx"
	"github.com/omsrun/omsrun/internal/transport"
	"github.com/omsrun/omsrun/modules"
)

// What the relay needs on a node: the platform check, the placed program
// and the report the node prints.

// platforms maps `uname -sm` to Go's names.
var platforms = map[string]string{"Linux x86_64": "linux/amd64", "Linux aarch64": "linux/arm64", "Linux arm64": "linux/arm64"}

// nodePlatform says why this binary cannot run on the node, or "".
func nodePlatform(ctx context.Context, env *modules.Env) string {
	out, err := env.Run(ctx, transport.Cmd{Argv: []string{"uname", "-sm"}})
	if err != nil {
		return fmt.Sprintf("uname -sm: %v", err)
	}
	got := strings.TrimSpace(string(out.Stdout))
	if platforms[got] != runtime.GOOS+"/"+runtime.GOARCH {
		return fmt.Sprintf("the node is %s, omsrun here is %s/%s", got, runtime.GOOS, runtime.GOARCH)
	}
	return ""
}

// What runs the relay on a node, and why it is a program of its own.
// Every byte placed on a node crosses the control machine's link, the one
// the relay exists to spare: with omsrun itself on each node (5.5 MB
// gzipped), 3 hosts cost 1.054× the archive against a goal of 1.05×, and the
// nodes' copies were most of that (docs/PERFORMANCE.md, part uplink).
// Weighed:
//   - a relay-only program, cmd/omsrun-relay: internal/relay and the
//     standard library, 1.4 MB gzipped, built by make build for linux/amd64
//     and linux/arm64 and embedded (internal/relaybin). The same code as
//     omsrun's __relay-node, run the same way, checked by SHA-256 before it
//     runs and unlinked as it starts; a quarter of the bytes. Chosen.
//   - better compression of omsrun: xz -9 takes it to 4.2 MB, still three
//     times the program's gzip, and xz is not on every node.
//   - placing it once and letting the nodes pass it on: a node would need
//     something listening before the relay runs, a door the one-time
//     secret cannot guard yet.
// A binary built without make (go build, go test) embeds no program; it
// places itself, as it did before.

// selfBin is the relay's program for the nodes, gzipped once for every
// chain of the run: it crosses the control machine's link once per node.
type selfBin struct {
	gz  []byte
	sum string // of the uncompressed binary
}

var selfOnce = sync.OnceValues(func() (*selfBin, error) { return nodeBinary(relaybin.Helper, os.Executable) })

func selfBinary() (*selfBin, error) { return selfOnce() }

// nodeBinary picks the embedded program for this platform (the nodes run
// it: nodePlatform keeps the others out), else this executable itself.
func nodeBinary(helper func(goos, goarch string) ([]byte, string, bool), executable func() (string, error)) (*selfBin, error) {
	if gz, sum, ok := helper(runtime.GOOS, runtime.GOARCH); ok {
		return &selfBin{gz: gz, sum: sum}, nil
	}
	exe, err := executable()
	if err != nil {
		return nil, err
	}
	raw, err := os.ReadFile(exe)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(raw)
	var b bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&b, gzip.DefaultCompression)
	zw.Write(raw)
	zw.Close()
	return &selfBin{gz: b.Bytes(), sum: hex.EncodeToString(sum[:])}, nil
}

// nodeScript places the binary, checks it and runs it as the relay node.
// The trap removes the directory however the shell ends short of a kill
// -9; the node itself unlinks its file as soon as it starts.
func nodeScript(b *selfBin) string {
	// The first line names the command in -v's log and the matrix's rows.
	return fmt.Sprintf(`# omsrun relay node: docker load, fed by the node before it
umask 077
d=$(mktemp -d /var/tmp/%sXXXXXX) || exit 97
trap 'rm -rf "$d"' EXIT
trap 'exit 1' HUP INT TERM PIPE
head -c %d | gzip -dc > "$d/omsrun" || exit 97
echo "%s  $d/omsrun" | sha256sum -c --status || { echo "omsrun relay: the copy of omsrun on this node does not match its checksum" >&2; exit 98; }
chmod 700 "$d/omsrun"
"$d/omsrun" %s`, relay.DirPrefix, len(b.gz), b.sum, relay.NodeArg)
}

// nodeReport reads the node's last stdout line, its JSON report.
func nodeReport(out transport.Result, err error) relay.Report {
	if err != nil {
		return relay.Report{Err: err.Error()}
	}
	lines := strings.Split(strings.TrimSpace(string(out.Stdout)), "\n")
	var rep relay.Report
	if jerr := json.Unmarshal([]byte(lines[len(lines)-1]), &rep); jerr != nil {
		return relay.Report{Err: fmt.Sprintf("the node ended with status %d without a report: %s", out.ExitCode, textx.TailLines(string(out.Stderr), 3))}
	}
	if rep.Err == "" && out.ExitCode != 0 {
		rep.Err = fmt.Sprintf("the node ended with status %d", out.ExitCode)
	}
	return rep
}

// lineWatch is a node session's stderr: it closes seen when the node says
// it listens, and keeps the last few KB for an error message.
type lineWatch struct {
	mu   sync.Mutex
	line []byte
	buf  []byte
	seen chan struct{}
	once sync.Once
}

func newLineWatch(line string) *lineWatch {
	return &lineWatch{line: []byte(line), seen: make(chan struct{})}
}

func (w *lineWatch) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	if bytes.Contains(w.buf, w.line) {
		w.once.Do(func() { close(w.seen) })
	}
	if len(w.buf) > 8<<10 {
		w.buf = append([]byte(nil), w.buf[len(w.buf)-4<<10:]...)
	}
	return len(p), nil
}

// rest is what followed the line on the same output line.
func (w *lineWatch) rest() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	_, after, _ := bytes.Cut(w.buf, w.line)
	after, _, _ = bytes.Cut(after, []byte("\n"))
	return string(after)
}

func (w *lineWatch) tail() []byte {
	w.mu.Lock()
	defer w.mu.Unlock()
	return bytes.ReplaceAll(w.buf, append(w.line, '\n'), nil)
}
