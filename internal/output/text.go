// Package output draws a run for people (text, colours, progress bars) or for
// programs (newline-delimited JSON). It is the edge where every string is
// scrubbed of secrets once more before it is written.
package output

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/fatih/color"

	"github.com/omsrun/omsrun/internal/engine"
	"github.com/omsrun/omsrun/internal/secret"
)

// Text writes the human form of a run.
type Text struct {
	W        io.Writer
	Redactor *secret.Redactor
	Verbose  int
	// Progress draws byte transfers and long waits; nil writes nothing for them.
	Bars *Progress

	mu       sync.Mutex
	colors   palette
	stepName string
	// diffs of the current step, printed at its end: the same diff on many
	// hosts once, naming them.
	diffs []hostDiff
}

type hostDiff struct {
	diff  string
	hosts []string
}

type palette struct {
	ok, changed, failed, skipped, unreachable, header, dim paint
}

// paint is a colour's escape sequences, worked out once: color.Color
// formats them anew on every call, which made coloured output twice as slow
// as plain. The zero paint writes plain text.
type paint struct{ pre, post string }

func newPaint(useColor bool, attrs ...color.Attribute) paint {
	if !useColor {
		return paint{}
	}
	c := color.New(attrs...)
	c.EnableColor()
	pre, post, _ := strings.Cut(c.Sprint("\x00"), "\x00")
	return paint{pre: pre, post: post}
}

// Sprint is color.Color's Sprint.
func (p paint) Sprint(a ...any) string {
	s, ok := "", false
	if len(a) == 1 {
		s, ok = a[0].(string)
	}
	if !ok {
		s = fmt.Sprint(a...)
	}
	if p.pre == "" {
		return s
	}
	return p.pre + s + p.post
}

// Sprintf is color.Color's Sprintf.
func (p paint) Sprintf(format string, a ...any) string {
	if p.pre == "" {
		return fmt.Sprintf(format, a...)
	}
	return p.pre + fmt.Sprintf(format, a...) + p.post
}

// NewText returns a text sink; colour is on only when asked (the caller decides
// from the terminal and NO_COLOR).
func NewText(w io.Writer, r *secret.Redactor, useColor bool, verbose int, prog *Progress) *Text {
	mk := func(attrs ...color.Attribute) paint { return newPaint(useColor, attrs...) }
	return &Text{W: w, Redactor: r, Verbose: verbose, Bars: prog, colors: palette{
		ok: mk(color.FgGreen), changed: mk(color.FgYellow), failed: mk(color.FgRed, color.Bold),
		skipped: mk(color.FgCyan), unreachable: mk(color.FgMagenta, color.Bold),
		header: mk(color.Bold), dim: mk(color.Faint),
	}}
}

var _ engine.Sink = (*Text)(nil)

func (t *Text) printf(format string, args ...any) {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := t.Redactor.Scrub(fmt.Sprintf(format, args...))
	if t.Bars != nil {
		t.Bars.Print(t.W, s)
		return
	}
	io.WriteString(t.W, s)
}

// RunStart implements engine.Sink.
func (t *Text) RunStart(ri engine.RunInfo) {
	mode := ""
	if ri.Check {
		mode = " (check mode: nothing will be changed)"
	}
	t.printf("%s %s on %d host(s)%s\n", t.colors.header.Sprint("PLAY"), ri.Playbook, len(ri.Hosts), mode)
}

// StepStart implements engine.Sink.
func (t *Text) StepStart(si engine.StepInfo) {
	t.stepName = si.Name
	line := fmt.Sprintf("STEP [%s] %s", si.Name, si.Module)
	t.printf("\n%s %s\n", t.colors.header.Sprint(line), strings.Repeat("*", max(3, 70-len(line))))
	if len(si.Hosts) == 0 && len(si.Dropped) == 0 {
		t.printf("  %s\n", t.colors.dim.Sprint("no hosts matched"))
	}
	// The hosts an earlier failure took out, grouped by why.
	var whys []string
	byWhy := map[string][]string{}
	for _, d := range si.Dropped {
		if _, seen := byWhy[d.Why]; !seen {
			whys = append(whys, d.Why)
		}
		byWhy[d.Why] = append(byWhy[d.Why], d.Host)
	}
	for _, why := range whys {
		t.printf("  %s %s\n", t.colors.skipped.Sprintf("%-11s", "skipped"), t.colors.dim.Sprintf("%s: %s", strings.Join(byWhy[why], ", "), why))
	}
}

