package oms

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestDefaultWaitsAtProductScale pins the waits at the real product's
// scale: obd waits at least 900 s for a first start (docs/oms-facts.md H4),
// and the playbooks' default must not be shorter than the modules'.
func TestDefaultWaitsAtProductScale(t *testing.T) {
	for name, d := range map[string]time.Duration{"DefaultHealthTimeout": DefaultHealthTimeout, "DefaultRestartTimeout": DefaultRestartTimeout} {
		if d < 900*time.Second {
			t.Errorf("%s = %s, want at least 900s", name, d)
		}
	}
	src, err := os.ReadFile("../../playbooks/oms-variables.hcl")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`variable "health_timeout" \{[^}]*default\s*=\s*"([^"]+)"`).FindSubmatch(src)
	if m == nil {
		t.Fatal(`oms-variables.hcl has no health_timeout default`)
	}
	if d, err := time.ParseDuration(string(m[1])); err != nil || d < 900*time.Second {
		t.Errorf("health_timeout default %q, want at least 900s", m[1])
	}
}

func TestWaitPhase(t *testing.T) {
	got := waitPhase("health", time.Now().Add(-130*time.Second), 15*time.Minute)
	if got != "waiting for health 2m10s / 15m0s" {
		t.Errorf("got %q", got)
	}
}

// TestOMSHealthEitherScheme: a console serving only HTTPS (a certificate
// mounted, self-signed) and one serving only HTTP both pass.
func TestOMSHealthEitherScheme(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"data":{"healthy":true}}`))
	})
	var d net.Dialer
	for name, srv := range map[string]*httptest.Server{"https": httptest.NewTLSServer(h), "http": httptest.NewServer(h)} {
		if err := omsHealth(context.Background(), d.DialContext, srv.Listener.Addr().String()); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		srv.Close()
	}
}

// TestCMAnswers: any HTTP status is an answer (a real CM 404s unknown
// paths); a closed port is not.
func TestCMAnswers(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	var d net.Dialer
	if err := cmAnswers(context.Background(), d.DialContext, srv.Listener.Addr().String()); err != nil {
		t.Errorf("a 404 is an answer: %v", err)
	}
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	if err := cmAnswers(context.Background(), d.DialContext, addr); err == nil || !strings.Contains(err.Error(), "refused") {
		t.Errorf("closed port: %v", err)
	}
}
