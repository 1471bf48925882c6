package main

import (
	"crypto/tls"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"
	"time"
)

// The five ports of the real container, all on the host network: obd's
// parameter names and defaults (docs/oms-facts.md C3). config.yaml may set
// each; the stand-in listens where it says.
var portKeys = []struct {
	key  string
	port int
}{
	{"nginx_server_port", 8089},
	{"cm_server_port", 8088},
	{"ghana_server_port", 8090},
	{"supervisor_server_port", 9000},
	{"sshd_server_port", 2023},
}

// port is the configured port of one of portKeys.
func (c config) port(key string) int {
	if n, ok := c.integer(key); ok && n > 0 && n < 65536 {
		return n
	}
	for _, k := range portKeys {
		if k.key == key {
			return k.port
		}
	}
	return 0
}

// Where the real image's nginx reads the console's certificate and key.
const (
	certFile = "/etc/pki/nginx/oms_server.crt"
	keyFile  = "/etc/pki/nginx/oms_server.key"
)

// listen opens all five ports, closing what it opened when one fails.
func (s *supervisor) listen(cfg config) ([]func(), error) {
	var closers []func()
	fail := func(err error) ([]func(), error) {
		for _, c := range closers {
			c()
		}
		return nil, err
	}
	open := func(key string) (net.Listener, error) {
		port := cfg.port(key)
		ln, err := net.Listen("tcp", ":"+strconv.Itoa(port))
		if err != nil {
			return nil, fmt.Errorf("listen on %d (%s): %w", port, key, err)
		}
		return ln, nil
	}
	serve := func(ln net.Listener, h http.Handler, tlsConf *tls.Config) {
		srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second, TLSConfig: tlsConf}
		closers = append(closers, closeServer(srv))
		if tlsConf != nil {
			ln = tls.NewListener(ln, tlsConf)
		}
		go srv.Serve(ln)
	}
	// nginx: only HTTPS once a certificate is mounted, so a probe that
	// knows only http:// fails as it might on the real console.
	var tlsConf *tls.Config
	if httpsMounted() {
		root := os.Getenv("OMS_STANDIN_ROOT")
		pair, err := tls.LoadX509KeyPair(root+certFile, root+keyFile)
		if err != nil {
			return fail(fmt.Errorf("nginx: load the mounted certificate: %w", err))
		}
		tlsConf = &tls.Config{Certificates: []tls.Certificate{pair}}
	}
	handlers := map[string]http.Handler{
		"nginx_server_port":      s.nginxHandler(cfg),
		"cm_server_port":         cmHandler(cfg),
		"ghana_server_port":      notFoundOnly("ghana"),
		"supervisor_server_port": notFoundOnly("oms_drc_supervisor"),
	}
	for _, k := range portKeys {
		ln, err := open(k.key)
		if err != nil {
			return fail(err)
		}
		if k.key == "sshd_server_port" {
			closers = append(closers, func() { ln.Close() })
			go serveBanner(ln)
			continue
		}
		conf := tlsConf
		if k.key != "nginx_server_port" {
			conf = nil
		}
		serve(ln, handlers[k.key], conf)
	}
	return closers, nil
}

// nginxHandler is the console behind nginx: the one health endpoint obd
// probes (docs/oms-facts.md H3), and config.yaml as loaded.
func (s *supervisor) nginxHandler(cfg config) http.Handler {
	version, port := s.version, cfg.port("nginx_server_port")
	mux := http.NewServeMux()
	mux.HandleFunc("GET /oms/health", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"success": true, "data": map[string]any{
			"healthy": true, "version": version, "host_ip": os.Getenv("OMS_HOST_IP"), "port": port,
			"is_upgrade": os.Getenv("IS_UPGRADE") == "true", "https": r.TLS != nil,
		}})
	})
	mux.HandleFunc("GET /oms/config", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, cfg)
	})
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "OMS stand-in console %s on port %d\n", version, port)
	})
	return mux
}

// cmHandler is CM on its own port: a separate service with its own
// answers. It has no /oms/health (no source shows one on CM), so anything
// outside its own API is a 404, as a real CM's unknown paths are.
func cmHandler(cfg config) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/cm/nodes", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"success": true, "data": map[string]any{
			"cm_url": cfg.str("cm_url"), "cm_location": cfg.str("cm_location"), "cm_nodes": cfg["cm_nodes"],
			"host_ip": os.Getenv("OMS_HOST_IP"),
		}})
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusNotFound, map[string]any{"success": false, "errorCode": "CM_NOT_FOUND", "path": r.URL.Path})
	})
	return mux
}

// notFoundOnly answers every request with a 404 naming the service, enough
// to show the port is held by it.
func notFoundOnly(service string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, service+": no such path "+r.URL.Path, http.StatusNotFound)
	})
}

// serveBanner stands in for the container's sshd: it greets and hangs up.
func serveBanner(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		fmt.Fprintf(c, "SSH-2.0-OpenSSH_stand-in\r\n")
		c.Close()
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// httpsMounted reports whether the SSL certificate and key of the seed's
// HTTPS option are mounted where the real image's nginx reads them.
func httpsMounted() bool {
	root := os.Getenv("OMS_STANDIN_ROOT")
	for _, f := range []string{certFile, keyFile} {
		if st, err := os.Stat(root + f); err != nil || st.Size() == 0 {
			return false
		}
	}
	return true
}
