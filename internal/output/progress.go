package output

import (
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"
	"golang.org/x/term"

	"github.com/omsrun/omsrun/internal/engine"
	"github.com/omsrun/omsrun/internal/textx"
	"github.com/omsrun/omsrun/modules"
)

// Progress shows transfers and long waits: one bar per host on a terminal,
// or a plain line every few seconds otherwise (logs and CI).
type Progress struct {
	w        io.Writer
	terminal bool
	interval time.Duration

	mu    sync.Mutex
	mpb   *mpb.Progress
	bars  map[string]*mpb.Bar
	last  map[string]time.Time
	began map[string]time.Time
	phase map[string]*atomic.Value
}

// NewProgress returns a progress drawer writing to w.
func NewProgress(w io.Writer, terminal bool) *Progress {
	p := &Progress{w: w, terminal: terminal, interval: 5 * time.Second,
		bars: map[string]*mpb.Bar{}, last: map[string]time.Time{}, began: map[string]time.Time{}, phase: map[string]*atomic.Value{}}
	// A terminal of no size (some CI pseudo-terminals) cannot show bars: use lines.
	if f, ok := w.(*os.File); terminal && ok {
		if cols, _, err := term.GetSize(int(f.Fd())); err != nil || cols == 0 {
			terminal = false
			p.terminal = false
		}
	}
	if terminal {
		p.mpb = mpb.New(mpb.WithOutput(w), mpb.WithWidth(40), mpb.WithRefreshRate(150*time.Millisecond))
	}
	return p
}

// Print writes a finished line above any bars.
func (p *Progress) Print(w io.Writer, s string) {
	if p.mpb != nil {
		p.mpb.Write([]byte(s))
		return
	}
	io.WriteString(w, s)
}

func key(step, host string) string { return step + "\x00" + host }

// Update draws one progress event.
func (p *Progress) Update(ev engine.Progress) {
	p.mu.Lock()
	defer p.mu.Unlock()
	k := key(ev.Step, ev.Host)
	if _, ok := p.began[k]; !ok {
		p.began[k] = time.Now()
	}
	if p.mpb != nil {
		p.updateBar(k, ev)
		return
	}
	now := time.Now()
	if now.Sub(p.last[k]) < p.interval {
		return
	}
	p.last[k] = now
	elapsed := now.Sub(p.began[k]).Round(time.Second)
	if ev.Total > 0 || ev.Done > 0 {
		secs := now.Sub(p.began[k]).Seconds()
		rate := 0.0
		if secs > 0 {
			rate = float64(ev.Done) / secs
		}
		fmt.Fprintf(p.w, "    %s: %s of %s (%s/s, %s)\n", ev.Host, textx.HumanBytes(ev.Done), textx.HumanBytes(ev.Total), textx.HumanBytes(int64(rate)), elapsed)
		return
	}
	if ev.Phase != "" {
		fmt.Fprintf(p.w, "    %s: %s\n", ev.Host, withElapsed(ev.Phase, elapsed))
	}
}

func (p *Progress) updateBar(k string, ev engine.Progress) {
	bar, ok := p.bars[k]
	if ev.Total > 0 {
		// A transfer replaces the phase spinner with a byte bar.
		if ok && p.phase[k] != nil {
			bar.Abort(true)
			delete(p.phase, k)
			ok = false
		}
		if !ok {
			bar = p.mpb.AddBar(ev.Total,
				mpb.PrependDecorators(decor.Name(fmt.Sprintf("    %-16s", ev.Host)), decor.Counters(decor.SizeB1024(0), "% .1f / % .1f")),
				mpb.AppendDecorators(decor.AverageSpeed(decor.SizeB1024(0), "% .1f", decor.WCSyncSpace), decor.Name(" ETA "), decor.AverageETA(decor.ET_STYLE_GO)),
				mpb.BarRemoveOnComplete())
			p.bars[k] = bar
		}
		bar.SetCurrent(ev.Done)
		return
	}
	if ev.Phase != "" {
		if ok && p.phase[k] == nil {
			return // a byte bar is showing; it says more than the phase
		}
		text, have := p.phase[k]
		if !have {
			text = new(atomic.Value)
			p.phase[k] = text
		}
		text.Store(ev.Phase)
		if !ok {
			start := p.began[k]
			bar = p.mpb.AddSpinner(0,
				mpb.PrependDecorators(decor.Name(fmt.Sprintf("    %-16s", ev.Host))),
				mpb.AppendDecorators(decor.Any(func(decor.Statistics) string {
					// An atomic, not p.mu: mpb calls this from its render
					// goroutine while Update may hold p.mu waiting on mpb.
					return withElapsed(text.Load().(string), time.Since(start).Round(time.Second))
				})),
				mpb.BarRemoveOnComplete())
			p.bars[k] = bar
		}
	}
}

// withElapsed adds the time since the host's step began to a phase, unless
// the phase is a wait that shows its own ("waiting for health 2m10s /
// 15m0s"): one time per line, never "(0s) (0s)".
func withElapsed(phase string, elapsed time.Duration) string {
	if modules.IsWaitPhase(phase) {
		return phase
	}
	return fmt.Sprintf("%s (%s)", phase, elapsed)
}

// Done removes the bars of a host whose step finished.
func (p *Progress) Done(step, host string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	k := key(step, host)
	if b, ok := p.bars[k]; ok {
		b.Abort(true)
		delete(p.bars, k)
	}
	delete(p.began, k)
	delete(p.last, k)
	delete(p.phase, k)
}

// Wait flushes the bars before the recap.
func (p *Progress) Wait() {
	if p.mpb == nil {
		return
	}
	p.mu.Lock()
	for k, b := range p.bars {
		b.Abort(true)
		delete(p.bars, k)
	}
	m := p.mpb
	p.mpb = nil
	p.mu.Unlock()
	// Wait, not Shutdown: Shutdown drops the lines still queued above the bars.
	m.Wait()
}
