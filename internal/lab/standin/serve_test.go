package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestHealthOnNginxOnly: /oms/health answers on the nginx port; CM is a
// separate service that 404s it, as no source shows it on CM.
func TestHealthOnNginxOnly(t *testing.T) {
	cfg := config{"cm_url": "http://10.0.0.100:8088", "cm_nodes": []any{"10.0.0.11"}}
	s := &supervisor{version: "4.2.5"}
	for _, tc := range []struct {
		name string
		h    http.Handler
		path string
		want int
	}{
		{"nginx health", s.nginxHandler(cfg), "/oms/health", 200},
		{"nginx config", s.nginxHandler(cfg), "/oms/config", 200},
		{"cm health", cmHandler(cfg), "/oms/health", 404},
		{"cm unknown", cmHandler(cfg), "/", 404},
		{"cm own api", cmHandler(cfg), "/api/cm/nodes", 200},
		{"ghana", notFoundOnly("ghana"), "/oms/health", 404},
	} {
		rec := httptest.NewRecorder()
		tc.h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, tc.path, nil))
		if rec.Code != tc.want {
			t.Errorf("%s: GET %s = %d, want %d", tc.name, tc.path, rec.Code, tc.want)
		}
	}
}

func TestPortsFromConfig(t *testing.T) {
	cfg := config{"nginx_server_port": "18089", "cm_server_port": 18088}
	for key, want := range map[string]int{"nginx_server_port": 18089, "cm_server_port": 18088, "ghana_server_port": 8090, "supervisor_server_port": 9000, "sshd_server_port": 2023} {
		if got := cfg.port(key); got != want {
			t.Errorf("%s = %d, want %d", key, got, want)
		}
	}
}

func TestReadDelay(t *testing.T) {
	f := filepath.Join(t.TempDir(), "delay")
	if got := readDelay(f); got != defaultDelay {
		t.Errorf("no file: %s", got)
	}
	os.WriteFile(f, []byte("40s\n"), 0o644)
	if got := readDelay(f); got != 40*time.Second {
		t.Errorf("40s: %s", got)
	}
	os.WriteFile(f, []byte("soon"), 0o644)
	if got := readDelay(f); got != defaultDelay {
		t.Errorf("garbage: %s", got)
	}
}
