package modules

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// dialFunc opens a TCP connection; env.Host.Dial (from the host's side, over
// SSH direct-tcpip) and net.Dialer.DialContext (from the controller) both fit.
type dialFunc func(ctx context.Context, network, addr string) (net.Conn, error)

// dialerFor picks where probes start: "host" (the default) reaches what the
// host reaches, without needing curl or bash on it; "controller" dials directly.
func dialerFor(env *Env, via string) (dialFunc, error) {
	switch via {
	case "", "host":
		return boundedDial(env.Host.Dial), nil
	case "controller":
		var d net.Dialer
		return d.DialContext, nil
	}
	return nil, fmt.Errorf("via: %q is neither \"host\" nor \"controller\"", via)
}

// boundedDial makes dial return when ctx ends even if the underlying dial does
// not watch ctx (an SSH direct-tcpip open waits for the server's own connect,
// which can take minutes against a silent address).
func boundedDial(dial dialFunc) dialFunc {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		type answer struct {
			c   net.Conn
			err error
		}
		ch := make(chan answer, 1)
		go func() {
			c, err := dial(ctx, network, addr)
			ch <- answer{c, err}
		}()
		select {
		case a := <-ch:
			return a.c, a.err
		case <-ctx.Done():
			go func() {
				if a := <-ch; a.c != nil {
					a.c.Close()
				}
			}()
			return nil, fmt.Errorf("dial %s: %w", addr, ctx.Err())
		}
	}
}

// tcpProbe connects to addr and closes the connection at once.
func tcpProbe(ctx context.Context, dial dialFunc, addr string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	c, err := dial(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	return c.Close()
}

// httpAnswer is what an HTTP probe got back.
type httpAnswer struct {
	Status int
	Body   []byte
}

// maxProbeBody bounds what a probe reads; health answers are tiny.
const maxProbeBody = 1 << 20

// httpGet makes one GET over a connection from dial. user, when not empty,
// is sent as HTTP basic auth.
func httpGet(ctx context.Context, dial dialFunc, url, user, pass string, timeout time.Duration) (httpAnswer, error) {
	// A fresh transport per probe: the connections come from an SSH
	// connection and must not outlive the probe in an idle pool.
	tr := &http.Transport{DialContext: dial, DisableKeepAlives: true, Proxy: nil}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: timeout}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return httpAnswer{}, err
	}
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	resp, err := client.Do(req)
	if err != nil {
		return httpAnswer{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxProbeBody))
	if err != nil {
		return httpAnswer{Status: resp.StatusCode}, fmt.Errorf("GET %s: reading the answer: %w", url, err)
	}
	return httpAnswer{Status: resp.StatusCode, Body: body}, nil
}

// omsHealthy says whether an /oms/health answer reports healthy
// ({"data":{"healthy":true}}).
func omsHealthy(a httpAnswer) bool {
	if a.Status != http.StatusOK {
		return false
	}
	var v struct {
		Data struct {
			Healthy bool `json:"healthy"`
		} `json:"data"`
	}
	return json.Unmarshal(a.Body, &v) == nil && v.Data.Healthy
}

// omsHealth probes http://addr/oms/health once and explains a "no".
func omsHealth(ctx context.Context, dial dialFunc, addr string) error {
	url := "http://" + addr + "/oms/health"
	a, err := httpGet(ctx, dial, url, "", "", 5*time.Second)
	if err != nil {
		return err
	}
	if !omsHealthy(a) {
		return fmt.Errorf("GET %s: %d %s", url, a.Status, tailLines(string(a.Body), 3))
	}
	return nil
}
