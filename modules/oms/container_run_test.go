package oms

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/omsrun/omsrun/internal/filehash"
	"github.com/omsrun/omsrun/internal/transport/transporttest"
	"github.com/omsrun/omsrun/modules"
	"github.com/omsrun/omsrun/modules/modtest"
)

const (
	dkImgNew = "sha256:1111111111111111111111111111111111111111111111111111111111111111"
	dkImgOld = "sha256:2222222222222222222222222222222222222222222222222222222222222222"
)

// dkContainer is docker inspect's answer for a container made by container_run.
func dkContainer(t *testing.T, image, status, hostIP string, binds []string) string {
	t.Helper()
	var c modules.Inspected
	c.ID, c.Image = "c0ffee", image
	c.State.Status, c.State.Running = status, status == "running"
	c.Config.Env = []string{"PATH=/usr/bin", "OMS_HOST_IP=" + hostIP}
	c.HostConfig.Binds, c.HostConfig.NetworkMode, c.HostConfig.Privileged = binds, "host", true
	c.HostConfig.Ulimits = []modules.Ulimit{{Name: "nproc", Soft: 65535, Hard: 65535}}
	b, err := json.Marshal([]modules.Inspected{c})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func dkHealthServer(t *testing.T, healthy bool) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/oms/health" {
			http.NotFound(w, r)
			return
		}
		if healthy {
			w.Write([]byte(`{"data":{"healthy":true}}`))
		} else {
			w.Write([]byte(`{"data":{"healthy":false}}`))
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestContainerRun(t *testing.T) {
	binds := omsBinds("/data/oms/config.yaml", "/data/oms", "", "")
	checkOut := func(image, container, cfg string) string {
		return image + "\n" + runSep + "\n" + container + "\n" + runSep + "\n" + cfg + "\n" + runSep + "\n"
	}
	cases := []struct {
		name      string
		check     string
		wantPlan  string
		wantCmds  []string
		notCmds   []string
		wantEnv   string // docker run's env file, on its stdin
		recreated bool
		loaded    string // what the loaded-config read answers (default: recorded)
		only      bool   // only_unfinished
	}{
		{
			name:     "absent: create with the documented flags",
			check:    checkOut(dkImgNew, "[]", "file"),
			wantPlan: "create container oms",
			wantCmds: []string{"exec docker run -d -it --name oms --restart no --network host -v /data/oms/config.yaml:/home/admin/conf/config.yaml -v /data/oms/logs:/home/admin/logs -v /data/oms/store:/home/ds/store -v /data/oms/run:/home/ds/run --privileged --pids-limit -1 --ulimit nproc=65535:65535 --env-file /dev/stdin oms:4.2.5"},
			wantEnv:  "OMS_HOST_IP=10.0.0.11\n",
			notCmds:  []string{"IS_UPGRADE", "docker rm"},
		},
		{
			// dkContainer has no Tty/OpenStdin, as a container started with
			// plain -d: a difference in -i/-t alone never recreates it.
			name:     "same and running, started with -d rather than -dit: ok",
			check:    checkOut(dkImgNew, dkContainer(t, dkImgNew, "running", "10.0.0.11", binds), "file"),
			wantPlan: "running on image 111111111111",
		},
		{
			name:      "older image: recreate as an upgrade",
			check:     checkOut(dkImgNew, dkContainer(t, dkImgOld, "running", "10.0.0.11", binds), "file"),
			wantPlan:  "image 222222222222 → 111111111111",
			wantCmds:  []string{"docker rm -f oms"},
			wantEnv:   "IS_UPGRADE=true\nOMS_HOST_IP=10.0.0.11\n",
			recreated: true,
		},
		{
			name:      "other address and a missing mount: recreate, no upgrade",
			check:     checkOut(dkImgNew, dkContainer(t, dkImgNew, "running", "10.0.0.99", binds[:3]), "file"),
			wantPlan:  "env OMS_HOST_IP differs, mount /data/oms/run:/home/ds/run missing",
			wantCmds:  []string{"docker rm -f oms"},
			wantEnv:   "OMS_HOST_IP=10.0.0.11\n",
			notCmds:   []string{"IS_UPGRADE"},
			recreated: true,
		},
		{
			// A run stopped while this container was starting: no record
			// of the config it loaded, but it started after config.yaml
			// was written. Wait for health and record it; no restart.
			name:  "running, never seen healthy: wait and record",
			check: checkOut(dkImgNew, dkContainer(t, dkImgNew, "running", "10.0.0.11", binds), "file"),
			// config.yaml written 0.3 s before the start, in the same second.
			loaded:   "running=true 2026-01-02T03:04:05.5Z\ncurrent=abc\nmtime=2026-01-02 03:04:05.200000000 +0000\nloaded=\n",
			wantPlan: "started but never seen healthy",
			wantCmds: []string{"config.yaml.loaded-sha256.tmp"},
			notCmds:  []string{"docker run", "docker start", "docker rm"},
		},
		{
			name:     "only_unfinished, on an older image: nothing (the rollout replaces it)",
			check:    checkOut(dkImgNew, dkContainer(t, dkImgOld, "running", "10.0.0.11", binds), "file"),
			loaded:   "running=true 2026-01-02T03:04:05.5Z\ncurrent=abc\nmtime=2026-01-02 03:04:05.200000000 +0000\nloaded=\n",
			wantPlan: "container oms running on image 222222222222",
			only:     true,
		},
		{
			name:     "only_unfinished, absent: nothing (a later step creates it)",
			check:    checkOut(dkImgNew, "[]", "file"),
			wantPlan: "no container oms",
			only:     true,
		},
		{
			name:     "only_unfinished, never seen healthy: wait and record",
			check:    checkOut(dkImgNew, dkContainer(t, dkImgNew, "running", "10.0.0.11", binds), "file"),
			loaded:   "running=true 2026-01-02T03:04:05.5Z\ncurrent=abc\nmtime=2026-01-02 03:04:05.200000000 +0000\nloaded=\n",
			wantPlan: "started but never seen healthy",
			wantCmds: []string{"config.yaml.loaded-sha256.tmp"},
			notCmds:  []string{"docker run", "docker start", "docker rm"},
			only:     true,
		},
		{
			name:     "stopped: start",
			check:    checkOut(dkImgNew, dkContainer(t, dkImgNew, "exited", "10.0.0.11", binds), "file"),
			wantPlan: "start container oms (exited)",
			wantCmds: []string{"docker start oms"},
			notCmds:  []string{"docker run"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := dkHealthServer(t, true)
			loaded := tc.loaded
			if loaded == "" {
				loaded = "running=true 2026-01-02T03:04:05Z\ncurrent=abc\nmtime=2026-01-02 03:04:01.000000000 +0000\nloaded=abc\n"
			}
			h := (&modtest.Host{Targets: map[string]string{"10.0.0.11:8089": srv.Listener.Addr().String(), "10.0.0.11:8088": srv.Listener.Addr().String()}}).
				On("docker image inspect --format '{{.Id}}' oms:4.2.5 2>&1", 0, tc.check, "").
				On("printf 'running=", 0, loaded, "").
				On("cut -d' ' -f1 || true", 0, "abc\n", "").On("loaded-sha256.tmp", 0, "", "").
				On("docker rm -f", 0, "oms\n", "").On("docker start", 0, "oms\n", "").
				On("exec docker run", 0, "newid\n", "").
				On("docker inspect --format", 0, "running 0\n"+omsStartedLine+"\n", "").
				On("supervisorctl status oms_drc_cm", 0, "oms_drc_cm    RUNNING   pid 102, uptime 0:00:03\n", "")
			env, _ := modtest.NewEnv(h)
			args := &ContainerRunArgs{Image: "oms:4.2.5", OnlyUnfinished: tc.only}
			if err := (&ContainerRun{}).Validate(args); err != nil {
				t.Fatal(err)
			}
			plan, res, err := modtest.RunBoth(t, &ContainerRun{}, env, args)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(plan.Summary, tc.wantPlan) {
				t.Errorf("plan %q lacks %q", plan.Summary, tc.wantPlan)
			}
			for _, c := range tc.wantCmds {
				if !h.Ran(c) {
					t.Errorf("no %q in %q", c, h.Commands())
				}
			}
			if tc.wantEnv != "" && !slices.Contains(h.Stdin, tc.wantEnv) {
				t.Errorf("no env file %q in %q", tc.wantEnv, h.Stdin)
			}
			for _, c := range tc.notCmds {
				if h.Ran(c) {
					t.Errorf("unexpected %q in %q", c, h.Commands())
				}
			}
			if tc.wantCmds == nil {
				// The image, container and config.yaml in one read, the loaded-config record in another.
				if res != nil || len(h.Commands()) > 2 {
					t.Errorf("converged: result %+v after %q", res, h.Commands())
				}
				return
			}
			if res.Outputs["recreated"].True() != tc.recreated || res.Outputs["image_id"].AsString() != dkImgNew {
				t.Errorf("outputs %v", res.Outputs)
			}
			if !slices.Contains(h.Dials, "10.0.0.11:8089") || !slices.Contains(h.Dials, "10.0.0.11:8088") {
				t.Errorf("health and CM not both probed through the host: %q", h.Dials)
			}
		})
	}
}

func TestContainerRunFailureShowsInitLog(t *testing.T) {
	check := dkImgNew + "\n" + runSep + "\n[]\n" + runSep + "\nfile\n" + runSep + "\n"
	h := (&modtest.Host{}).
		On("docker image inspect --format '{{.Id}}' oms:4.2.5 2>&1", 0, check, "").
		On("exec docker run", 0, "newid\n", "").
		On("docker inspect --format", 0, "exited 1\ninit failed\n", "").
		On("docker_init", 0, "/data/oms/logs/docker_init.log.2025-01-01.10:00:00\ncm_location must be in [0,127], got 300\n"+diagSep+"\ninit failed\n", "")
	env, _ := modtest.NewEnv(h)
	_, _, err := modtest.RunBoth(t, &ContainerRun{}, env, &ContainerRunArgs{Image: "oms:4.2.5"})
	if err == nil {
		t.Fatal("want an error")
	}
	for _, want := range []string{"container oms stopped (exited 1)", "docker_init.log.2025-01-01.10:00:00", "cm_location must be in [0,127]", "docker logs --tail 30 oms"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%s", want, err)
		}
	}
}

