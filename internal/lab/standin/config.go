package main

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// config is config.yaml as loaded; /oms/config returns it verbatim.
type config map[string]any

var identRE = regexp.MustCompile(`^[A-Za-z0-9_$]+$`)

// loadConfig reads and validates config.yaml, returning every problem at
// once, as the real init does in its docker_init log.
func loadConfig(file string) (config, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	var cfg config
	if err := yaml.Unmarshal(data, &cfg); err != nil {
		return nil, fmt.Errorf("parse %s: %w", file, err)
	}
	if cfg == nil {
		return nil, fmt.Errorf("%s is empty", file)
	}
	return cfg, cfg.validate()
}

func (c config) validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("invalid %s: "+format, append([]any{key}, args...)...))
	}
	for _, k := range []string{"oms_meta_host", "oms_meta_user", "oms_meta_password"} {
		if c.str(k) == "" {
			bad(k, "required key is missing or empty")
		}
	}
	if port, ok := c.integer("oms_meta_port"); !ok || port < 1 || port > 65535 {
		bad("oms_meta_port", "want a port number, got %q", c.str("oms_meta_port"))
	}
	for _, k := range []string{"drc_rm_db", "drc_cm_db", "drc_cm_heartbeat_db"} {
		if v := c.str(k); !identRE.MatchString(v) {
			bad(k, "want a database name, got %q", v)
		}
	}
	if u, err := url.Parse(c.str("cm_url")); c.str("cm_url") == "" {
		bad("cm_url", "required key is missing or empty")
	} else if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" {
		bad("cm_url", "want http://HOST:PORT, got %q", c.str("cm_url"))
	}
	if loc, ok := c.integer("cm_location"); !ok || loc < 0 || loc > 127 {
		bad("cm_location", "want an integer in [0,127], got %q", c.str("cm_location"))
	}
	if nodes, ok := c.list("cm_nodes"); !ok || len(nodes) == 0 {
		bad("cm_nodes", "want a list of node addresses")
	} else if slices.Contains(nodes, "") {
		bad("cm_nodes", "empty address in %q", nodes)
	}
	for _, k := range []string{"cm_is_default", "tsdb_enabled"} {
		if _, present := c[k]; present {
			if _, ok := c[k].(bool); !ok {
				bad(k, "want true or false, got %q", c.str(k))
			}
		}
	}
	if svc := c.str("tsdb_service"); svc != "" && svc != "INFLUXDB" && svc != "CERESDB" {
		bad("tsdb_service", "want INFLUXDB or CERESDB, got %q", svc)
	}
	if on, _ := c["tsdb_enabled"].(bool); on {
		for _, k := range []string{"tsdb_url", "tsdb_username", "tsdb_password"} {
			if c.str(k) == "" {
				bad(k, "required when tsdb_enabled is true")
			}
		}
	}
	return errors.Join(errs...)
}

// checkHostIP refuses a node that is not among cm_nodes, which is what goes
// wrong when a scale-out forgets to re-render the existing nodes' config.
func checkHostIP(c config) error {
	ip := os.Getenv("OMS_HOST_IP")
	nodes, _ := c.list("cm_nodes")
	if ip == "" || slices.Contains(nodes, ip) {
		return nil
	}
	return fmt.Errorf("invalid cm_nodes: this node's OMS_HOST_IP %s is not listed in %q", ip, nodes)
}

func (c config) str(k string) string {
	v, ok := c[k]
	if !ok || v == nil {
		return ""
	}
	return strings.TrimSpace(fmt.Sprint(v))
}

func (c config) integer(k string) (int, bool) {
	switch v := c[k].(type) {
	case int:
		return v, true
	case string:
		n, err := strconv.Atoi(strings.TrimSpace(v))
		return n, err == nil
	}
	return 0, false
}

func (c config) list(k string) ([]string, bool) {
	items, ok := c[k].([]any)
	if !ok {
		return nil, false
	}
	out := make([]string, 0, len(items))
	for _, it := range items {
		if it == nil {
			out = append(out, "")
			continue
		}
		out = append(out, strings.TrimSpace(fmt.Sprint(it)))
	}
	return out, true
}

// databases are the three MetaDB databases OMS init creates.
func (c config) databases() []string {
	return []string{c.str("drc_rm_db"), c.str("drc_cm_db"), c.str("drc_cm_heartbeat_db")}
}