// Progress implements engine.Sink.
func (t *Text) Progress(p engine.Progress) {
	if p.Log != "" {
		var b strings.Builder
		for i, l := range strings.Split(p.Log, "\n") {
			if i == 0 {
				fmt.Fprintf(&b, "    %s %s\n", p.Host, t.colors.dim.Sprint(l))
				continue
			}
			fmt.Fprintf(&b, "    %s   %s\n", strings.Repeat(" ", len(p.Host)), t.colors.dim.Sprint(l))
		}
		t.printf("%s", b.String())
		return
	}
	if p.Warn != "" {
		t.printf("  %s %s: %s\n", t.colors.changed.Sprint("warning"), p.Host, p.Warn)
		return
	}
	if t.Bars != nil {
		t.Bars.Update(p)
	}
}

func (t *Text) statusColor(s engine.Status) paint {
	switch s {
	case engine.StatusOK:
		return t.colors.ok
	case engine.StatusChanged:
		return t.colors.changed
	case engine.StatusSkipped:
		return t.colors.skipped
	case engine.StatusUnreachable:
		return t.colors.unreachable
	}
	return t.colors.failed
}

// HostResult implements engine.Sink.
func (t *Text) HostResult(r engine.HostResult) {
	if t.Bars != nil {
		t.Bars.Done(r.Step, r.Host)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "  %s %-16s %s", t.statusColor(r.Status).Sprintf("%-11s", r.Status), r.Host, t.colors.dim.Sprintf("(%s)", round(r.Duration)))
	if r.Msg != "" {
		b.WriteString("  " + firstLine(r.Msg))
	}
	if r.Attempts > 1 {
		fmt.Fprintf(&b, "  [%d attempts]", r.Attempts)
	}
	b.WriteString("\n")
	for _, w := range r.Warnings {
		fmt.Fprintf(&b, "      %s %s\n", t.colors.changed.Sprint("warning:"), w)
	}
	if r.Error != "" {
		for _, l := range strings.Split(strings.TrimRight(r.Error, "\n"), "\n") {
			fmt.Fprintf(&b, "      %s\n", l)
		}
	}
	if t.Verbose > 0 && strings.Contains(r.Msg, "\n") {
		for _, l := range strings.Split(strings.TrimRight(r.Msg, "\n"), "\n")[1:] {
			fmt.Fprintf(&b, "      %s\n", l)
		}
	}
	if r.Diff != "" {
		t.addDiff(r.Host, r.Diff)
	}
	t.printf("%s", b.String())
}

func (t *Text) addDiff(host, diff string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for i := range t.diffs {
		if t.diffs[i].diff == diff {
			t.diffs[i].hosts = append(t.diffs[i].hosts, host)
			return
		}
	}
	t.diffs = append(t.diffs, hostDiff{diff: diff, hosts: []string{host}})
}

// flushDiffs prints the step's diffs, each once with the hosts it is on.
func (t *Text) flushDiffs() {
	t.mu.Lock()
	diffs := t.diffs
	t.diffs = nil
	t.mu.Unlock()
	var b strings.Builder
	for _, d := range diffs {
		fmt.Fprintf(&b, "  %s\n", t.colors.header.Sprintf("diff on %s:", strings.Join(d.hosts, ", ")))
		for _, l := range strings.Split(strings.TrimRight(d.diff, "\n"), "\n") {
			c := t.colors.dim
			switch {
			case strings.HasPrefix(l, "+"):
				c = t.colors.ok
			case strings.HasPrefix(l, "-"):
				c = t.colors.failed
			}
			fmt.Fprintf(&b, "      %s\n", c.Sprint(l))
		}
	}
	if b.Len() > 0 {
		t.printf("%s", b.String())
	}
}

