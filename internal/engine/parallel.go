package engine

import (
	"fmt"

	"github.com/sourcegraph/conc/panics"
	"github.com/sourcegraph/conc/pool"

	"github.com/omsrun/omsrun/internal/playbook"
	"github.com/omsrun/omsrun/inventory"
)

// eachHost is the one place work fans out across hosts: fn runs for every host
// with at most forks running at once, and returns when all are done (the
// barrier). A panic in fn becomes that host's error instead of killing the run.
func eachHost(hosts []*inventory.Host, forks int, fn func(h *inventory.Host) error) map[string]error {
	if forks < 1 {
		forks = 1
	}
	errs := make([]error, len(hosts))
	p := pool.New().WithMaxGoroutines(forks)
	for i, h := range hosts {
		p.Go(func() {
			var c panics.Catcher
			c.Try(func() { errs[i] = fn(h) })
			if r := c.Recovered(); r != nil {
				errs[i] = fmt.Errorf("internal error on %s: %w", h.Name, r.AsError())
			}
		})
	}
	p.Wait()
	out := make(map[string]error, len(hosts))
	for i, h := range hosts {
		if errs[i] != nil {
			out[h.Name] = errs[i]
		}
	}
	return out
}

// batches splits hosts for `serial` (parsed when the step was decoded):
// unset → one batch, else BatchSize hosts at a time.
func batches(hosts []*inventory.Host, serial playbook.Serial) [][]*inventory.Host {
	if !serial.IsSet() || len(hosts) == 0 {
		return [][]*inventory.Host{hosts}
	}
	size := serial.BatchSize(len(hosts))
	var out [][]*inventory.Host
	for len(hosts) > 0 {
		n := min(size, len(hosts))
		out = append(out, hosts[:n])
		hosts = hosts[n:]
	}
	return out
}
