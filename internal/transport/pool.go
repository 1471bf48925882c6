package transport

import (
	"context"
	"errors"
	"sync"

	"golang.org/x/sync/singleflight"

	"github.com/omsrun/omsrun/inventory"
)

// Pool keeps one SSH connection per inventory host for the whole run.
type Pool struct {
	cfg  Config
	kh   *knownHostsFiles
	keys *keyCache

	// flights makes concurrent asks for one connection share a single dial.
	flights singleflight.Group

	mu       sync.Mutex
	conns    map[string]*sshHost // live targets
	jumps    map[string]*sshHost // ProxyJump hops, keyed by the chain up to them
	dials    int
	done     bool
	inflight sync.WaitGroup // dials under way, which Close waits for
}

// NewPool returns a pool that dials lazily, on the first Get of each host.
func NewPool(cfg Config) *Pool {
	return &Pool{
		cfg: cfg.withDefaults(), kh: newKnownHostsFiles(), keys: newKeyCache(),
		conns: map[string]*sshHost{}, jumps: map[string]*sshHost{},
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

var errPoolClosed = errors.New("connection pool closed")

// shared returns the live connection under key (among the jump hosts when
// jump is set), dialling it once however many callers ask at the same time.
// A failed dial is not kept (the next call tries again); a connection that
// has died is dialled again.
func (p *Pool) shared(ctx context.Context, jump bool, key, name string, dial func() (*sshHost, error)) (*sshHost, error) {
	flight := "target " + key
	if jump {
		flight = "jump " + key
	}
	for {
		p.mu.Lock()
		if p.done {
			p.mu.Unlock()
			return nil, &UnreachableError{Host: name, Err: errPoolClosed}
		}
		if c, ok := p.entries(jump)[key]; ok && c.alive() {
			p.mu.Unlock()
			return c, nil
		}
		p.mu.Unlock()
		mine := false
		ch := p.flights.DoChan(flight, func() (any, error) {
			mine = true
			p.mu.Lock()
			if p.done {
				p.mu.Unlock()
				return nil, &UnreachableError{Host: name, Err: errPoolClosed}
			}
			p.dials++
			p.inflight.Add(1)
			p.mu.Unlock()
			defer p.inflight.Done()
			c, err := dial()
			if err != nil {
				return nil, err
			}
			p.mu.Lock()
			defer p.mu.Unlock()
			if p.done {
				c.close(errPoolClosed)
				return nil, &UnreachableError{Host: name, Err: errPoolClosed}
			}
			p.entries(jump)[key] = c
			return c, nil
		})
		select {
		case r := <-ch:
			if r.Err == nil {
				return r.Val.(*sshHost), nil
			}
			// The dial was someone else's and ended with their context: try our own.
			if !mine && isContextErr(r.Err) && ctx.Err() == nil {
				continue
			}
			return nil, r.Err
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// entries is the map of targets or of jump hosts; called with p.mu held.
func (p *Pool) entries(jump bool) map[string]*sshHost {
	if jump {
		return p.jumps
	}
	return p.conns
}

// Dials reports how many connections the pool has opened (or tried to).
func (p *Pool) Dials() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.dials
}

// Close closes every connection; Runs still in flight fail as unreachable.
// A dial under way is waited for (it closes what it opened).
func (p *Pool) Close() error {
	p.mu.Lock()
	p.done = true
	conns, jumps := p.conns, p.jumps
	p.conns, p.jumps = map[string]*sshHost{}, map[string]*sshHost{}
	p.mu.Unlock()
	p.inflight.Wait()
	var errs []error
	// Targets first: their connections are tunnelled through the jump hosts.
	for _, group := range []map[string]*sshHost{conns, jumps} {
		for _, c := range group {
			if err := c.close(errPoolClosed); err != nil {
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
