package oms

import (
	"context"
	"strings"
	"testing"

	"github.com/omsrun/omsrun/modules"
	"github.com/omsrun/omsrun/modules/modtest"
)

// TestStartedLineIsTheWholeLastLine: a fresh container counts as started
// only when its last log line is exactly "OMS service start successfully"
// (obd's comparison), not a line that merely contains it; the failure then
// names every supervisor program that is not RUNNING.
func TestStartedLineIsTheWholeLastLine(t *testing.T) {
	srv := dkHealthServer(t, true)
	addr := srv.Listener.Addr().String()
	check := "Error: No such image: oms:4.2.5\n" + runSep + "\n[]\n" + runSep + "\nmissing\n" + runSep + "\n"
	h := (&modtest.Host{Targets: map[string]string{"10.0.0.11:8089": addr, "10.0.0.11:8088": addr}}).
		On("2>&1\necho "+runSep, 0, check, "").
		Once("docker image inspect --format '{{.Id}}' oms:4.2.5", 0, dkImgNew+"\n", "").
		On("exec docker run", 0, "newid\n", "").
		On("docker inspect --format", 0, "running 0\nERROR waiting for: "+omsStartedLine+" (not yet)\n", "").
		On("supervisorctl status", 3, "ghana          FATAL     Exited too quickly\nnginx          RUNNING   pid 9\noms_drc_cm     RUNNING   pid 10\noms_console    BACKOFF   exit 1\n", "").
		On("docker_init", 0, diagSep+"\nstill starting\n", "")
	env, _ := modtest.NewEnv(h)
	_, _, err := modtest.RunBoth(t, &ContainerRun{}, env, &ContainerRunArgs{Image: "oms:4.2.5", HealthTimeout: "0.3"})
	if err == nil {
		t.Fatal("a last line that only contains the success line counted as started")
	}
	for _, want := range []string{"last log line", "not RUNNING: ghana FATAL, oms_console BACKOFF"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%s", want, err)
		}
	}
}

// TestSupervisorRestartNamesEveryProgramDown: a restart that does not come
// up names every program that is not RUNNING, not only those it restarted.
func TestSupervisorRestartNamesEveryProgramDown(t *testing.T) {
	h := (&modtest.Host{}).
		On("supervisorctl restart", 0, "", "").
		On("supervisorctl status", 3, "ghana FATAL Exited too quickly\noms_console STARTING\noms_drc_cm RUNNING pid 1\n", "").
		On("docker_init", 0, diagSep+"\n", "")
	env, _ := modtest.NewEnv(h)
	f := false
	_, err := (&SupervisorRestart{}).Apply(context.Background(), env, &SupervisorRestartArgs{InitConfig: &f, Programs: []string{"oms_console"}, Timeout: "0.2"}, &modules.Plan{})
	if err == nil || !strings.Contains(err.Error(), "(not RUNNING: oms_console STARTING, ghana FATAL)") {
		t.Fatalf("err %v", err)
	}
}
