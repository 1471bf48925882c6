package e2e

import (
	"context"
	crand "crypto/rand"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/omsrun/omsrun/internal/lab/image"
	"github.com/omsrun/omsrun/internal/lab/labtest"
	"github.com/omsrun/omsrun/internal/secret"
	"github.com/omsrun/omsrun/internal/transport"
	"github.com/omsrun/omsrun/inventory"
	"github.com/omsrun/omsrun/modules"
	"github.com/omsrun/omsrun/modules/builtin"
	"github.com/omsrun/omsrun/modules/oms"
)

// The Docker-side modules on the lab's real sshd and dockerd. Every test
// uses its own container name, mount folder, image and MetaDB database
// names, so it can share the lab with the other engineers' tests.

const (
	dkContainer = "oms-e2e-docker"
	dkMount     = "/data/e2e-docker"
)

// dkReport records a module's progress.
type dkReport struct {
	mu     sync.Mutex
	phases []string
	bytes  int
	last   [2]int64
	warns  []string
}

func (r *dkReport) Phase(m string) { r.mu.Lock(); r.phases = append(r.phases, m); r.mu.Unlock() }
func (r *dkReport) Bytes(done, total int64) {
	r.mu.Lock()
	r.bytes++
	r.last = [2]int64{done, total}
	r.mu.Unlock()
}
func (r *dkReport) Warn(m string) { r.mu.Lock(); r.warns = append(r.warns, m); r.mu.Unlock() }

