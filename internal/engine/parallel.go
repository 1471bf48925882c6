package engine

import (
	"fmt"

	"github.com/sourcegraph/conc/panics"
	"github.com/sourcegraph/conc/pool"

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

// batches splits hosts for `serial`: "" → one batch, "N" → N at a time,
// "N%" → that share of the hosts (at least one) at a time.
func batches(hosts []*inventory.Host, serial string) ([][]*inventory.Host, error) {
	if serial == "" || len(hosts) == 0 {
		return [][]*inventory.Host{hosts}, nil
	}
	size, err := serialSize(serial, len(hosts))
	if err != nil {
		return nil, err
	}
	var out [][]*inventory.Host
	for len(hosts) > 0 {
		n := min(size, len(hosts))
		out = append(out, hosts[:n])
		hosts = hosts[n:]
	}
	return out, nil
}

func serialSize(serial string, total int) (int, error) {
	var n int
	if _, err := fmt.Sscanf(serial, "%d%%", &n); err == nil && serial[len(serial)-1] == '%' {
		if n <= 0 || n > 100 {
			return 0, fmt.Errorf("serial %q: a percentage must be between 1%% and 100%%", serial)
		}
		return max(1, total*n/100), nil
	}
	if _, err := fmt.Sscanf(serial, "%d", &n); err != nil || n <= 0 || fmt.Sprint(n) != serial {
		return 0, fmt.Errorf("serial %q: give a positive batch size such as 1 or a percentage such as 50%%", serial)
	}
	return n, nil
}
