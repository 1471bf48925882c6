// Package modtest is the fake host the modules' unit tests share: a
// transport.Host that answers scripted commands and records what ran.
package modtest

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/omsrun/omsrun/internal/transport"
	"github.com/omsrun/omsrun/modules"
)

// Rule scripts the answer to every command whose text contains match.
// A rule with once set is used a single time, so a sequence of answers to
// the same command can be scripted.
type Rule struct {
	match          string
	once           bool
	rc             int
	stdout, stderr string
	used           bool
}

// Host is a transport.Host that records commands and answers from rules.
type Host struct {
	Mu        sync.Mutex
	rules     []*Rule
	Cmds      []string
	BecomeLog []bool
	StdinN    int64 // bytes read from every command's stdin
	Stdin     []string
	Dials     []string
	Targets   map[string]string // dialled address → real address (e.g. an httptest server)
	// fallback, when set, runs the commands no rule matches (a local host,
	// to exercise real scripts such as the shared file writer's).
	Fallback transport.Host
}

func (h *Host) Name() string { return "fake" }

func (h *Host) On(match string, rc int, stdout, stderr string) *Host {
	h.rules = append(h.rules, &Rule{match: match, rc: rc, stdout: stdout, stderr: stderr})
	return h
}

func (h *Host) Once(match string, rc int, stdout, stderr string) *Host {
	h.rules = append(h.rules, &Rule{match: match, once: true, rc: rc, stdout: stdout, stderr: stderr})
	return h
}

func (h *Host) Run(ctx context.Context, c transport.Cmd) (transport.Result, error) {
	text := modules.CmdText(c)
	if h.Fallback != nil && !h.matches(text) {
		h.Mu.Lock()
		h.Cmds = append(h.Cmds, text)
		h.BecomeLog = append(h.BecomeLog, c.Become)
		h.Stdin = append(h.Stdin, "")
		h.Mu.Unlock()
		return h.Fallback.Run(ctx, c)
	}
	var in []byte
	if c.Stdin != nil {
		// Count rather than keep big streams, as the real transport would.
		var sb strings.Builder
		n, err := io.Copy(&limitedBuilder{b: &sb, max: 4096}, c.Stdin)
		if err != nil {
			return transport.Result{}, err
		}
		h.Mu.Lock()
		h.StdinN += n
		h.Mu.Unlock()
		in = []byte(sb.String())
	}
	h.Mu.Lock()
	defer h.Mu.Unlock()
	h.Cmds = append(h.Cmds, text)
	h.BecomeLog = append(h.BecomeLog, c.Become)
	h.Stdin = append(h.Stdin, string(in))
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

func (h *Host) matches(text string) bool {
	h.Mu.Lock()
	defer h.Mu.Unlock()
	for _, r := range h.rules {
		if !r.used && strings.Contains(text, r.match) {
			return true
		}
	}
	return false
}

func (h *Host) Dial(ctx context.Context, network, addr string) (net.Conn, error) {
	h.Mu.Lock()
	h.Dials = append(h.Dials, addr)
	real, ok := h.Targets[addr]
	h.Mu.Unlock()
	if !ok {
		return nil, errors.New("connect failed (fake): no route to host")
	}
	var d net.Dialer
	return d.DialContext(ctx, network, real)
}

func (h *Host) Commands() []string {
	h.Mu.Lock()
	defer h.Mu.Unlock()
	return append([]string(nil), h.Cmds...)
}

// ran says whether some command contained s.
func (h *Host) Ran(s string) bool {
	for _, c := range h.Commands() {
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

// Reporter records progress.
type Reporter struct {
	Mu      sync.Mutex
	Phases  []string
	ByteLog [][2]int64
	Warns   []string
}

func (r *Reporter) Phase(msg string) { r.Mu.Lock(); r.Phases = append(r.Phases, msg); r.Mu.Unlock() }
func (r *Reporter) Bytes(done, total int64) {
	r.Mu.Lock()
	r.ByteLog = append(r.ByteLog, [2]int64{done, total})
	r.Mu.Unlock()
}
func (r *Reporter) Warn(msg string) { r.Mu.Lock(); r.Warns = append(r.Warns, msg); r.Mu.Unlock() }

func NewEnv(h *Host) (*modules.Env, *Reporter) {
	rep := &Reporter{}
	return &modules.Env{Host: h, HostName: "h1", Address: "10.0.0.11", Become: true, Report: rep}, rep
}

// RunBoth runs Check and, when it asks for it, Apply, as the engine does.
func RunBoth(t *testing.T, m modules.Module, env *modules.Env, args any) (*modules.Plan, *modules.Result, error) {
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

// LocalEnv is an Env on h (often a transporttest.Local) that asks for diffs
// and records progress in a Reporter.
func LocalEnv(h transport.Host, addr string) *modules.Env {
	return &modules.Env{Host: h, HostName: "n1", Address: addr, Diff: true, Report: &Reporter{}}
}
