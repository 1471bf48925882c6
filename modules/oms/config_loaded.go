package oms

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/zclconf/go-cty/cty"

	"github.com/omsrun/omsrun/internal/docker"
	"github.com/omsrun/omsrun/internal/remotefile"
	"github.com/omsrun/omsrun/internal/transport"
	"github.com/omsrun/omsrun/modules"
)

// ConfigLoaded reads whether a node's OMS runs the config.yaml on its disk.
// Writing config.yaml and reloading OMS are two steps, and a run can stop
// between them (Ctrl-C, a failed node, a lost connection); whether a node
// still needs its reload must then be read from the node, not remembered
// from a run that is gone. So container_run and supervisor_restart record the
// sha256 of the config.yaml they (re)loaded beside it, after OMS came up
// healthy, and this module compares that record with the file. Read-only.
type ConfigLoaded struct{}

var _ modules.Module = (*ConfigLoaded)(nil)
var _ modules.ReadOnly = (*ConfigLoaded)(nil)
var _ modules.Validator = (*ConfigLoaded)(nil)

// ConfigLoadedArgs are config_loaded's arguments.
type ConfigLoadedArgs struct {
	Container  string `hcl:"container,optional"`
	ConfigPath string `hcl:"config_path,optional"`
	// Require makes a stale node unhealthy (status.hcl); deploy and
	// reconfigure read the same thing to decide a reload, which is not a fault.
	Require bool `hcl:"require,optional"`
}

// Doc implements modules.Module.
func (*ConfigLoaded) Doc() modules.Doc {
	return modules.Doc{Name: "config_loaded",
		Summary: "Read-only: whether the running OMS loaded the config.yaml now on disk (`stale` when it needs a reload).",
		Args: map[string]string{
			"container":   "container name (default `oms`)",
			"config_path": "config.yaml on the host (default /data/oms/config.yaml)",
			"require":     "a node whose OMS has not loaded its config.yaml is unhealthy (exit 6; status.hcl)",
		}}
}

// NewArgs implements modules.Module.
func (*ConfigLoaded) NewArgs() any { return &ConfigLoadedArgs{} }

// Validate refuses a name docker would not accept and a relative path.
func (*ConfigLoaded) Validate(a any) error {
	args := a.(*ConfigLoadedArgs)
	if args.ConfigPath != "" && !strings.HasPrefix(args.ConfigPath, "/") {
		return fmt.Errorf("config_path must be an absolute path (%q)", args.ConfigPath)
	}
	return docker.CheckContainerName("container", args.Container)
}

// ReadOnly implements modules.ReadOnly.
func (*ConfigLoaded) ReadOnly() bool { return true }

// loadedRecord is where a node keeps the sha256 of the config.yaml its OMS
// last loaded: beside the file, so it goes with it (a purge removes both).
func loadedRecord(configPath string) string { return configPath + ".loaded-sha256" }

// LoadedState is what config_loaded read on a node.
type LoadedState struct {
	Running bool
	// Current is the sha256 of config.yaml now ("" when absent); Loaded is
	// the recorded sha256 of the one OMS last loaded ("" when never recorded).
	Current, Loaded string
	// Inferred is true when there was no record and Loaded was inferred
	// from the container having started after config.yaml was written.
	Inferred bool
}

// Stale is true when a running OMS has not loaded the config.yaml on disk.
func (s LoadedState) Stale() bool {
	return s.Running && s.Current != "" && s.Current != s.Loaded
}

// readLoaded reads the container's state and both hashes in one command.
func readLoaded(ctx context.Context, env *modules.Env, container, configPath string) (LoadedState, error) {
	// inspectScript: a daemon that does not answer must not read as a
	// stopped container, which has nothing loaded to be stale.
	script := fmt.Sprintf("printf 'running=%%s\\n' \"$(%[1]s)\"; "+
		"printf 'current=%%s\\n' \"$([ -f %[2]s ] && sha256sum < %[2]s | cut -d' ' -f1)\"; "+
		"printf 'mtime=%%s\\n' \"$(stat -c %%y %[2]s 2>/dev/null)\"; "+
		"printf 'loaded=%%s\\n' \"$(cat %[3]s 2>/dev/null)\"",
		inspectScript("{{.State.Running}} {{.State.StartedAt}}", container), transport.Quote(configPath), transport.Quote(loadedRecord(configPath)))
	res, err := env.Try(ctx, transport.Cmd{Script: script})
	if err != nil {
		return LoadedState{}, err
	}
	kv := map[string]string{}
	for _, line := range strings.Split(string(res.Stdout), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			kv[k] = strings.TrimSpace(v)
		}
	}
	if err := inspectFailure(container, kv["running"]); err != nil {
		return LoadedState{}, err
	}
	running, started, _ := strings.Cut(kv["running"], " ")
	st := LoadedState{Running: running == "true", Current: kv["current"], Loaded: kv["loaded"]}
	if st.Running && st.Loaded == "" && st.Current != "" {
		// No record: a node deployed before omsrun kept one. A container
		// started after config.yaml was last written has loaded it; one
		// written later has not (an interrupted reconfigure).
		// Both to the nanosecond: a deploy writes config.yaml and starts
		// the container within the same second.
		t, terr := time.Parse(time.RFC3339Nano, started)
		mtime, merr := time.Parse("2006-01-02 15:04:05.999999999 -0700", kv["mtime"])
		if terr == nil && merr == nil && mtime.Before(t) {
			st.Loaded, st.Inferred = st.Current, true
		}
	}
	return st, nil
}

