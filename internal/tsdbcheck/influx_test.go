package tsdbcheck

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/omsrun/omsrun/internal/secret"
)

// fakeInflux answers /query like InfluxDB 1.x; authOn false accepts anyone.
func fakeInflux(authOn bool) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, p, _ := r.BasicAuth()
		if r.URL.Path != "/query" || r.URL.Query().Get("q") != "SHOW DATABASES" {
			http.NotFound(w, r)
			return
		}
		if authOn && (u != "oms" || p != "s3cret") {
			w.WriteHeader(http.StatusUnauthorized)
			w.Write([]byte(`{"error":"authorization failed"}`))
			return
		}
		w.Write([]byte(`{"results":[{"statement_id":0}]}`))
	}))
}

func TestCheckInflux(t *testing.T) {
	on, off := fakeInflux(true), fakeInflux(false)
	defer on.Close()
	defer off.Close()
	notInflux := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("<html>")) }))
	defer notInflux.Close()
	tests := []struct {
		name, url, user, pass string
		is                    error
		contains              string
	}{
		{name: "right", url: on.URL, user: "oms", pass: "s3cret"},
		{name: "right without scheme", url: strings.TrimPrefix(on.URL, "http://"), user: "oms", pass: "s3cret"},
		{name: "wrong password", url: on.URL, user: "oms", pass: "nope", is: ErrUnauthorized},
		{name: "auth off", url: off.URL, user: "oms", pass: "s3cret", is: ErrAuthDisabled},
		{name: "not influx", url: notInflux.URL, user: "oms", pass: "x", contains: "does not answer like InfluxDB"},
		{name: "unreachable", url: "127.0.0.1:1", user: "oms", pass: "x", contains: "cannot reach"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckInflux(context.Background(), nil, tt.url, tt.user, secret.String(tt.pass))
			switch {
			case tt.is != nil:
				if !errors.Is(err, tt.is) {
					t.Fatalf("err = %v, want %v", err, tt.is)
				}
			case tt.contains != "":
				if err == nil || !strings.Contains(err.Error(), tt.contains) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.contains)
				}
			case err != nil:
				t.Fatalf("err = %v", err)
			}
			if err != nil && strings.Contains(err.Error(), tt.pass) && len(tt.pass) > 1 {
				t.Fatalf("error %q shows the password", err)
			}
		})
	}
}
