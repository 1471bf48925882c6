package modules_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/omsrun/omsrun/modules"
	"github.com/omsrun/omsrun/modules/modtest"
)

func TestWaitForHTTPThroughHostDial(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Down for the first two probes, then up.
		if calls.Add(1) <= 2 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte(`{"data":{"healthy":true}}`))
	}))
	defer srv.Close()
	h := &modtest.Host{Targets: map[string]string{"10.0.0.11:8089": srv.Listener.Addr().String()}}
	env, rep := modtest.NewEnv(h)
	args := &modules.WaitForArgs{URL: "http://10.0.0.11:8089/oms/health", Body: `"healthy":true`, Interval: "10ms", Timeout: "5s"}
	if err := (&modules.WaitFor{}).Validate(args); err != nil {
		t.Fatal(err)
	}
	plan, res, err := modtest.RunBoth(t, &modules.WaitFor{}, env, args)
	if err != nil {
		t.Fatal(err)
	}
	if !plan.Unknown || res.Changed || !strings.Contains(res.Msg, "answered") {
		t.Fatalf("plan %+v result %+v", plan, res)
	}
	if len(h.Dials) < 3 || h.Dials[0] != "10.0.0.11:8089" {
		t.Errorf("dials %v: the probe must go through the host", h.Dials)
	}
	if len(rep.Phases) == 0 {
		t.Error("no progress while waiting")
	}
	// Now up: Check alone says ok.
	plan, err = (&modules.WaitFor{}).Check(context.Background(), env, args)
	if err != nil || plan.Change || plan.Unknown {
		t.Fatalf("plan %+v err %v", plan, err)
	}
}

func TestWaitForTCPTimeoutNamesTarget(t *testing.T) {
	h := &modtest.Host{}
	env, _ := modtest.NewEnv(h)
	_, _, err := modtest.RunBoth(t, &modules.WaitFor{}, env, &modules.WaitForArgs{Port: 8088, Timeout: "50ms", Interval: "10ms"})
	if err == nil || !strings.Contains(err.Error(), "10.0.0.11:8088 did not answer within 50ms") {
		t.Fatalf("err %v", err)
	}
}

func TestWaitForControllerVia(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	h := &modtest.Host{}
	env, _ := modtest.NewEnv(h)
	var a modules.WaitForArgs
	a.Host, a.Via = "127.0.0.1", "controller"
	for _, c := range port {
		a.Port = a.Port*10 + int(c-'0')
	}
	plan, err := (&modules.WaitFor{}).Check(context.Background(), env, &a)
	if err != nil || plan.Unknown || len(h.Dials) != 0 {
		t.Fatalf("plan %+v err %v dials %v", plan, err, h.Dials)
	}
}

func TestWaitForValidate(t *testing.T) {
	for name, a := range map[string]modules.WaitForArgs{
		"nothing":  {},
		"both":     {Port: 1, URL: "http://x"},
		"scheme":   {URL: "x:80"},
		"duration": {Port: 1, Timeout: "soon"},
		"via":      {Port: 1, Via: "moon"},
	} {
		if err := (&modules.WaitFor{}).Validate(&a); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
