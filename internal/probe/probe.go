// Package probe opens TCP connections and makes HTTP GETs for the modules'
// health checks and waits, from the controller or through a host's SSH
// connection (direct-tcpip), so a host needs no curl.
package probe

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// DialFunc opens a TCP connection; env.Host.Dial (from the host's side, over
// SSH direct-tcpip) and net.Dialer.DialContext (from the controller) both fit.
type DialFunc func(ctx context.Context, network, addr string) (net.Conn, error)

// Via picks where probes start: "host" (the default) reaches what the host
// reaches through hostDial, without needing curl or bash on it; "controller"
// dials directly.
func Via(hostDial DialFunc, via string) (DialFunc, error) {
	switch via {
	case "", "host":
		return Bounded(hostDial), nil
	case "controller":
		var d net.Dialer
		return d.DialContext, nil
	}
	return nil, fmt.Errorf("via: %q is neither \"host\" nor \"controller\"", via)
}

// Bounded makes dial return when ctx ends even if the underlying dial does
// not watch ctx (an SSH direct-tcpip open waits for the server's own connect,
// which can take minutes against a silent address).
func Bounded(dial DialFunc) DialFunc {
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

// TCP connects to addr and closes the connection at once.
func TCP(ctx context.Context, dial DialFunc, addr string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	c, err := dial(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	return c.Close()
}

// Answer is what an HTTP probe got back.
type Answer struct {
	Status int
	Body   []byte
}

// MaxBody bounds what a probe reads; health answers are tiny.
const MaxBody = 1 << 20

// HTTPGet makes one GET over a connection from dial. user, when not empty,
// is sent as HTTP basic auth.
func HTTPGet(ctx context.Context, dial DialFunc, url, user, pass string, timeout time.Duration) (Answer, error) {
	// A fresh transport per probe: the connections come from an SSH
	// connection and must not outlive the probe in an idle pool.
	tr := &http.Transport{DialContext: dial, DisableKeepAlives: true, Proxy: nil}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: timeout}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return Answer{}, err
	}
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	resp, err := client.Do(req)
	if err != nil {
		return Answer{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxBody))
	if err != nil {
		return Answer{Status: resp.StatusCode}, fmt.Errorf("GET %s: reading the answer: %w", url, err)
	}
	return Answer{Status: resp.StatusCode, Body: body}, nil
}
