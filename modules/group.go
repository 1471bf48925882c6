package modules

import (
	"context"
	"sync"
)

// Group lets the hosts of one step (one batch of it) work together: a module
// publishes what it found on each host with Put, and Meet gathers the hosts
// that want to act together so that one of them acts for all (docker_load's
// relay: the image crosses the control machine's link once). The engine
// makes one per batch, only when every host of the batch runs at once (a
// host waiting in Meet would otherwise hold a fork another host needs), and
// calls Finish when a host's work in the step ends, so that Meet never
// waits for a host that will not come (skipped, unreachable, failed).
// A nil *Group is valid: Meet then says no one meets.
type Group struct {
	mu      sync.Mutex
	order   []string
	pending map[string]bool // neither met nor finished
	met     []string
	vals    map[string]any
	ready   chan struct{}
	once    sync.Once
	result  map[string]any
	closed  bool
}

// NewGroup returns the group of the given hosts, in inventory order.
func NewGroup(hosts []string) *Group {
	g := &Group{order: hosts, pending: map[string]bool{}, vals: map[string]any{}, ready: make(chan struct{})}
	for _, h := range hosts {
		g.pending[h] = true
	}
	return g
}

// Put publishes v for host; the function given to Meet sees it.
func (g *Group) Put(host string, v any) {
	if g == nil {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.vals[host] = v
}

// Finish says host will not call Meet in this step (any more).
func (g *Group) Finish(host string) {
	if g == nil {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	delete(g.pending, host)
	g.release()
}

func (g *Group) release() {
	if len(g.pending) == 0 && !g.closed {
		g.closed = true
		close(g.ready)
	}
}

// Meet waits until every host of the group has met or finished, then the
// first to get there runs fn once for all of them with the hosts that met
// (in inventory order) and every published value; each gets fn's result
// for its own name. ok is false when there was no meeting to join: no
// group, the meeting already over (a retry), or ctx ended while waiting.
func (g *Group) Meet(ctx context.Context, host string, fn func(met []string, vals map[string]any) map[string]any) (v any, ok bool) {
	if g == nil {
		return nil, false
	}
	g.mu.Lock()
	if g.closed || !g.pending[host] {
		g.mu.Unlock()
		return nil, false
	}
	delete(g.pending, host)
	g.met = append(g.met, host)
	g.release()
	g.mu.Unlock()
	select {
	case <-g.ready:
	case <-ctx.Done():
		return nil, false
	}
	g.once.Do(func() {
		g.mu.Lock()
		met := map[string]bool{}
		for _, h := range g.met {
			met[h] = true
		}
		var inOrder []string
		for _, h := range g.order {
			if met[h] {
				inOrder = append(inOrder, h)
			}
		}
		vals := make(map[string]any, len(g.vals))
		for k, v := range g.vals {
			vals[k] = v
		}
		g.mu.Unlock()
		g.result = fn(inOrder, vals)
	})
	v, ok = g.result[host]
	return v, ok
}
