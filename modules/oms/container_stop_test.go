package oms

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/omsrun/omsrun/internal/transport/transporttest"
	"github.com/omsrun/omsrun/modules/modtest"
)

// TestContainerStop: a running container is stopped and kept; a stopped or
// absent one is left alone; a stop that fails in an upgrade names the
// rollback.
func TestContainerStop(t *testing.T) {
	cases := []struct {
		name, state string
		stopFails   bool
		args        ContainerStopArgs
		change      bool
		stops       string // what docker stop was asked
		err         string
		checkErr    string // the read itself must fail with docker's message
	}{
		{name: "running", state: "running", change: true, stops: "oms\n"},
		{name: "stopped", state: "stopped"},
		{name: "absent", state: "absent"},
		// dockerd down: the container may still run (live-restore), so the
		// upgrade must not go on to the backup as if it were stopped.
		{name: "docker daemon down", state: "daemon-down", checkErr: "Cannot connect to the Docker daemon",
			args: ContainerStopArgs{RollbackTo: "oms:old", RollbackTarget: "oms:new"}},
		{name: "failing stop in an upgrade", state: "running", stopFails: true, change: true, stops: "oms\n",
			args: ContainerStopArgs{RollbackTo: "oms:old", RollbackTarget: "oms:new"}, err: "restore.hcl"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l, dir := fakeDocker(t, tc.state, tc.stopFails)
			env := modtest.LocalEnv(l, "10.0.0.11")
			args := tc.args
			plan, err := (&ContainerStop{}).Check(context.Background(), env, &args)
			if tc.checkErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.checkErr) || !strings.Contains(err.Error(), "start docker") {
					t.Fatalf("check: %v (%v), want docker's message %q and what to do", err, plan, tc.checkErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if plan.Change != tc.change {
				t.Fatalf("change = %v (%s), want %v", plan.Change, plan.Summary, tc.change)
			}
			_, err = (&ContainerStop{}).Apply(context.Background(), env, &args, plan)
			if tc.err == "" && err != nil || tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
				t.Fatalf("apply: %v, want an error with %q", err, tc.err)
			}
			stops, _ := os.ReadFile(filepath.Join(dir, "stops"))
			if string(stops) != tc.stops {
				t.Errorf("docker stop ran for %q, want %q", stops, tc.stops)
			}
		})
	}
}

// TestContainerStopWithoutDocker: a host without the docker command runs no
// container, so there is nothing to stop (and deploy's preflight, not the
// read before it, names the missing Docker).
func TestContainerStopWithoutDocker(t *testing.T) {
	l := transporttest.NewLocal(t)
	l.Env = []string{"PATH=" + t.TempDir()}
	plan, err := (&ContainerStop{}).Check(context.Background(), modtest.LocalEnv(l, "10.0.0.11"), &ContainerStopArgs{})
	if err != nil || plan.Change {
		t.Fatalf("no docker command: %v %+v, want nothing to stop", err, plan)
	}
}
