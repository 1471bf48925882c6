package oms

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/omsrun/omsrun/internal/transport/transporttest"
	"github.com/omsrun/omsrun/modules/modtest"
)

// The real scripts, run locally with a docker shim that says whether the
// container runs: the record follows each (re)load, a rewrite makes it stale.
func TestConfigLoadedFollowsTheFile(t *testing.T) {
	local := transporttest.NewLocal(t)
	bin := t.TempDir()
	running := filepath.Join(bin, "running")
	os.WriteFile(filepath.Join(bin, "docker"), []byte("#!/bin/sh\ncat "+running+"\n"), 0o755)
	local.Env = []string{"PATH=" + bin + ":" + os.Getenv("PATH")}
	env, _ := modtest.NewEnv(&modtest.Host{Fallback: local})
	env.Become = false
	cfg := filepath.Join(local.Dir, "config.yaml")
	ctx := context.Background()
	read := func() LoadedState {
		t.Helper()
		plan, err := (&ConfigLoaded{}).Check(ctx, env, &ConfigLoadedArgs{ConfigPath: cfg})
		if err != nil {
			t.Fatal(err)
		}
		return LoadedState{Running: plan.Outputs["running"].True(), Current: plan.Outputs["current"].AsString(),
			Loaded: plan.Outputs["loaded"].AsString()}
	}
	// A container started before the file was written: it has not loaded it.
	os.WriteFile(running, []byte("true 2020-01-02T03:04:05.123456789Z\n"), 0o644)
	os.WriteFile(cfg, []byte("cm_location: 100\n"), 0o600)
	if st := read(); !st.Stale() || st.Current == "" || st.Loaded != "" {
		t.Fatalf("never recorded: want stale, got %+v", st)
	}
	h, err := configHash(ctx, env, cfg)
	if err != nil || h == "" {
		t.Fatalf("hash %q %v", h, err)
	}
	if err := recordLoaded(ctx, env, cfg, h); err != nil {
		t.Fatal(err)
	}
	if st := read(); st.Stale() || st.Loaded != h {
		t.Fatalf("after the record: %+v", st)
	}
	os.WriteFile(cfg, []byte("cm_location: 101\n"), 0o600)
	if st := read(); !st.Stale() || st.Loaded != h || st.Current == h {
		t.Fatalf("after a rewrite: want stale, got %+v", st)
	}
	os.WriteFile(running, []byte("false\n"), 0o644)
	if st := read(); st.Stale() {
		t.Fatalf("a stopped container has nothing loaded to be stale: %+v", st)
	}
	// No record, and a container started after the file was written (a node
	// deployed before records were kept): it runs that file.
	os.Remove(loadedRecord(cfg))
	os.WriteFile(running, []byte("true "+time.Now().Add(time.Hour).UTC().Format(time.RFC3339Nano)+"\n"), 0o644)
	if st := read(); st.Stale() || st.Loaded != st.Current {
		t.Fatalf("started after the last write: want loaded, got %+v", st)
	}
}

// TestConfigLoadedDockerDown: with the daemon not answering, whether OMS
// loaded its config.yaml is unknown (with live-restore it may still run the
// old one), not "stopped, nothing to reload": deploy and reconfigure fail
// the node with docker's message; status.hcl (require) reports it unhealthy.
func TestConfigLoadedDockerDown(t *testing.T) {
	l, dir := fakeDocker(t, "daemon-down", false)
	env := modtest.LocalEnv(l, "10.0.0.11")
	cfg := filepath.Join(dir, "config.yaml")
	os.WriteFile(cfg, []byte("cm_location: 100\n"), 0o600)
	plan, err := (&ConfigLoaded{}).Check(context.Background(), env, &ConfigLoadedArgs{ConfigPath: cfg})
	if err == nil || !strings.Contains(err.Error(), "Cannot connect to the Docker daemon") || !strings.Contains(err.Error(), "re-run") {
		t.Fatalf("docker down: %v (%+v), want docker's message and what to do", err, plan)
	}
	plan, err = (&ConfigLoaded{}).Check(context.Background(), env, &ConfigLoadedArgs{ConfigPath: cfg, Require: true})
	if err != nil || !strings.Contains(plan.Unhealthy, "Cannot connect to the Docker daemon") {
		t.Fatalf("docker down in status: %v, unhealthy %q", err, plan.Unhealthy)
	}
}
