package oms

import (
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/omsrun/omsrun/internal/transport/transporttest"
	"github.com/omsrun/omsrun/modules"
	"github.com/omsrun/omsrun/modules/modtest"
)

func TestSupervisorRestart(t *testing.T) {
	srv := dkHealthServer(t, true)
	const (
		starting = "oms_console          STARTING\noms_drc_supervisor   RUNNING   pid 12, uptime 0:00:01\n"
		running  = "nginx                RUNNING   pid 9, uptime 1:00:00\noms_console          RUNNING   pid 11, uptime 0:00:02\noms_drc_cm           RUNNING   pid 10, uptime 1:00:00\noms_drc_supervisor   RUNNING   pid 12, uptime 0:00:02\n"
	)
	h := (&modtest.Host{Targets: map[string]string{"10.0.0.11:8089": srv.Listener.Addr().String(), "10.0.0.11:8088": srv.Listener.Addr().String()}}).
		On("docker inspect", 0, "true\n", "").
		On("sha256sum <", 0, "abc123\n", "").
		On("loaded-sha256", 0, "", "").
		On("oms_init_manager --init-config-file", 0, "", "").
		On("supervisorctl restart", 0, "oms_console: stopped\noms_console: started\n", "").
		Once("supervisorctl status", 3, starting, "").
		On("supervisorctl status", 0, running, "")
	env, _ := modtest.NewEnv(h)
	args := &SupervisorRestartArgs{}
	if err := (&SupervisorRestart{}).Validate(args); err != nil {
		t.Fatal(err)
	}
	plan, res, err := modtest.RunBoth(t, &SupervisorRestart{}, env, args)
	if err != nil {
		t.Fatal(err)
	}
	if !plan.Unknown || plan.Summary != "restart oms_console, oms_drc_supervisor in oms" {
		t.Errorf("plan %+v", plan)
	}
	cmds := h.Commands()
	want := []string{
		"docker inspect --format '{{.State.Running}}' oms",
		"[ -f /data/oms/config.yaml ] && sha256sum < /data/oms/config.yaml | cut -d' ' -f1 || true",
		"docker exec oms python -m omsflow.scripts.units.oms_init_manager --init-config-file",
		"docker exec oms supervisorctl restart oms_console oms_drc_supervisor",
		"docker exec oms supervisorctl status",
		"docker exec oms supervisorctl status",
		// Healthy on it: the hash read before the reload is recorded as loaded.
		"umask 077; printf '%s\\n' abc123 > /data/oms/config.yaml.loaded-sha256.tmp && mv -f /data/oms/config.yaml.loaded-sha256.tmp /data/oms/config.yaml.loaded-sha256",
	}
	if strings.Join(cmds, "\n") != strings.Join(want, "\n") {
		t.Errorf("commands:\n%s\nwant:\n%s", strings.Join(cmds, "\n"), strings.Join(want, "\n"))
	}
	if !res.Changed || !slices.Contains(h.Dials, "10.0.0.11:8088") || !slices.Contains(h.Dials, "10.0.0.11:8089") {
		t.Errorf("result %+v, dials %v", res, h.Dials)
	}
}

func TestSupervisorRestartTimeout(t *testing.T) {
	h := (&modtest.Host{}).
		On("supervisorctl restart", 0, "", "").
		On("supervisorctl status", 3, "oms_console FATAL Exited too quickly\n", "").
		On("docker_init", 0, diagSep+"\nconsole crashed\n", "")
	env, _ := modtest.NewEnv(h)
	f := false
	_, err := (&SupervisorRestart{}).Apply(context.Background(), env, &SupervisorRestartArgs{InitConfig: &f, Programs: []string{"oms_console"}, Timeout: "0.2"}, &modules.Plan{})
	if err == nil {
		t.Fatal("want an error")
	}
	for _, want := range []string{"not RUNNING: oms_console FATAL", "Exited too quickly", "console crashed"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%s", want, err)
		}
	}
	if h.Ran("oms_init_manager") {
		t.Error("init_config = false still ran the init")
	}
}

