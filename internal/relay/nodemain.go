package relay

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/omsrun/omsrun/internal/textx"
)

// NodeArg is the one argument that makes omsrun a relay node. Everything
// else, the secret above all, comes on stdin: argv is readable by any user
// of the host (ps, /proc/PID/cmdline).
const NodeArg = "__relay-node"

// ListeningLine is what a node prints on stderr once it listens: the
// control machine starts the node before it only then.
const ListeningLine = "omsrun-relay: listening"

// NextUnreachableLine starts what a node prints on stderr when it cannot
// connect to the next node; the reason follows on the same line.
const NextUnreachableLine = "omsrun-relay: next unreachable: "

// DirPrefix names the directory a node's copy of omsrun is placed in.
const DirPrefix = "omsrun-relay."

// FrameConfig encodes cfg for a node's stdin: its length, then the JSON.
// The length lets the node read exactly the configuration and leave the
// stream that may follow it unread.
func FrameConfig(cfg NodeConfig) ([]byte, error) {
	b, err := json.Marshal(cfg)
	if err != nil {
		return nil, err
	}
	out := binary.BigEndian.AppendUint32(nil, uint32(len(b)))
	return append(out, b...), nil
}

func readFramedConfig(r io.Reader) (NodeConfig, error) {
	var n [4]byte
	if _, err := io.ReadFull(r, n[:]); err != nil {
		return NodeConfig{}, fmt.Errorf("relay: configuration on stdin: %w", err)
	}
	size := binary.BigEndian.Uint32(n[:])
	if size > 64<<10 {
		return NodeConfig{}, fmt.Errorf("relay: configuration of %d bytes", size)
	}
	b := make([]byte, size)
	if _, err := io.ReadFull(r, b); err != nil {
		return NodeConfig{}, fmt.Errorf("relay: configuration on stdin: %w", err)
	}
	return ReadConfig(bytes.NewReader(b))
}

// NodeMain is omsrun on a node for one transfer. It removes its own file
// first (Linux keeps a running program's text after the unlink), so that
// nothing of it is left on disk whatever happens next, a kill -9 included;
// it ends when the stream ends, when its session's stdin closes (the run
// was interrupted or omsrun died: sshd closes the channel) or on a signal,
// and its report is one JSON line on stdout.
func NodeMain(stdin io.Reader, stdout, stderr io.Writer) int {
	removeSelf()
	rep := runMain(stdin, stderr)
	json.NewEncoder(stdout).Encode(rep)
	if rep.Err != "" {
		return 1
	}
	return 0
}

func runMain(stdin io.Reader, stderr io.Writer) Report {
	cfg, err := readFramedConfig(stdin)
	if err != nil {
		return Report{Err: err.Error()}
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP, syscall.SIGPIPE)
	defer stop()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if !cfg.Stdin {
		// Nothing more comes on stdin: its end is the control machine gone.
		go func() {
			io.Copy(io.Discard, stdin)
			cancel()
		}()
	}
	if cfg.Save != "" {
		return saveNode(ctx, cfg, stderr)
	}
	ld, err := startLoad(ctx)
	if err != nil {
		return Report{Err: err.Error()}
	}
	var rep Report
	if cfg.Stdin {
		rep = RunFirst(ctx, cfg, stdin, ld.in, stderr)
	} else {
		rep = RunNode(ctx, cfg, ld.in, stderr)
	}
	return ld.finish(rep)
}

// removeSelf unlinks the running binary and its directory when it is one
// the control machine made for it.
func removeSelf() {
	exe, err := os.Executable()
	if err != nil {
		return
	}
	os.Remove(exe)
	if dir := filepath.Dir(exe); strings.HasPrefix(filepath.Base(dir), DirPrefix) {
		os.Remove(dir)
	}
}

// RunFirst is the chain's first node: the stream comes on up (the SSH
// session's stdin), goes to sink and on to cfg.Next.
func RunFirst(ctx context.Context, cfg NodeConfig, up io.Reader, sink io.Writer, stderr io.Writer) Report {
	var rep Report
	var next io.Writer
	if cfg.Next != "" {
		down, err := dialNext(cfg, stderr)
		if err != nil {
			rep.NextErr = err.Error()
		} else {
			defer down.Close()
			go func() {
				<-ctx.Done()
				down.Close()
			}()
			next = idleConn{down, cfg.idle()}
		}
	}
	n, nextErr, err := Relay(up, sink, next)
	rep.Bytes = n
	if nextErr != nil && rep.NextErr == "" {
		rep.NextErr = nextErr.Error()
	}
	if err != nil {
		rep.Err = err.Error()
	}
	return rep
}

// saveNode is a node that has the image: docker save of the one image ID
// it was given, framed to the next node.
func saveNode(ctx context.Context, cfg NodeConfig, stderr io.Writer) Report {
	down, err := dialNext(cfg, stderr)
	if err != nil {
		return Report{NextErr: err.Error(), Err: err.Error()}
	}
	defer down.Close()
	go func() {
		<-ctx.Done()
		down.Close()
	}()
	var errOut bytes.Buffer
	cmd := exec.CommandContext(ctx, "docker", "save", cfg.Save)
	cmd.Stderr = &errOut
	out, err := cmd.StdoutPipe()
	if err != nil {
		return Report{Err: err.Error()}
	}
	if err := cmd.Start(); err != nil {
		return Report{Err: err.Error()}
	}
	n, serr := Send(idleConn{down, cfg.idle()}, out)
	werr := cmd.Wait()
	switch {
	case werr != nil:
		return Report{Bytes: n, Err: fmt.Sprintf("docker save: %v: %s", werr, textx.TailLines(errOut.String(), 3))}
	case serr != nil:
		return Report{Bytes: n, NextErr: serr.Error(), Err: serr.Error()}
	}
	return Report{Bytes: n}
}

// loader is the node's docker load, fed through its stdin.
type loader struct {
	cmd *exec.Cmd
	in  io.WriteCloser
	out bytes.Buffer
}

func startLoad(ctx context.Context) (*loader, error) {
	l := &loader{cmd: exec.CommandContext(ctx, "docker", "load")}
	l.cmd.Stdout, l.cmd.Stderr = &l.out, &l.out
	in, err := l.cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	l.in = in
	if err := l.cmd.Start(); err != nil {
		return nil, fmt.Errorf("docker load: %w", err)
	}
	return l, nil
}

// finish ends the load: a stream that did not arrive whole is never
// handed to docker as if it had (the load is killed, not closed).
func (l *loader) finish(rep Report) Report {
	if rep.Err != "" {
		l.cmd.Process.Kill()
		l.cmd.Wait()
		return rep
	}
	l.in.Close()
	err := l.cmd.Wait()
	if err != nil || !strings.Contains(l.out.String(), "Loaded image") {
		rep.Err = fmt.Sprintf("docker load: %v: %s", err, textx.TailLines(l.out.String(), 3))
		rep.LoadFailed = true
	}
	return rep
}
