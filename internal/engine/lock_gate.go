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
	"sync"

	"github.com/omsrun/omsrun/internal/playbook"
	"github.com/omsrun/omsrun/internal/transport"
	"github.com/omsrun/omsrun/inventory"
)

// take makes this run hold the lock on the host, or says why not: another
// run holds it (a LockHeldError), the acquisition failed, or the host did not
// answer. A command that fails before the acquisition answers (a connection
// hiccup) leaves the lock untried; the gate tries once more, then stops the
// run rather than change the other hosts while this one may later be
// refused. sudo's refusal is not tried again: it would only refuse again.
func (l *lockedHost) take(ctx context.Context) error {
	var err error
	for try := 0; try < 2 && ctx.Err() == nil; try++ {
		if held, why := l.verdict(); held || why != nil {
			return why
		}
		var be *transport.BecomeError
		if errors.As(err, &be) {
			break
		}
		_, err = l.Run(ctx, transport.Cmd{Argv: []string{"true"}, Become: l.inv.Become})
	}
	if held, why := l.verdict(); held || why != nil {
		return why
	}
	if err == nil {
		err = ctx.Err()
	}
	if err == nil {
		err = errors.New("no answer")
	}
	return fmt.Errorf("the run lock on %s could not be taken: %w", l.inv.Name, err)
}

// verdict reports whether the lock is ours, or why the host refused it.
func (l *lockedHost) verdict() (bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch l.state {
	case lockHeld:
		return true, nil
	case lockFailed:
		return false, l.err
	}
	return false, nil
}

// lockGate runs before the run's first step that may change a host (idx,
// st): it takes the lock on every live target and returns why the run must
// stop ("" when every host is ours). Each host another run holds, or whose
// lock could not be taken, that no step has failed yet is recorded as failed
// at st, naming the holder or the reason.
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
	errs := map[string]error{}
	var errMu sync.Mutex
	eachHost(hosts, max(r.Opts.Forks, 1), func(h *inventory.Host) error {
		if err := locks[h.Name].take(ctx); err != nil {
			errMu.Lock()
			errs[h.Name] = err
			errMu.Unlock()
		}
		return nil
	})
	var held, untaken []string
	var fresh []*inventory.Host
	for _, h := range hosts {
		err := errs[h.Name]
		if err == nil {
			continue
		}
		if e := (*LockHeldError)(nil); errors.As(err, &e) {
			held = append(held, fmt.Sprintf("%s (%s)", h.Name, e.Holder))
		} else {
			untaken = append(untaken, fmt.Sprintf("%s (%s)", h.Name, r.Redactor.Scrub(err.Error())))
		}
		if !r.isDead(h.Name) {
			fresh = append(fresh, h)
		}
	}
	if len(held)+len(untaken) == 0 {
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
	var why []string
	if len(held) > 0 {
		why = append(why, "another omsrun run holds the run lock on "+strings.Join(held, ", "))
	}
	if len(untaken) > 0 {
		why = append(why, "the run lock could not be taken on "+strings.Join(untaken, ", "))
	}
	return fmt.Sprintf("%s; this run stopped before its first change (step %q) and changed nothing", strings.Join(why, "; "), st.Name)
}

// isDead reports whether an earlier step failed on the host or could not reach it.
func (r *Runner) isDead(host string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.state[host].dead
}