func TestContainerRunTimeoutAndMissingImage(t *testing.T) {
	srv := dkHealthServer(t, false)
	check := "Error: No such image: oms:4.2.5\n" + runSep + "\n[]\n" + runSep + "\nmissing\n" + runSep + "\n"
	h := (&modtest.Host{Targets: map[string]string{"10.0.0.11:8089": srv.Listener.Addr().String()}}).
		On("2>&1\necho "+runSep, 0, check, "").
		Once("docker image inspect --format '{{.Id}}' oms:4.2.5", 0, dkImgNew+"\n", "").
		On("exec docker run", 0, "newid\n", "").
		On("docker inspect --format", 0, "running 0\n"+omsStartedLine+"\n", "").
		On("docker_init", 0, diagSep+"\nstill starting\n", "")
	env, _ := modtest.NewEnv(h)
	args := &ContainerRunArgs{Image: "oms:4.2.5", HealthTimeout: "0.1"}
	plan, _, err := modtest.RunBoth(t, &ContainerRun{}, env, args)
	if plan == nil || !strings.Contains(plan.Summary, "not on the host yet") {
		t.Errorf("plan %+v", plan)
	}
	if err == nil || !strings.Contains(err.Error(), "not healthy after 100ms") || !strings.Contains(err.Error(), `"healthy":false`) {
		t.Fatalf("err %v", err)
	}
}

