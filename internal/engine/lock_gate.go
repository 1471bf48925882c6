package engine

// The lock gate: a changing run holds the run lock on every host before its
// first change, or stops there having changed nothing. The lock still rides
// on each host's first command (lock_host.go), so a playbook that reads
// first (deploy's preflight) pays nothing here; only hosts no command has
// reached yet get an acquisition of their own. Without the gate, a host held
// by another run failed alone while the run went on changing the others —
// two runs interleaving on one cluster, which the lock exists to prevent.

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/omsrun/omsrun/internal/playbook"
	"github.com/omsrun/omsrun/internal/transport"
	"github.com/omsrun/omsrun/inventory"
)

// take makes sure this run has tried the lock: a host no command has reached
// yet gets the acquisition in front of a `true` of its own. Its error is not
// the verdict (see refused): a lost connection leaves the lock to the host's
// next command, as before the gate.
func (l *lockedHost) take(ctx context.Context) {
	l.mu.Lock()
	st := l.state
	l.mu.Unlock()
	if st == lockHeld || st == lockFailed {
		return
	}
	_, _ = l.Run(ctx, transport.Cmd{Argv: []string{"true"}, Become: l.inv.Become})
}

// lockGate runs before the run's first step that may change a host (idx,
// st): it takes the lock on every live target and returns why the run must
// stop ("" when every host is ours). Each host another run holds that no
// step has failed yet is recorded as failed at st, naming the holder.
func (r *Runner) lockGate(ctx context.Context, idx int, st *playbook.Step) string {
	var hosts []*inventory.Host
	locks := map[string]*lockedHost{}
	r.mu.Lock()
	for _, h := range r.Opts.Targets {
		s := r.state[h.Name]
		if s.lock == nil {
			continue // never connected: its step reports it unreachable
		}
		if s.dead && s.lock.refused() == nil {
			continue // out of the run already: this run will not change it
		}
		hosts = append(hosts, h)
		locks[h.Name] = s.lock
	}
	r.mu.Unlock()
	eachHost(hosts, max(r.Opts.Forks, 1), func(h *inventory.Host) error {
		locks[h.Name].take(ctx)
		return nil
	})
	var held []string
	var fresh []*inventory.Host
	errs := map[string]error{}
	for _, h := range hosts {
		var e *LockHeldError
		if err := locks[h.Name].refused(); errors.As(err, &e) {
			held = append(held, fmt.Sprintf("%s (%s)", h.Name, e.Holder))
			errs[h.Name] = err
			if !r.isDead(h.Name) {
				fresh = append(fresh, h)
			}
		}
	}
	if len(held) == 0 {
		return ""
	}
	if len(fresh) > 0 {
		// The refusal belongs to this step: it is where the run stops.
		names := make([]string, len(fresh))
		for i, h := range fresh {
			names[i] = h.Name
		}
		r.Sink.StepStart(StepInfo{Index: idx, Name: st.Name, Module: st.Module, Hosts: names})
		for _, h := range fresh {
			r.record(st, HostResult{Step: st.Name, Host: h.Name, Status: StatusFailed, Error: errs[h.Name].Error()})
		}
		r.Sink.StepEnd(StepEnd{Name: st.Name})
	}
	return fmt.Sprintf("another omsrun run holds the run lock on %s; this run stopped before its first change (step %q) and changed nothing", strings.Join(held, ", "), st.Name)
}

// isDead reports whether an earlier step failed on the host or could not reach it.
func (r *Runner) isDead(host string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.state[host].dead
}
