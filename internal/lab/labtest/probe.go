package labtest

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// Probe polls a URL on a fixed interval from the controller and counts
// the failed answers: for /oms/health anything but a healthy 200; for any
// other URL (CM on 8088, which has no health endpoint) no HTTP answer at
// all, or the balancer's own 502/503/504 when it has no node to send to.
type Probe struct {
	URL      string
	Interval time.Duration

	cancel context.CancelFunc
	done   chan struct{}

	mu       sync.Mutex
	total    int
	failures []string
}

// ProbeResult is what a probe saw.
type ProbeResult struct {
	Total    int
	Failed   int
	Failures []string // "15:04:05.000 reason", at most 20
}

// ProbeVIP starts probing CM through the VIP, GET http://VIP:8088/, every 100 ms.
func (l *Lab) ProbeVIP(t testing.TB) *Probe {
	return StartProbe(t, "http://"+l.VIP+":8088/", 100*time.Millisecond)
}

// ProbeConsole starts probing GET http://VIP:8089/oms/health every 100 ms.
func (l *Lab) ProbeConsole(t testing.TB) *Probe {
	return StartProbe(t, "http://"+l.VIP+":8089/oms/health", 100*time.Millisecond)
}

// StartProbe starts probing url every interval until Stop (or the end of the test).
func StartProbe(t testing.TB, url string, interval time.Duration) *Probe {
	ctx, cancel := context.WithCancel(context.Background())
	p := &Probe{URL: url, Interval: interval, cancel: cancel, done: make(chan struct{})}
	// 5 s, not less: a balancer that meets a node being restarted retries on
	// another node, and haproxy waits its turn-around timer (up to 1 s) before
	// each of its 3 retries; the client still gets its answer, only later,
	// which is what a client behind a real balancer sees. A refused, failed
	// or unanswered request still counts as a failure.
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	go func() {
		defer close(p.done)
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for {
			p.once(ctx, client)
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	}()
	t.Cleanup(func() { p.Stop() })
	return p
}

func (p *Probe) once(ctx context.Context, client *http.Client) {
	if ctx.Err() != nil {
		return
	}
	reason := ""
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, p.URL, nil)
	resp, err := client.Do(req)
	if err != nil {
		reason = err.Error()
	} else {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		resp.Body.Close()
		health := strings.HasSuffix(p.URL, "/oms/health")
		switch {
		case health && resp.StatusCode != http.StatusOK,
			resp.StatusCode == http.StatusBadGateway || resp.StatusCode == http.StatusServiceUnavailable || resp.StatusCode == http.StatusGatewayTimeout:
			reason = fmt.Sprintf("status %d", resp.StatusCode)
		case health && !strings.Contains(string(body), `"healthy":true`):
			reason = "not healthy: " + strings.TrimSpace(string(body))
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.total++
	if reason != "" {
		p.failures = append(p.failures, time.Now().Format("15:04:05.000")+" "+reason)
	}
}

// Snapshot returns the counts so far without stopping.
func (p *Probe) Snapshot() ProbeResult {
	p.mu.Lock()
	defer p.mu.Unlock()
	r := ProbeResult{Total: p.total, Failed: len(p.failures)}
	r.Failures = append(r.Failures, p.failures[:min(len(p.failures), 20)]...)
	return r
}

// Stop ends the probe and returns what it saw.
func (p *Probe) Stop() ProbeResult {
	p.cancel()
	<-p.done
	return p.Snapshot()
}
