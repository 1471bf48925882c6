package oms

import (
	"strings"
	"testing"

	"github.com/omsrun/omsrun/modules/modtest"
)

// A running node whose replaced container does not come up on the new
// config.yaml gets the previous one back and is reloaded on it, as
// supervisor_restart does; the error shows the init log's reason.
func TestContainerRunRestoresThePreviousConfig(t *testing.T) {
	srv := dkHealthServer(t, true)
	addr := srv.Listener.Addr().String()
	oldBinds := omsBinds("/data/oms/config.yaml", "/data/old", "", "")
	check := dkImgNew + "\n" + runSep + "\n" + dkContainer(t, dkImgNew, "running", "10.0.0.11", oldBinds) + "\n" + runSep + "\nfile\n" + runSep + "\n"
	running := "oms_console RUNNING pid 11\noms_drc_cm RUNNING pid 10\noms_drc_supervisor RUNNING pid 12\n"
	h := (&modtest.Host{Targets: map[string]string{"10.0.0.11:8089": addr, "10.0.0.11:8088": addr}}).
		On("# omsrun: last good config.yaml", 0, "/data/oms/config.yaml.20261206.bak", "").
		On("2>&1\necho "+runSep, 0, check, "").
		On("loaded-sha256", 0, "", "").
		On("sha256sum <", 0, "abc\n", "").
		On("docker rm -f", 0, "", "").
		On("exec docker run", 0, "newid\n", "").
		On("docker inspect --format '{{.State.Status}}", 0, "running 0\nconnecting to the MetaDB\n", "").
		On("docker_init", 0, "docker_init.log\nERROR 1045 (28000): Access denied for user 'oms_meta_user'\n"+diagSep+"\n", "").
		On("config.yaml.20261206.bak", 0, "", "").
		On("init-config-file", 0, "", "").
		On("supervisorctl restart", 0, "", "").
		On("supervisorctl status", 0, running, "")
	env, _ := modtest.NewEnv(h)
	args := &ContainerRunArgs{Image: "oms:4.2.5", HealthTimeout: "0.1", RestoreFrom: "/data/oms/config.yaml.20261206.bak"}
	plan, _, err := modtest.RunBoth(t, &ContainerRun{}, env, args)
	if plan == nil || !strings.HasPrefix(plan.Summary, "recreate") {
		t.Fatalf("plan %+v", plan)
	}
	if err == nil {
		t.Fatal("a node that failed on the new config must fail the step")
	}
	for _, want := range []string{"Access denied", "put back", "healthy on it again"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	if !h.Ran("cat '/data/oms/config.yaml.20261206.bak' > '/data/oms/config.yaml'") && !h.Ran("cat /data/oms/config.yaml.20261206.bak > /data/oms/config.yaml") {
		t.Errorf("the previous config.yaml was not put back:\n%s", strings.Join(h.Commands(), "\n"))
	}
	if !h.Ran("supervisorctl restart") {
		t.Errorf("the node was not reloaded on the previous config.yaml:\n%s", strings.Join(h.Commands(), "\n"))
	}

	// A new node has no previous config.yaml to go back to: nothing restored.
	h2 := (&modtest.Host{}).
		On("2>&1\necho "+runSep, 0, dkImgNew+"\n"+runSep+"\n[]\n"+runSep+"\nfile\n"+runSep+"\n", "").
		On("sha256sum <", 0, "abc\n", "").
		On("exec docker run", 0, "newid\n", "").
		On("docker inspect --format '{{.State.Status}}", 0, "exited 1\ninit failed\n", "").
		On("docker_init", 0, diagSep+"\n", "")
	env2, _ := modtest.NewEnv(h2)
	if _, _, err := modtest.RunBoth(t, &ContainerRun{}, env2, &ContainerRunArgs{Image: "oms:4.2.5", RestoreFrom: "/data/oms/config.yaml.20261206.bak"}); err == nil || h2.Ran(".bak") {
		t.Fatalf("err %v; commands:\n%s", err, strings.Join(h2.Commands(), "\n"))
	}
}

// A re-run after an interruption (config.yaml written by the run that was
// stopped) has no backup of its own: with restore = true the node still
// gets back the config.yaml it last came up on, read on the node; without
// it (upgrade.hcl: a new image) nothing is put back.
func TestContainerRunRestoresOnARerun(t *testing.T) {
	for _, tc := range []struct {
		name    string
		restore bool
	}{{"opted in", true}, {"not opted in", false}} {
		t.Run(tc.name, func(t *testing.T) {
			srv := dkHealthServer(t, true)
			addr := srv.Listener.Addr().String()
			oldBinds := omsBinds("/data/oms/config.yaml", "/data/old", "", "")
			check := dkImgNew + "\n" + runSep + "\n" + dkContainer(t, dkImgNew, "running", "10.0.0.11", oldBinds) + "\n" + runSep + "\nfile\n" + runSep + "\n"
			running := "oms_console RUNNING pid 11\noms_drc_cm RUNNING pid 10\noms_drc_supervisor RUNNING pid 12\n"
			h := (&modtest.Host{Targets: map[string]string{"10.0.0.11:8089": addr, "10.0.0.11:8088": addr}}).
				On("# omsrun: last good config.yaml", 0, "/data/oms/config.yaml.20261206.bak", "").
				On("2>&1\necho "+runSep, 0, check, "").
				On("loaded-sha256", 0, "", "").
				On("sha256sum <", 0, "abc\n", "").
				On("docker rm -f", 0, "", "").
				On("exec docker run", 0, "newid\n", "").
				On("docker inspect --format '{{.State.Status}}", 0, "running 0\nconnecting to the MetaDB\n", "").
				On("docker_init", 0, "docker_init.log\nERROR 1045 (28000): Access denied for user 'oms_meta_user'\n"+diagSep+"\n", "").
				On("config.yaml.20261206.bak", 0, "", "").
				On("init-config-file", 0, "", "").
				On("supervisorctl restart", 0, "", "").
				On("supervisorctl status", 0, running, "")
			env, _ := modtest.NewEnv(h)
			_, _, err := modtest.RunBoth(t, &ContainerRun{}, env, &ContainerRunArgs{Image: "oms:4.2.5", HealthTimeout: "0.1", Restore: tc.restore})
			if err == nil || !strings.Contains(err.Error(), "Access denied") {
				t.Fatalf("the step must fail with the reason: %v", err)
			}
			putBack := h.Ran("> '/data/oms/config.yaml'") || h.Ran("> /data/oms/config.yaml")
			if putBack != tc.restore || strings.Contains(err.Error(), "put back") != tc.restore {
				t.Errorf("put back %v, want %v: %v\n%s", putBack, tc.restore, err, strings.Join(h.Commands(), "\n"))
			}
			if tc.restore && !strings.Contains(err.Error(), "healthy on it again") {
				t.Errorf("error lacks the outcome: %v", err)
			}
		})
	}
}
