package oms

import (
	"context"
	"os"
	"path/filepath"
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
