package transport

import (
	"context"
	"errors"
	"sync"

	"github.com/omsrun/omsrun/inventory"
)

// Pool keeps one SSH connection per inventory host for the whole run.
type Pool struct {
	cfg  Config
	kh   *knownHostsFiles
	keys *keyCache

	mu    sync.Mutex
	conns map[string]*poolEntry
	jumps map[string]*poolEntry // ProxyJump hops, keyed by the chain up to them
	dials int
	done  bool
}

// poolEntry lets concurrent Get calls for one host share a single dial.
type poolEntry struct {
	ready chan struct{}
	host  *sshHost
	err   error
}

// NewPool returns a pool that dials lazily, on the first Get of each host.
func NewPool(cfg Config) *Pool {
	return &Pool{
		cfg: cfg.withDefaults(), kh: newKnownHostsFiles(), keys: newKeyCache(),
		conns: map[string]*poolEntry{}, jumps: map[string]*poolEntry{},
	}
}

// Get returns the connected host, dialling it on first use. Callers asking for
// the same host at the same time wait for one dial; a connection that has died
// is dialled again on the next Get.
func (p *Pool) Get(ctx context.Context, h *inventory.Host) (Host, error) {
	c, err := p.shared(ctx, false, h.Name, h.Name, func() (*sshHost, error) { return p.dial(ctx, h) })
	if err != nil {
		return nil, err
	}
	return c, nil
}

// shared returns the live connection under key (among the jump hosts when
// jump is set), dialling it once however many callers ask at the same time.
// A failed dial is not kept (the next call tries again); a connection that
// has died is dialled again.
func (p *Pool) shared(ctx context.Context, jump bool, key, name string, dial func() (*sshHost, error)) (*sshHost, error) {
	for {
		p.mu.Lock()
		entries := p.entries(jump)
		if p.done {
			p.mu.Unlock()
			return nil, &UnreachableError{Host: name, Err: errors.New("connection pool closed")}
		}
		e, ok := entries[key]
		if !ok {
			e = &poolEntry{ready: make(chan struct{})}
			entries[key] = e
			p.dials++
			p.mu.Unlock()
			e.host, e.err = dial()
			close(e.ready)
			if e.err != nil {
				p.forget(jump, key, e)
				return nil, e.err
			}
			return e.host, nil
		}
		p.mu.Unlock()
		select {
		case <-e.ready:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		if e.err != nil {
			// The dial was someone else's and ended with their context: try our own.
			if isContextErr(e.err) && ctx.Err() == nil {
				continue
			}
			return nil, e.err
		}
		if e.host.alive() {
			return e.host, nil
		}
		p.forget(jump, key, e)
	}
}

// entries is the map of targets or of jump hosts; called with p.mu held.
func (p *Pool) entries(jump bool) map[string]*poolEntry {
	if jump {
		return p.jumps
	}
	return p.conns
}

func (p *Pool) forget(jump bool, key string, e *poolEntry) {
	p.mu.Lock()
	if m := p.entries(jump); m[key] == e {
		delete(m, key)
	}
	p.mu.Unlock()
}

// Dials reports how many connections the pool has opened (or tried to).
func (p *Pool) Dials() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.dials
}

// Close closes every connection; Runs still in flight fail as unreachable.
func (p *Pool) Close() error {
	p.mu.Lock()
	p.done = true
	entries := p.conns
	p.conns = map[string]*poolEntry{}
	jumps := p.jumps
	p.jumps = map[string]*poolEntry{}
	p.mu.Unlock()
	var errs []error
	// Targets first: their connections are tunnelled through the jump hosts.
	for _, e := range entries {
		<-e.ready
		if e.host != nil {
			if err := e.host.close(errors.New("connection pool closed")); err != nil {
				errs = append(errs, err)
			}
		}
	}
	for _, e := range jumps {
		<-e.ready
		if e.host != nil {
			if err := e.host.close(errors.New("connection pool closed")); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// isContextErr tells a dial abandoned because its caller's context ended
// from one that failed on its own (which comes as an *UnreachableError).
func isContextErr(err error) bool {
	return !IsUnreachable(err) && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded))
}