// StepEnd implements engine.Sink.
func (t *Text) StepEnd(e engine.StepEnd) {
	t.flushDiffs()
	if len(e.NotReached) > 0 {
		t.printf("  %s\n", t.colors.failed.Sprintf("rollout stopped: not reached %s", strings.Join(e.NotReached, ", ")))
	}
}

// Recap implements engine.Sink.
func (t *Text) Recap(r engine.Recap) {
	if t.Bars != nil {
		t.Bars.Wait()
	}
	t.flushDiffs() // a step cut short by an interrupt has no end
	var b strings.Builder
	fmt.Fprintf(&b, "\n%s %s\n", t.colors.header.Sprint("RECAP"), strings.Repeat("*", 64))
	for _, h := range r.Hosts {
		fmt.Fprintf(&b, "  %-16s %s %s %s %s %s", h.Host,
			t.colors.ok.Sprintf("ok=%-3d", h.OK), t.colors.changed.Sprintf("changed=%-3d", h.Changed),
			t.colors.failed.Sprintf("failed=%-3d", h.Failed), t.colors.skipped.Sprintf("skipped=%-3d", h.Skipped),
			t.colors.unreachable.Sprintf("unreachable=%-3d", h.Unreachable))
		if h.Ignored > 0 {
			fmt.Fprintf(&b, " ignored=%d", h.Ignored)
		}
		b.WriteString("\n")
	}
	if len(r.Steps) > 0 {
		b.WriteString("\n  step times:\n")
		steps := r.Steps
		for _, s := range steps {
			slow := ""
			if s.Slowest != "" {
				slow = fmt.Sprintf("  slowest %s (%s)", s.Slowest, round(s.SlowestDuration))
			}
			fmt.Fprintf(&b, "  %8s  %s%s\n", round(s.Duration), s.Name, t.colors.dim.Sprint(slow))
		}
	}
	fmt.Fprintf(&b, "\n  total %s", round(r.Duration))
	if r.Check {
		b.WriteString(" (check mode: nothing was changed)")
	}
	b.WriteString("\n")
	if r.Interrupted {
		fmt.Fprintf(&b, "  %s\n", t.colors.failed.Sprint("interrupted: remote commands were stopped"))
	}
	if r.Stopped != "" {
		fmt.Fprintf(&b, "  %s\n", t.colors.failed.Sprint("stopped: "+r.Stopped))
		if len(r.NotReached) > 0 {
			fmt.Fprintf(&b, "  %s\n", t.colors.failed.Sprintf("not reached (the remaining steps would have run on them): %s", strings.Join(r.NotReached, ", ")))
		}
	}
	for _, s := range r.Steps {
		if len(s.NotReached) > 0 {
			fmt.Fprintf(&b, "  %s\n", t.colors.failed.Sprintf("rollout %q stopped: not reached %s", s.Name, strings.Join(s.NotReached, ", ")))
		}
	}
	if r.Declined != "" {
		fmt.Fprintf(&b, "  %s\n", t.colors.failed.Sprint("declined: "+r.Declined))
	}
	if r.Error != "" {
		fmt.Fprintf(&b, "  %s\n", t.colors.failed.Sprint("error: "+r.Error))
	}
	if len(r.Unhealthy) > 0 {
		// The last line, so a script or a glance at the end says why (exit 6).
		fmt.Fprintf(&b, "  %s\n", t.colors.failed.Sprint(fmt.Sprintf("not as intended (%d): %s", len(r.Unhealthy), strings.Join(r.Unhealthy, " | "))))
	}
	t.printf("%s", b.String())
}

func round(d time.Duration) time.Duration {
	switch {
	case d >= 10*time.Second:
		return d.Round(100 * time.Millisecond)
	case d >= time.Second:
		return d.Round(10 * time.Millisecond)
	}
	return d.Round(time.Millisecond)
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i] + " …"
	}
	return s
}
