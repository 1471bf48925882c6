package modules

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/omsrun/omsrun/internal/transport"
)

// dkRule scripts the answer to every command whose text contains match.
// A rule with once set is used a single time, so a sequence of answers to
// the same command can be scripted.
type dkRule struct {
	match          string
	once           bool
	rc             int
	stdout, stderr string
	used           bool
}

// dkHost is a transport.Host that records commands and answers from rules.
type dkHost struct {
	mu      sync.Mutex
	rules   []*dkRule
	cmds    []string
	become  []bool
	stdinN  int64 // bytes read from every command's stdin
	stdin   []string
	dials   []string
	targets map[string]string // dialled address → real address (e.g. an httptest server)
	// fallback, when set, runs the commands no rule matches (a local host,
	// to exercise real scripts such as the shared file writer's).
	fallback transport.Host
}

func (h *dkHost) Name() string { return "fake" }

func (h *dkHost) on(match string, rc int, stdout, stderr string) *dkHost {
	h.rules = append(h.rules, &dkRule{match: match, rc: rc, stdout: stdout, stderr: stderr})
	return h
}

func (h *dkHost) once(match string, rc int, stdout, stderr string) *dkHost {
	h.rules = append(h.rules, &dkRule{match: match, once: true, rc: rc, stdout: stdout, stderr: stderr})
	return h
}

func (h *dkHost) Run(ctx context.Context, c transport.Cmd) (transport.Result, error) {
	text := cmdText(c)
	if h.fallback != nil && !h.matches(text) {
		h.mu.Lock()
		h.cmds = append(h.cmds, text)
		h.become = append(h.become, c.Become)
		h.stdin = append(h.stdin, "")
		h.mu.Unlock()
		return h.fallback.Run(ctx, c)
	}
	var in []byte
	if c.Stdin != nil {
		// Count rather than keep big streams, as the real transport would.
		var sb strings.Builder
		n, err := io.Copy(&limitedBuilder{b: &sb, max: 4096}, c.Stdin)
		if err != nil {
			return transport.Result{}, err
		}
		h.mu.Lock()
		h.stdinN += n
		h.mu.Unlock()
		in = []byte(sb.String())
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.cmds = append(h.cmds, text)
	h.become = append(h.become, c.Become)
	h.stdin = append(h.stdin, string(in))
	for _, r := range h.rules {
		if r.used || !strings.Contains(text, r.match) {
			continue
		}
		if r.once {
			r.used = true
		}
		res := transport.Result{ExitCode: r.rc}
		if c.Stdout != nil {
			io.WriteString(c.Stdout, r.stdout)
		} else {
			res.Stdout = []byte(r.stdout)
		}
		if c.Stderr != nil {
			io.WriteString(c.Stderr, r.stderr)
		} else {
			res.Stderr = []byte(r.stderr)
		}
		return res, nil
	}
	return transport.Result{ExitCode: 127, Stderr: []byte("fake: no rule for: " + text)}, nil
}

func (h *dkHost) matches(text string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, r := range h.rules {
		if !r.used && strings.Contains(text, r.match) {
			return true
		}
	}
	return false
}

func (h *dkHost) Dial(ctx context.Context, network, addr string) (net.Conn, error) {
	h.mu.Lock()
	h.dials = append(h.dials, addr)
	real, ok := h.targets[addr]
	h.mu.Unlock()
	if !ok {
		return nil, errors.New("connect failed (fake): no route to host")
	}
	var d net.Dialer
	return d.DialContext(ctx, network, real)
}

func (h *dkHost) commands() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.cmds...)
}

// ran says whether some command contained s.
func (h *dkHost) ran(s string) bool {
	for _, c := range h.commands() {
		if strings.Contains(c, s) {
			return true
		}
	}
	return false
}

type limitedBuilder struct {
	b   *strings.Builder
	max int
}

func (l *limitedBuilder) Write(p []byte) (int, error) {
	if room := l.max - l.b.Len(); room > 0 {
		if len(p) < room {
			room = len(p)
		}
		l.b.Write(p[:room])
	}
	return len(p), nil
}

// dkReporter records progress.
type dkReporter struct {
	mu     sync.Mutex
	phases []string
	bytes  [][2]int64
	warns  []string
}

func (r *dkReporter) Phase(msg string) { r.mu.Lock(); r.phases = append(r.phases, msg); r.mu.Unlock() }
func (r *dkReporter) Bytes(done, total int64) {
	r.mu.Lock()
	r.bytes = append(r.bytes, [2]int64{done, total})
	r.mu.Unlock()
}
func (r *dkReporter) Warn(msg string) { r.mu.Lock(); r.warns = append(r.warns, msg); r.mu.Unlock() }

func dkEnv(h *dkHost) (*Env, *dkReporter) {
	rep := &dkReporter{}
	return &Env{Host: h, HostName: "h1", Address: "10.0.0.11", Become: true, Report: rep}, rep
}

// dkRunBoth runs Check and, when it asks for it, Apply, as the engine does.
func dkRunBoth(t *testing.T, m Module, env *Env, args any) (*Plan, *Result, error) {
	t.Helper()
	plan, err := m.Check(context.Background(), env, args)
	if err != nil {
		return nil, nil, err
	}
	if !plan.Change && !plan.Unknown {
		return plan, nil, nil
	}
	res, err := m.Apply(context.Background(), env, args, plan)
	return plan, res, err
}
