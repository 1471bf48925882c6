package oms

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zclconf/go-cty/cty"

	"github.com/omsrun/omsrun/internal/transport"
	"github.com/omsrun/omsrun/internal/transport/transporttest"
	"github.com/omsrun/omsrun/modules/modtest"
)

// fakeDocker puts a `docker` on the PATH of a local host that answers
// inspect and stop for one container from a state file (running, stopped,
// absent, or daemon-down: every inspect fails as with dockerd stopped), whatever the --format asks, and records each stop.
func fakeDocker(t *testing.T, state string, stopFails bool) (*transporttest.Local, string) {
	t.Helper()
	l := transporttest.NewLocal(t)
	bin := t.TempDir()
	script := `#!/bin/sh
d=` + transport.Quote(l.Dir) + `
case "$1" in
inspect)
  st=$(cat "$d/state")
  [ "$st" = absent ] && { echo "Error: No such object: oms" >&2; exit 1; }
  [ "$st" = daemon-down ] && { echo "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?" >&2; exit 1; }
  run=false; [ "$st" = running ] && run=true
  printf '%s\n' "$3" | sed -e "s/{{.State.Running}}/$run/" -e 's/{{.Image}}/sha256:0123/' ;;
stop)
  echo "$2" >> "$d/stops"
  [ -z "$STOP_FAILS" ] || { echo "cannot stop" >&2; exit 1; }
  echo stopped > "$d/state"; echo "$2" ;;
*) echo "fake docker: $*" >&2; exit 2 ;;
esac
`
	if err := os.WriteFile(filepath.Join(bin, "docker"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(l.Dir, "state"), []byte(state+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	l.Env = []string{"PATH=" + bin + ":" + os.Getenv("PATH")}
	if stopFails {
		l.Env = append(l.Env, "STOP_FAILS=1")
	}
	return l, l.Dir
}

// TestContainerInfo: what container_info reads of a running, a stopped and
// an absent container, and the database names of its config.yaml (only
// those lines: the password stays on the host).
func TestContainerInfo(t *testing.T) {
	cases := []struct {
		state           string
		exists, running bool
		image, summary  string
		err             string // docker's own message, when the read must fail
	}{
		{"running", true, true, "sha256:0123", "oms running on sha256:0123", ""},
		{"stopped", true, false, "sha256:0123", "oms exists, stopped", ""},
		{"absent", false, false, "", "no container oms", ""},
		// The daemon down is not "absent": the container may run on (live-restore).
		{"daemon-down", false, false, "", "", "Cannot connect to the Docker daemon"},
	}
	for _, tc := range cases {
		t.Run(tc.state, func(t *testing.T) {
			l, dir := fakeDocker(t, tc.state, false)
			cfg := filepath.Join(dir, "config.yaml")
			if err := os.WriteFile(cfg, []byte("drc_rm_db: a_rm\noms_meta_password: 'pw'\ndrc_cm_db: \"a_cm\"\ndrc_cm_heartbeat_db: a_hb\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			plan, err := (&ContainerInfo{}).Check(context.Background(), modtest.LocalEnv(l, "10.0.0.11"), &ContainerInfoArgs{ConfigPath: cfg})
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) || !strings.Contains(err.Error(), "re-run") {
					t.Fatalf("check: %v, want docker's message %q and what to do", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			o := plan.Outputs
			if o["exists"] != cty.BoolVal(tc.exists) || o["running"] != cty.BoolVal(tc.running) || o["image"] != cty.StringVal(tc.image) || plan.Summary != tc.summary {
				t.Errorf("got %v %v %v %q", o["exists"], o["running"], o["image"], plan.Summary)
			}
			if tc.state == "daemon-down" {
				t.Fatalf("docker down read as %v %v %q, want an error", plan.Outputs["exists"], plan.Outputs["running"], plan.Summary)
			}
			want := cty.ListVal([]cty.Value{cty.StringVal("a_rm"), cty.StringVal("a_cm"), cty.StringVal("a_hb")})
			if !o["databases"].RawEquals(want) {
				t.Errorf("databases %#v", o["databases"])
			}
		})
	}
}