// A node that does not come up on the new config.yaml gets the previous one
// back and is reloaded on it; the error shows the init log's reason.
func TestSupervisorRestartRestoresThePreviousConfig(t *testing.T) {
	srv := dkHealthServer(t, true)
	running := "oms_console RUNNING pid 11\noms_drc_cm RUNNING pid 10\noms_drc_supervisor RUNNING pid 12\n"
	h := (&modtest.Host{Targets: map[string]string{"10.0.0.11:8089": srv.Listener.Addr().String(), "10.0.0.11:8088": srv.Listener.Addr().String()}}).
		On("last good config.yaml", 0, "/data/oms/config.yaml.20261206.bak", "").
		On("sha256sum <", 0, "abc\n", "").
		On("loaded-sha256", 0, "", "").
		Once("supervisorctl restart", 1, "oms_console: ERROR (spawn error)\n", "").
		On("supervisorctl restart", 0, "", "").
		On("docker_init", 0, "docker_init.log\nERROR 1045 (28000): Access denied for user 'oms_meta_user'\n"+diagSep+"\n", "").
		On("config.yaml.20261206.bak", 0, "", "").
		On("supervisorctl status", 0, running, "")
	env, _ := modtest.NewEnv(h)
	f := false
	_, err := (&SupervisorRestart{}).Apply(context.Background(), env, &SupervisorRestartArgs{InitConfig: &f, RestoreFrom: "/data/oms/config.yaml.20261206.bak"}, &modules.Plan{})
	if err == nil {
		t.Fatal("a node that failed on the new config must fail the step")
	}
	for _, want := range []string{"spawn error", "Access denied", "put back", "healthy on it again"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	if !h.Ran("cat '/data/oms/config.yaml.20261206.bak' > '/data/oms/config.yaml'") && !h.Ran("cat /data/oms/config.yaml.20261206.bak > /data/oms/config.yaml") {
		t.Errorf("the previous config.yaml was not put back:\n%s", strings.Join(h.Commands(), "\n"))
	}
}

// Which config.yaml goes back is read on the node: the one OMS last came up
// healthy on (the loaded record), whether or not this run wrote a backup.
// A re-run after a reload interrupted on a broken config has none of its
// own; a change written over a never-loaded file backed up a broken one.
func TestSupervisorRestartRestoresWhatTheNodeLastRan(t *testing.T) {
	const good, broken, never = "cm_location: 1\n", "cm_location: 2\n", "cm_location: 3\n"
	sum := func(s string) string { return fmt.Sprintf("%x", sha256.Sum256([]byte(s))) }
	for _, tc := range []struct {
		name        string
		record      string // the loaded record ("" none)
		restoreFrom string // file name under the folder, "" none
		want        string // config.yaml afterwards
		putBack     bool
	}{
		{"re-run, no backup of its own", sum(good), "", good, true},
		{"this run backed up a never-loaded file", sum(good), "config.yaml.20261206120000.bak", good, true},
		{"no record, no backup named", "", "", broken, false},
		{"no record: this run's backup, as before", "", "config.yaml.20261206120000.bak", never, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			cfg := filepath.Join(dir, "config.yaml")
			files := map[string]string{
				"config.yaml":                    broken,
				"config.yaml.20261206100000.bak": "cm_location: 0\n",
				"config.yaml.20261206110000.bak": good,
				"config.yaml.20261206120000.bak": never, // newest, never loaded
			}
			if tc.record != "" {
				files["config.yaml.loaded-sha256"] = tc.record + "\n"
			}
			for name, body := range files {
				if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			srv := dkHealthServer(t, true)
			running := "oms_console RUNNING pid 11\noms_drc_cm RUNNING pid 10\noms_drc_supervisor RUNNING pid 12\n"
			// docker is scripted; the files are real (the fallback runs the scripts).
			h := (&modtest.Host{Targets: map[string]string{"10.0.0.11:8089": srv.Listener.Addr().String(), "10.0.0.11:8088": srv.Listener.Addr().String()},
				Fallback: transporttest.NewLocal(t)}).
				Once("supervisorctl restart", 1, "oms_console: ERROR (spawn error)\n", "").
				On("supervisorctl restart", 0, "", "").
				On("docker_init", 0, "docker_init.log\nERROR 1045 (28000): Access denied\n"+diagSep+"\n", "").
				On("docker logs", 0, "", "").
				On("supervisorctl status", 0, running, "")
			env, _ := modtest.NewEnv(h)
			env.Address = "10.0.0.11"
			f := false
			from := ""
			if tc.restoreFrom != "" {
				from = filepath.Join(dir, tc.restoreFrom)
			}
			_, err := (&SupervisorRestart{}).Apply(context.Background(), env, &SupervisorRestartArgs{InitConfig: &f, ConfigPath: cfg, RestoreFrom: from}, &modules.Plan{})
			if err == nil || !strings.Contains(err.Error(), "spawn error") {
				t.Fatalf("the step must fail with the reason: %v", err)
			}
			if got := strings.Contains(err.Error(), "put back"); got != tc.putBack {
				t.Errorf("put back %v, want %v: %v", got, tc.putBack, err)
			}
			if b, _ := os.ReadFile(cfg); string(b) != tc.want {
				t.Errorf("config.yaml %q, want %q\n%s", b, tc.want, strings.Join(h.Commands(), "\n"))
			}
			if tc.putBack {
				// Healthy on it again: recorded as loaded, so the next run has nothing to reload.
				if b, _ := os.ReadFile(cfg + ".loaded-sha256"); strings.TrimSpace(string(b)) != sum(tc.want) {
					t.Errorf("loaded record %q, want the restored file's", b)
				}
			}
		})
	}
}
