package e2e

import (
	"net/http"
	"time"
)

// gapProbe asks url every 100 ms (1 s timeout each) and keeps the longest
// time between two answers from CM (any status but the balancer's 502-504).
type gapProbe struct {
	done    chan struct{}
	longest chan time.Duration
}

func startGapProbe(url string) *gapProbe {
	g := &gapProbe{done: make(chan struct{}), longest: make(chan time.Duration, 1)}
	go func() {
		c := http.Client{Timeout: time.Second}
		last, longest := time.Now(), time.Duration(0)
		for {
			select {
			case <-g.done:
				g.longest <- longest
				return
			case <-time.After(100 * time.Millisecond):
			}
			resp, err := c.Get(url)
			if err != nil {
				continue
			}
			resp.Body.Close()
			if resp.StatusCode >= 502 && resp.StatusCode <= 504 {
				continue
			}
			if gap := time.Since(last); gap > longest {
				longest = gap
			}
			last = time.Now()
		}
	}()
	return g
}

func (g *gapProbe) stop() time.Duration {
	close(g.done)
	return <-g.longest
}