// configHash is the sha256 of the file now, "" when it is absent; read right
// before a (re)load so the record names exactly what was loaded.
func configHash(ctx context.Context, env *modules.Env, configPath string) (string, error) {
	res, err := env.Try(ctx, transport.Cmd{Script: fmt.Sprintf("[ -f %[1]s ] && sha256sum < %[1]s | cut -d' ' -f1 || true", transport.Quote(configPath))})
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(res.Stdout)), nil
}

// recordLoaded writes the record after OMS came up healthy on that config;
// written to a temporary file and renamed, so it is never half there.
func recordLoaded(ctx context.Context, env *modules.Env, configPath, hash string) error {
	if hash == "" {
		return nil
	}
	rec := loadedRecord(configPath)
	_, err := env.Run(ctx, transport.Cmd{Script: fmt.Sprintf("umask 077; printf '%%s\\n' %s > %s && mv -f %s %s",
		transport.Quote(hash), transport.Quote(rec+".tmp"), transport.Quote(rec+".tmp"), transport.Quote(rec))})
	if err != nil {
		return fmt.Errorf("recording the loaded config: %w", err)
	}
	return nil
}

// Check implements modules.Module: all of it is a read.
func (*ConfigLoaded) Check(ctx context.Context, env *modules.Env, a any) (*modules.Plan, error) {
	args := a.(*ConfigLoadedArgs)
	if args.Container == "" {
		args.Container = "oms"
	}
	if args.ConfigPath == "" {
		args.ConfigPath = defaultMountDir + "/config.yaml"
	}
	st, err := readLoaded(ctx, env, args.Container, args.ConfigPath)
	var unreadable *inspectError
	if args.Require && errors.As(err, &unreadable) {
		// status.hcl: a finding like any other, not the end of the report.
		return &modules.Plan{Summary: err.Error(), Unhealthy: "could not read container " + unreadable.name + ": " + unreadable.msg,
			Outputs: map[string]cty.Value{"running": cty.False, "current": cty.StringVal(""), "loaded": cty.StringVal(""), "stale": cty.False}}, nil
	}
	if err != nil {
		return nil, err
	}
	summary := "OMS runs the config.yaml on disk"
	switch {
	case !st.Running:
		summary = "container not running: nothing loaded"
	case st.Current == "":
		summary = "no config.yaml"
	case st.Loaded == "":
		summary = "config.yaml " + short(st.Current) + " never recorded as loaded: needs a reload"
	case st.Stale():
		summary = "OMS runs config " + short(st.Loaded) + ", config.yaml is " + short(st.Current) + ": needs a reload"
	}
	unhealthy := ""
	if args.Require && st.Stale() {
		unhealthy = "runs another config than its config.yaml (needs a reload)"
	}
	return &modules.Plan{Summary: summary, Unhealthy: unhealthy, Outputs: map[string]cty.Value{
		"running": cty.BoolVal(st.Running),
		"current": cty.StringVal(st.Current),
		"loaded":  cty.StringVal(st.Loaded),
		"stale":   cty.BoolVal(st.Stale()),
	}}, nil
}

// Apply implements modules.Module: nothing to change.
func (*ConfigLoaded) Apply(_ context.Context, _ *modules.Env, _ any, plan *modules.Plan) (*modules.Result, error) {
	return &modules.Result{Msg: plan.Summary, Outputs: plan.Outputs}, nil
}

func short(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}

// restoreConfig puts the previous config.yaml back in place: written into
// the existing file (not renamed over it), since config.yaml is bind-mounted
// into the container by its inode.
func restoreConfig(ctx context.Context, env *modules.Env, from, to string) error {
	_, err := env.Run(ctx, transport.Cmd{Script: fmt.Sprintf("[ -f %[1]s ] && cat %[1]s > %[2]s", transport.Quote(from), transport.Quote(to))})
	return err
}

// lastGoodConfig finds, on the node, the config.yaml to go back to when OMS
// does not come up on the one on disk: the one OMS last came up healthy on,
// named by the loaded record. preferred (the backup this run's write made)
// is taken when it is that one; otherwise the newest backup that is. A run
// that stopped between writing config.yaml and its reload left no backup
// name for the re-run, and a change written over a never-loaded one made a
// backup of a file that never worked: the record is what says which is good.
// "" when there is nothing to go back to: no record (a node deployed before
// omsrun kept one: then preferred, as it always was), no backup matching it,
// or config.yaml is already the good one.
func lastGoodConfig(ctx context.Context, env *modules.Env, configPath, preferred string) (string, error) {
	script := fmt.Sprintf(`# omsrun: last good config.yaml
p=%s; pref=%s
sha() { sha256sum < "$1" | cut -d' ' -f1; }
want=$(cat %s 2>/dev/null)
if [ -z "$want" ]; then printf '%%s' "$pref"; exit 0; fi
[ -f "$p" ] && [ "$(sha "$p")" = "$want" ] && exit 0
if [ -n "$pref" ] && [ -f "$pref" ] && [ "$(sha "$pref")" = "$want" ]; then printf '%%s' "$pref"; exit 0; fi
found=
for f in %s; do [ -f "$f" ] && [ "$(sha "$f")" = "$want" ] && found=$f; done
printf '%%s' "$found"`, transport.Quote(configPath), transport.Quote(preferred), transport.Quote(loadedRecord(configPath)), remotefile.BackupGlob)
	res, err := env.Run(ctx, transport.Cmd{Script: script})
	if err != nil {
		return "", fmt.Errorf("looking for the config.yaml OMS last ran on: %w", err)
	}
	return strings.TrimSpace(string(res.Stdout)), nil
}