// dkEnv connects to lab host i (as root, or as the deploy user with sudo)
// and returns a module environment for it.
func dkEnv(t *testing.T, l *labtest.Lab, i int, deploy bool) (*modules.Env, *dkReport) {
	t.Helper()
	h := l.Hosts[i]
	ih := &inventory.Host{Name: h.Name, Address: h.Address, Port: 22, User: "root", KeyFile: l.Key}
	if deploy {
		ih = &inventory.Host{Name: h.Name, Address: h.Address, Port: 22, User: l.DeployUser,
			Password: secret.String(l.DeployPassword), Become: true, BecomePassword: secret.String(l.DeployPassword)}
	}
	pool := transport.NewPool(transport.Config{KnownHostsFile: l.KnownHosts, SSHConfigFile: "none"})
	t.Cleanup(func() { pool.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pool.Get(ctx, ih)
	if err != nil {
		t.Fatal(err)
	}
	rep := &dkReport{}
	return &modules.Env{Host: conn, HostName: h.Name, Address: h.Address, Become: ih.Become, Report: rep}, rep
}

// dkStep runs a module as the engine does: validate, check, and apply when
// the plan asks for it (unless check is set).
func dkStep(t *testing.T, env *modules.Env, name string, args any, check bool) (*modules.Plan, *modules.Result, error) {
	t.Helper()
	m, ok := builtin.Lookup(name)
	if !ok {
		t.Fatalf("module %s not registered", name)
	}
	if v, ok := m.(modules.Validator); ok {
		if err := v.Validate(args); err != nil {
			return nil, nil, err
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	plan, err := m.Check(ctx, env, args)
	if plan != nil {
		t.Logf("%s on %s: plan %q (change=%v unknown=%v)", name, env.HostName, plan.Summary, plan.Change, plan.Unknown)
	}
	if err != nil || check || (!plan.Change && !plan.Unknown) {
		return plan, nil, err
	}
	res, err := m.Apply(ctx, env, args, plan)
	return plan, res, err
}

// dkUniqueImage writes a small docker-archive whose image ID exists nowhere
// yet: a random label and a 3 MiB incompressible layer.
func dkUniqueImage(t *testing.T, tag string) (string, image.Result) {
	t.Helper()
	nonce := make([]byte, 8)
	crand.Read(nonce)
	const size = 3 << 20
	spec := image.Spec{
		RepoTags: []string{tag},
		Config:   image.Config{Cmd: []string{"/x"}, Labels: map[string]string{"omsrun.e2e": fmt.Sprintf("%x", nonce)}},
		Layers: []image.Layer{{Comment: "filler", Files: []image.File{{Path: "filler.bin", Mode: 0o644, Size: size,
			Open: func() io.Reader { return io.LimitReader(crand.Reader, size) }}}}},
	}
	file := filepath.Join(t.TempDir(), "e2e-image.tar.gz")
	res, err := image.WriteFile(file, spec)
	if err != nil {
		t.Fatal(err)
	}
	return file, res
}

func TestDockerLoadSendsOnceE2E(t *testing.T) {
	l := labtest.Require(t)
	host := l.Hosts[0]
	file, img := dkUniqueImage(t, "oms-e2e-docker:load")
	t.Cleanup(func() { l.Run(context.Background(), host.Name, "docker rmi -f "+img.ID+" >/dev/null 2>&1") })

	// First as the non-root user through sudo: the image streams through
	// sudo's stdin, after the password line.
	env, rep := dkEnv(t, l, 0, true)
	args := &oms.DockerLoadArgs{File: file, Tag: "oms-e2e-docker:tagged"}
	before := l.VethBytes(t, host.Name)
	t0 := time.Now()
	plan, res, err := dkStep(t, env, "docker_load", args, false)
	t.Logf("first load took %s", time.Since(t0))
	if err != nil {
		t.Fatal(err)
	}
	sent := l.VethBytes(t, host.Name) - before
	if !plan.Change || !strings.Contains(plan.Summary, "absent") || res == nil || !res.Changed {
		t.Fatalf("first run: plan %+v result %+v", plan, res)
	}
	if sent < uint64(img.Size) {
		t.Errorf("veth counted %d bytes, less than the %d-byte tarball", sent, img.Size)
	}
	if rep.bytes == 0 || rep.last != [2]int64{img.Size, img.Size} {
		t.Errorf("progress: %d reports, last %v (size %d)", rep.bytes, rep.last, img.Size)
	}
	got := l.Exec(t, host.Name, "docker image inspect --format '{{.Id}} {{json .RepoTags}}' "+img.ID)
	if !strings.HasPrefix(got, img.ID+" ") || !strings.Contains(got, "oms-e2e-docker:load") || !strings.Contains(got, "oms-e2e-docker:tagged") {
		t.Errorf("after load: %q", got)
	}

	// Second run, as root: the image is there, nothing is sent.
	env, _ = dkEnv(t, l, 0, false)
	before = l.VethBytes(t, host.Name)
	plan, res, err = dkStep(t, env, "docker_load", args, false)
	if err != nil {
		t.Fatal(err)
	}
	sent = l.VethBytes(t, host.Name) - before
	if plan.Change || res != nil || !strings.Contains(plan.Summary, "present") {
		t.Errorf("second run: plan %+v result %+v", plan, res)
	}
	if sent > 64<<10 {
		t.Errorf("second run moved %d bytes over the host's link; want only a few commands' worth", sent)
	}

	// An untagged image is re-tagged without sending it.
	l.Exec(t, host.Name, "docker rmi oms-e2e-docker:tagged >/dev/null")
	before = l.VethBytes(t, host.Name)
	plan, res, err = dkStep(t, env, "docker_load", args, false)
	if err != nil {
		t.Fatal(err)
	}
	if sent := l.VethBytes(t, host.Name) - before; sent > 64<<10 || !strings.Contains(plan.Summary, "nothing to send") || res == nil {
		t.Errorf("re-tag: plan %+v, %d bytes", plan, sent)
	}
}

func TestMkdirMountsE2E(t *testing.T) {
	l := labtest.Require(t)
	host := l.Hosts[1]
	dir := dkMount + "-mounts"
	l.Exec(t, host.Name, "rm -rf "+dir+" "+dir+"-file")
	t.Cleanup(func() { l.Run(context.Background(), host.Name, "rm -rf "+dir+" "+dir+"-file") })
	env, rep := dkEnv(t, l, 1, false)
	args := func() *oms.MkdirMountsArgs {
		return &oms.MkdirMountsArgs{Path: dir, Mode: "0750", Owner: "root:root"}
	}
	plan, res, err := dkStep(t, env, "mkdir_mounts", args(), false)
	if err != nil {
		t.Fatal(err)
	}
	if !plan.Change || res == nil || !res.Changed {
		t.Fatalf("plan %+v result %+v", plan, res)
	}
	if got := l.Exec(t, host.Name, "stat -c '%n %a %U' "+dir+" "+dir+"/logs "+dir+"/store "+dir+"/run"); got !=
		strings.Join([]string{dir + " 750 root", dir + "/logs 750 root", dir + "/store 750 root", dir + "/run 750 root"}, "\n") {
		t.Errorf("stat: %q", got)
	}
	// /data is a small tmpfs, far below the default 50 GiB.
	if len(rep.warns) == 0 || !strings.Contains(rep.warns[0], "free") {
		t.Errorf("no low-space warning: %q", rep.warns)
	}
	plan, res, err = dkStep(t, env, "mkdir_mounts", args(), false)
	if err != nil || plan.Change || res != nil {
		t.Errorf("second run: plan %+v result %+v err %v", plan, res, err)
	}
	l.Exec(t, host.Name, "chmod 700 "+dir+"/store")
	if plan, _, _ := dkStep(t, env, "mkdir_mounts", args(), true); !strings.Contains(plan.Summary, "chmod 0750 "+dir+"/store") {
		t.Errorf("drift not seen: %+v", plan)
	}
	l.Exec(t, host.Name, "echo x > "+dir+"-file")
	_, _, err = dkStep(t, env, "mkdir_mounts", &oms.MkdirMountsArgs{Path: dir + "-file"}, false)
	if err == nil || !strings.Contains(err.Error(), "is a regular file") {
		t.Errorf("a file as mount dir: %v", err)
	}
}

// dkConfig is a config.yaml the stand-in accepts, with this test's own
// database names; cm_location is a parameter so a test can break it.
func dkConfig(l *labtest.Lab, addr, cmLocation string) string {
	return fmt.Sprintf(`oms_meta_host: %s
oms_meta_port: %d
oms_meta_user: %s
oms_meta_password: %q
drc_rm_db: e2edk_rm
drc_cm_db: e2edk_cm
drc_cm_heartbeat_db: e2edk_cm_hb
cm_url: %s
cm_location: %s
cm_is_default: true
cm_nodes:
  - %s
tsdb_enabled: false
`, l.MetaDB.Host, l.MetaDB.Port, l.MetaDB.User, l.MetaDB.Password, l.CMURL, cmLocation, addr)
}

// dkFreeHost picks a lab host whose five OMS ports are free, since the
// stand-in runs with --net host; when an earlier test left OMS running on
// every host, the lab is reset to bare first.
func dkFreeHost(t *testing.T, l *labtest.Lab) int {
	t.Helper()
	for attempt := 0; attempt < 2; attempt++ {
		for i, h := range l.Hosts {
			out, _, err := l.Run(context.Background(), h.Name, `cat /proc/net/tcp /proc/net/tcp6 | awk '$4=="0A"{print $2}' | grep -ciE ':(1F98|1F99|1F9A|2328|07E7)$' || true`)
			if err == nil && strings.TrimSpace(out) == "0" {
				return i
			}
		}
		t.Log("OMS ports are held on every lab host: resetting the lab")
		l.Reset(t)
	}
	t.Fatal("no lab host has the OMS ports free, even after a reset")
	return 0
}

// dkHealthy asks the console's health on 8089, over https first (with a
// certificate mounted the console serves only https) and then http, as
// omsrun's own probes do.
func dkHealthy(t *testing.T, addr string) bool {
	c := http.Client{Timeout: 3 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, // the test's self-signed pair
	}}
	resp, err := c.Get("https://" + addr + ":8089/oms/health")
	if err != nil {
		resp, err = c.Get("http://" + addr + ":8089/oms/health")
	}
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	var v struct {
		Data struct {
			Healthy bool `json:"healthy"`
		} `json:"data"`
	}
	return json.NewDecoder(resp.Body).Decode(&v) == nil && v.Data.Healthy
}

func TestContainerLifecycleE2E(t *testing.T) {
	l := labtest.Require(t)
	i := dkFreeHost(t, l)
	host := l.Hosts[i]
	cleanup := func() {
		l.Run(context.Background(), host.Name, "docker rm -f "+dkContainer+" >/dev/null 2>&1; rm -rf "+dkMount)
	}
	cleanup()
	t.Cleanup(cleanup)
	t.Cleanup(func() {
		l.MetaSQL(t, "DROP DATABASE IF EXISTS e2edk_rm; DROP DATABASE IF EXISTS e2edk_cm; DROP DATABASE IF EXISTS e2edk_cm_hb")
	})
	env, rep := dkEnv(t, l, i, false)
	v1, v2 := l.Images["v1"], l.Images["v2"]
	for _, img := range []labtest.Image{v1, v2} {
		if _, _, err := dkStep(t, env, "docker_load", &oms.DockerLoadArgs{File: img.Path}, false); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := dkStep(t, env, "mkdir_mounts", &oms.MkdirMountsArgs{Path: dkMount}, false); err != nil {
		t.Fatal(err)
	}
	l.Exec(t, host.Name, "cat > "+dkMount+"/config.yaml <<'EOF'\n"+dkConfig(l, host.Address, "100")+"EOF")
	run := func(image string) *oms.ContainerRunArgs {
		return &oms.ContainerRunArgs{Name: dkContainer, Image: image, MountDir: dkMount, HealthTimeout: "90s"}
	}

	// Check mode on a host without the container announces a create and does nothing.
	plan, _, err := dkStep(t, env, "container_run", run(v1.Ref), true)
	if err != nil || !strings.Contains(plan.Summary, "create container "+dkContainer) {
		t.Fatalf("check: plan %+v err %v", plan, err)
	}
	if out, _, _ := l.Run(context.Background(), host.Name, "docker ps -aq --filter name=^"+dkContainer+"$"); strings.TrimSpace(out) != "" {
		t.Fatal("check mode created the container")
	}

	_, res, err := dkStep(t, env, "container_run", run(v1.Ref), false)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Changed || res.Outputs["recreated"].True() || res.Outputs["image_id"].AsString() != v1.ID {
		t.Errorf("create: %+v", res)
	}
	if !dkHealthy(t, host.Address) {
		t.Error("not healthy from the controller after container_run returned")
	}
	if !strings.Contains(strings.Join(rep.phases, "\n"), "docker run") {
		t.Errorf("phases %q", rep.phases)
	}
	flags := l.Exec(t, host.Name, "docker inspect --format '{{.HostConfig.NetworkMode}} {{.HostConfig.Privileged}} {{range .HostConfig.Ulimits}}{{.Name}}={{.Soft}}:{{.Hard}}{{end}}' "+dkContainer)
	if flags != "host true nproc=65535:65535" {
		t.Errorf("flags: %q", flags)
	}

	// Converged: ok, in check mode and for real.
	plan, res, err = dkStep(t, env, "container_run", run(v1.Ref), false)
	if err != nil || plan.Change || res != nil {
		t.Errorf("second run: plan %+v result %+v err %v", plan, res, err)
	}

	// A newer image: recreate as an upgrade. (Loaded again first: cheap
	// when present, and it survives another test resetting the host.)
	if _, _, err := dkStep(t, env, "docker_load", &oms.DockerLoadArgs{File: v2.Path}, false); err != nil {
		t.Fatal(err)
	}
	plan, res, err = dkStep(t, env, "container_run", run(v2.Ref), false)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(plan.Summary, "recreate") || !strings.Contains(plan.Summary, "image") || !res.Outputs["recreated"].True() {
		t.Errorf("upgrade: plan %+v result %+v", plan, res)
	}
	if envs := l.Exec(t, host.Name, "docker inspect --format '{{json .Config.Env}}' "+dkContainer); !strings.Contains(envs, "IS_UPGRADE=true") {
		t.Errorf("upgrade without IS_UPGRADE: %s", envs)
	}

	// A different address: recreate, saying what differs.
	args := run(v2.Ref)
	args.ExtraEnv = map[string]string{"OMS_E2E": "1"}
	plan, _, err = dkStep(t, env, "container_run", args, false)
	if err != nil || !strings.Contains(plan.Summary, "OMS_E2E unset") {
		t.Errorf("env change: plan %+v err %v", plan, err)
	}

	// Stopped: started again.
	l.Exec(t, host.Name, "docker stop -t 1 "+dkContainer+" >/dev/null")
	plan, _, err = dkStep(t, env, "container_run", args, false)
	if err != nil || !strings.HasPrefix(plan.Summary, "start container") {
		t.Errorf("stopped: plan %+v err %v", plan, err)
	}

	// HTTPS certificate and key from the control machine: copied under
	// <mount>/cert and mounted; a second run finds them equal. A real pair:
	// the console (like the stand-in) refuses to start on a broken one.
	args.HTTPSCrt, args.HTTPSKey = selfSigned(t, host.Address)
	crtPEM, err := os.ReadFile(args.HTTPSCrt)
	if err != nil {
		t.Fatal(err)
	}
	plan, _, err = dkStep(t, env, "container_run", args, false)
	if err != nil || !strings.Contains(plan.Summary, "HTTPS certificate changed") {
		t.Errorf("certificates: plan %+v err %v", plan, err)
	}
	if got := l.Exec(t, host.Name, "stat -c '%a' "+dkMount+"/cert/oms_server.key && docker exec "+dkContainer+" cat /etc/pki/nginx/oms_server.crt"); got != "600\n"+string(crtPEM) && got != "600\n"+strings.TrimRight(string(crtPEM), "\n") {
		t.Errorf("certificate on the host / in the container: %q", got)
	}
	if plan, _, err = dkStep(t, env, "container_run", args, true); err != nil || plan.Change {
		t.Errorf("certificates, second run: plan %+v err %v", plan, err)
	}

	// supervisor_restart: re-read config, restart, wait.
	plan, res, err = dkStep(t, env, "supervisor_restart", &oms.SupervisorRestartArgs{Container: dkContainer, MountDir: dkMount}, false)
	if err != nil || !plan.Unknown || !res.Changed {
		t.Fatalf("supervisor_restart: plan %+v result %+v err %v", plan, res, err)
	}
	if !dkHealthy(t, host.Address) {
		t.Error("not healthy after supervisor_restart returned")
	}

	// preflight on a host running our container: ports are ours, peers,
	// MetaDB and TSDB (with a real login) reachable.
	pf := &oms.PreflightArgs{
		MountDir: dkMount, ContainerName: dkContainer, Peers: l.Addresses(),
		MetaDBHost: l.MetaDB.Host, MetaDBPort: l.MetaDB.Port,
		TSDBEnabled: true, TSDBURL: l.TSDB.URL, TSDBUsername: l.TSDB.User, TSDBPassword: l.TSDB.Password,
	}
	plan, _, err = dkStep(t, env, "preflight", pf, true)
	if err != nil || plan.Change || !strings.Contains(plan.Summary, "held by "+dkContainer) {
		t.Errorf("preflight: plan %+v err %v", plan, err)
	}
	pf.TSDBPassword = "wrong-password"
	if _, _, err = dkStep(t, env, "preflight", pf, true); err == nil || !strings.Contains(err.Error(), "wrong TSDB credentials") {
		t.Errorf("preflight with a wrong TSDB password: %v", err)
	}
	pf.TSDBPassword, pf.ContainerName = l.TSDB.Password, "someone-else"
	if _, _, err = dkStep(t, env, "preflight", pf, true); err == nil || !strings.Contains(err.Error(), "port(s) 8089, 8088, 8090, 9000, 2023 already in use") {
		t.Errorf("preflight with the ports taken: %v", err)
	}

	// A config the stand-in refuses: the error carries the docker_init reason.
	l.Exec(t, host.Name, "docker rm -f "+dkContainer+" >/dev/null && cat > "+dkMount+"/config.yaml <<'EOF'\n"+dkConfig(l, host.Address, "300")+"EOF")
	_, _, err = dkStep(t, env, "container_run", run(v1.Ref), false)
	if err == nil || !strings.Contains(err.Error(), "docker_init") || !strings.Contains(err.Error(), "cm_location") {
		t.Errorf("bad config: %v", err)
	} else {
		t.Logf("bad config reported as:\n%v", err)
	}
}

func TestPreflightDockerStoppedE2E(t *testing.T) {
	l := labtest.Require(t)
	host := l.Hosts[2]
	env, _ := dkEnv(t, l, 2, false)
	pf := &oms.PreflightArgs{MountDir: dkMount, ContainerName: dkContainer, Peers: l.Addresses(), MetaDBHost: l.MetaDB.Host, MetaDBPort: l.MetaDB.Port}
	l.StopDocker(t, host.Name)
	_, _, err := dkStep(t, env, "preflight", pf, true)
	if err == nil || !strings.Contains(err.Error(), "Docker daemon does not answer") {
		t.Errorf("dockerd stopped: %v", err)
	}
	l.StartDocker(t, host.Name)
	if _, _, err := dkStep(t, env, "preflight", pf, true); err != nil && strings.Contains(err.Error(), "Docker") {
		t.Errorf("dockerd back: %v", err)
	}
}

func TestCommandShellWaitForE2E(t *testing.T) {
	l := labtest.Require(t)
	host := l.Hosts[1]
	marker := "/tmp/omsrun-e2e-docker-creates"
	l.Exec(t, host.Name, "rm -f "+marker)
	t.Cleanup(func() { l.Run(context.Background(), host.Name, "rm -f "+marker) })
	env, _ := dkEnv(t, l, 1, false)

	// command: argv arrives literally; creates makes the second run a no-op.
	args := &modules.CommandArgs{Argv: []string{"sh", "-c", `printf '%s' "$1" > "$2"`, "x", "it's $(not) run; ok", marker}, Creates: marker}
	plan, res, err := dkStep(t, env, "command", args, false)
	if err != nil || !plan.Unknown || !res.Changed {
		t.Fatalf("command: plan %+v result %+v err %v", plan, res, err)
	}
	if got := l.Exec(t, host.Name, "cat "+marker); got != "it's $(not) run; ok" {
		t.Errorf("argument arrived as %q", got)
	}
	if plan, res, err = dkStep(t, env, "command", args, false); err != nil || plan.Unknown || res != nil {
		t.Errorf("command with creates, second run: plan %+v result %+v err %v", plan, res, err)
	}

	// shell: a pipeline, its stdout as an output; a failure names the command.
	_, res, err = dkStep(t, env, "shell", &modules.ShellArgs{Cmd: "printf 'a\\nb\\n' | wc -l"}, false)
	if err != nil || strings.TrimSpace(res.Outputs["stdout"].AsString()) != "2" {
		t.Errorf("shell: %+v %v", res, err)
	}
	_, _, err = dkStep(t, env, "shell", &modules.ShellArgs{Cmd: "ls /nonexistent-e2e"}, false)
	if err == nil || !strings.Contains(err.Error(), "ls /nonexistent-e2e") || !strings.Contains(err.Error(), "No such file") {
		t.Errorf("shell failure: %v", err)
	}

	// wait_for: TCP from the host's side, HTTP from the controller; a port
	// nobody listens on times out naming the target.
	if _, _, err := dkStep(t, env, "wait_for", &modules.WaitForArgs{Host: l.MetaDB.Host, Port: l.MetaDB.Port, Timeout: "10s"}, false); err != nil {
		t.Errorf("wait_for MetaDB port: %v", err)
	}
	if _, _, err := dkStep(t, env, "wait_for", &modules.WaitForArgs{URL: l.TSDB.URL + "/ping", Status: 204, Via: "controller", Timeout: "10s"}, false); err != nil {
		t.Errorf("wait_for TSDB ping: %v", err)
	}
	_, _, err = dkStep(t, env, "wait_for", &modules.WaitForArgs{Port: 1, Timeout: "2s", Interval: "500ms"}, false)
	if err == nil || !strings.Contains(err.Error(), host.Address+":1 did not answer within 2s") {
		t.Errorf("wait_for closed port: %v", err)
	}
}