func TestContainerRunCopiesCerts(t *testing.T) {
	dir := t.TempDir()
	mount := filepath.Join(dir, "mount")
	crt, key := filepath.Join(dir, "s.crt"), filepath.Join(dir, "s.key")
	os.WriteFile(crt, []byte("CERT"), 0o644)
	os.WriteFile(key, []byte("KEY"), 0o600)
	crtSum, _ := filehash.SHA256(crt)
	rcrt, rkey := mount+"/cert/oms_server.crt", mount+"/cert/oms_server.key"
	binds := omsBinds(mount+"/config.yaml", mount, rcrt, rkey)
	check := dkImgNew + "\n" + runSep + "\n" + dkContainer(t, dkImgNew, "running", "10.0.0.11", binds) + "\n" + runSep + "\nfile\n" + runSep + "\n" +
		crtSum + "  " + rcrt + "\nffff  " + rkey + "\n"
	srv := dkHealthServer(t, true)
	h := (&modtest.Host{Targets: map[string]string{"10.0.0.11:8089": srv.Listener.Addr().String(), "10.0.0.11:8088": srv.Listener.Addr().String()}, Fallback: transporttest.NewLocal(t)}).
		On("docker image inspect --format '{{.Id}}' oms:4.2.5 2>&1", 0, check, "").On("docker rm -f", 0, "", "").
		On("exec docker run", 0, "newid\n", "").On("docker inspect --format", 0, "running 0\n"+omsStartedLine+"\n", "").
		On("supervisorctl status oms_drc_cm", 0, "oms_drc_cm    RUNNING   pid 102, uptime 0:00:03\n", "")
	env, _ := modtest.NewEnv(h)
	env.Become = false // the local host has no sudo
	plan, _, err := modtest.RunBoth(t, &ContainerRun{}, env, &ContainerRunArgs{Image: "oms:4.2.5", MountDir: mount, HTTPSCrt: crt, HTTPSKey: key})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(plan.Summary, "HTTPS certificate changed") {
		t.Errorf("plan %q", plan.Summary)
	}
	for _, f := range []struct {
		path, content string
		mode          os.FileMode
	}{{rcrt, "CERT", 0o644}, {rkey, "KEY", 0o600}} {
		b, err := os.ReadFile(f.path)
		st, _ := os.Stat(f.path)
		if err != nil || string(b) != f.content || st.Mode().Perm() != f.mode {
			t.Errorf("%s: %q %v (err %v)", f.path, b, st.Mode(), err)
		}
	}
	if !h.Ran("-v " + rcrt + ":/etc/pki/nginx/oms_server.crt") {
		t.Error("certificate not mounted")
	}
}

func TestContainerRunVanishedContainerFailsFast(t *testing.T) {
	check := dkImgNew + "\n" + runSep + "\n[]\n" + runSep + "\nfile\n" + runSep + "\n"
	h := (&modtest.Host{}).
		On("docker image inspect --format '{{.Id}}' oms:4.2.5 2>&1", 0, check, "").
		On("exec docker run", 0, "newid\n", "").
		On("docker inspect --format", 1, "", "Error: No such object: oms\n").
		On("docker_init", 0, diagSep+"\n", "")
	env, _ := modtest.NewEnv(h)
	start := time.Now()
	_, _, err := modtest.RunBoth(t, &ContainerRun{}, env, &ContainerRunArgs{Image: "oms:4.2.5"})
	if err == nil || !strings.Contains(err.Error(), "disappeared") || time.Since(start) > 500*time.Millisecond {
		t.Fatalf("err %v after %s", err, time.Since(start))
	}
}
