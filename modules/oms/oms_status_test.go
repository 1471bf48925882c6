package oms

import (
	"context"
	"strings"
	"testing"

	"github.com/omsrun/omsrun/modules/modtest"
)

// status hides nothing: each way a node can be off is a finding (exit 6),
// and a healthy node on the intended image is none.
func TestOMSStatusFindings(t *testing.T) {
	progs := "oms_console RUNNING pid 1\noms_drc_cm RUNNING pid 3\noms_drc_supervisor RUNNING pid 2\n"
	for _, tc := range []struct {
		name    string
		out     string
		healthy bool
		image   string
		want    string // "" when the node is as intended
	}{
		{name: "healthy", out: "running oms:v1 sha256:abc\n" + infoSep + "\n" + progs, healthy: true, image: "oms:v1"},
		{name: "docker daemon down", out: "docker-down\n", want: "Docker daemon down"},
		{name: "container absent", out: "absent\n" + infoSep + "\n", want: "container absent"},
		{name: "container exited", out: "exited oms:v1 sha256:abc\n" + infoSep + "\n", want: "container exited"},
		// CM has no health endpoint: it answers (a 404 here) and runs, so it is up.
		{name: "console health down", out: "running oms:v1 sha256:abc\n" + infoSep + "\n" + progs, healthy: false, want: "8088 ok, 8089 down"},
		{name: "CM not running", out: "running oms:v1 sha256:abc\n" + infoSep + "\noms_console RUNNING\noms_drc_cm STOPPED\n", healthy: true, want: "8088 down, 8089 ok"},
		{name: "program stopped", out: "running oms:v1 sha256:abc\n" + infoSep + "\noms_console FATAL\noms_drc_cm RUNNING\noms_drc_supervisor RUNNING\n", healthy: true, want: "programs 2/3 RUNNING (not RUNNING: oms_console FATAL)"},
		{name: "another image", out: "running oms:v1 sha256:abc\n" + infoSep + "\n" + progs, healthy: true, image: "oms:v2", want: "runs image oms:v1, not oms:v2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := dkHealthServer(t, tc.healthy)
			addr := srv.Listener.Addr().String()
			h := (&modtest.Host{Targets: map[string]string{"10.0.0.11:8088": addr, "10.0.0.11:8089": addr}}).On("docker info", 0, tc.out, "")
			env, _ := modtest.NewEnv(h)
			plan, err := (&OMSStatus{}).Check(context.Background(), env, &OMSStatusArgs{Image: tc.image})
			if err != nil {
				t.Fatal(err)
			}
			if tc.want == "" && plan.Unhealthy != "" || !strings.Contains(plan.Unhealthy, tc.want) {
				t.Fatalf("finding %q, want %q (row %q)", plan.Unhealthy, tc.want, plan.Summary)
			}
			if tc.name == "docker daemon down" && !strings.Contains(plan.Summary, "Docker daemon down") {
				t.Fatalf("row %q", plan.Summary)
			}
		})
	}
}
