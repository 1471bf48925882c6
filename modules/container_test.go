package modules_test

import (
	"strings"
	"testing"

	"github.com/omsrun/omsrun/modules"
	"github.com/omsrun/omsrun/modules/modtest"
)

func TestContainerValidate(t *testing.T) {
	ok := modules.ContainerArgs{Name: "influxdb", Image: "influxdb:1.8", Env: map[string]string{"INFLUXDB_HTTP_AUTH_ENABLED": "true"},
		Mounts: []string{"/data/influxdb:/var/lib/influxdb"}, Ports: []string{"8086:8086", "127.0.0.1:2003:2003/udp"}, CapAdd: []string{"NET_ADMIN"}, Restart: "on-failure:3"}
	tests := []struct {
		name string
		mod  func(a *modules.ContainerArgs)
		want string
	}{
		{name: "ok", mod: func(a *modules.ContainerArgs) {}},
		{name: "no image", mod: func(a *modules.ContainerArgs) { a.Image = "" }, want: "image:"},
		{name: "absent needs no image", mod: func(a *modules.ContainerArgs) { a.Image, a.State = "", "absent" }},
		{name: "option as image", mod: func(a *modules.ContainerArgs) { a.Image = "--privileged" }, want: "image:"},
		{name: "bad name", mod: func(a *modules.ContainerArgs) { a.Name = "-x" }, want: "name:"},
		{name: "bad state", mod: func(a *modules.ContainerArgs) { a.State = "running" }, want: "state:"},
		{name: "env name", mod: func(a *modules.ContainerArgs) { a.Env = map[string]string{"A B": "x"} }, want: "env:"},
		{name: "env newline", mod: func(a *modules.ContainerArgs) { a.Env = map[string]string{"A": "x\ny"} }, want: "env:"},
		{name: "relative mount", mod: func(a *modules.ContainerArgs) { a.Mounts = []string{"data:/x"} }, want: "mounts:"},
		{name: "mount option", mod: func(a *modules.ContainerArgs) { a.Mounts = []string{"/a:/b:z"} }, want: "mounts:"},
		{name: "port", mod: func(a *modules.ContainerArgs) { a.Ports = []string{"99999:1"} }, want: "ports:"},
		{name: "ports with host network", mod: func(a *modules.ContainerArgs) { a.Network = "host" }, want: "ports:"},
		{name: "capability", mod: func(a *modules.ContainerArgs) { a.CapAdd = []string{"ALL;x"} }, want: "cap_add:"},
		{name: "restart", mod: func(a *modules.ContainerArgs) { a.Restart = "sometimes" }, want: "restart:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := ok
			tt.mod(&a)
			err := (&modules.Container{}).Validate(&a)
			if (tt.want == "") != (err == nil) || err != nil && !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

// keepalivedJSON is docker inspect's answer for a container matching keepalivedArgs.
const keepalivedJSON = `[{"Image":"sha256:aaaa","State":{"Status":"%s","Running":%s},
 "Config":{"Env":["PATH=/usr/bin","VRRP_PASS=s3cret"],"Cmd":["keepalived","-n"]},
 "HostConfig":{"Binds":["/etc/keepalived:/etc/keepalived:ro"],"NetworkMode":"host","CapAdd":["CAP_NET_ADMIN","CAP_NET_RAW"],
  "PortBindings":{},"RestartPolicy":{"Name":"unless-stopped","MaximumRetryCount":0}}}]`

func keepalivedArgs() *modules.ContainerArgs {
	return &modules.ContainerArgs{Name: "keepalived", Image: "keepalived:omsrun", Env: map[string]string{"VRRP_PASS": "s3cret"},
		Mounts: []string{"/etc/keepalived:/etc/keepalived:ro"}, Network: "host", CapAdd: []string{"NET_ADMIN", "net_raw"}, Command: []string{"keepalived", "-n"}}
}

// containerHost answers docker like a host with the keepalived container
// (in the given state; "" for none) and the image imageID.
func containerHost(status, running, imageID string) *modtest.Host {
	h := &modtest.Host{}
	if status == "" {
		h.On("docker inspect --type container", 1, "[]\n", "Error: No such container: keepalived\n")
	} else {
		js := strings.NewReplacer("\n", "").Replace(keepalivedJSON)
		h.On("docker inspect --type container", 0, strings.Replace(strings.Replace(js, "%s", status, 1), "%s", running, 1), "")
	}
	if imageID == "" {
		h.On("docker image inspect", 1, "", "Error: No such image: keepalived:omsrun\n")
	} else {
		h.On("docker image inspect", 0, imageID+"\n", "")
	}
	h.On("{{.State.Status}}", 0, "running 0\n", "")
	h.On("docker rm -f", 0, "", "")
	h.On("docker run", 0, "cid\n", "")
	h.On("docker start", 0, "", "")
	return h
}

func TestContainerConverged(t *testing.T) {
	h := containerHost("running", "true", "sha256:aaaa")
	env, _ := modtest.NewEnv(h)
	p, res, err := modtest.RunBoth(t, &modules.Container{}, env, keepalivedArgs())
	if err != nil || p.Change || res != nil || h.Ran("docker run") {
		t.Fatalf("plan %+v res %+v err %v", p, res, err)
	}
}

func TestContainerCreate(t *testing.T) {
	h := containerHost("", "", "sha256:aaaa")
	env, _ := modtest.NewEnv(h)
	p, res, err := modtest.RunBoth(t, &modules.Container{}, env, keepalivedArgs())
	if err != nil || !p.Change || !res.Changed || !strings.Contains(res.Msg, "created") {
		t.Fatalf("plan %+v res %+v err %v", p, res, err)
	}
	want := "docker run -d --name keepalived --restart unless-stopped --network host -v /etc/keepalived:/etc/keepalived:ro --cap-add NET_ADMIN --cap-add net_raw --env-file /dev/stdin keepalived:omsrun keepalived -n"
	for i, c := range h.Commands() {
		if strings.HasPrefix(c, "docker run") {
			if c != want || h.Stdin[i] != "VRRP_PASS=s3cret\n" {
				t.Fatalf("ran %q with stdin %q", c, h.Stdin[i])
			}
			return
		}
	}
	t.Fatal("no docker run")
}

func TestContainerStartsStopped(t *testing.T) {
	h := containerHost("exited", "false", "sha256:aaaa")
	env, _ := modtest.NewEnv(h)
	p, res, err := modtest.RunBoth(t, &modules.Container{}, env, keepalivedArgs())
	if err != nil || p.Summary != "would start container keepalived" || !res.Changed || !h.Ran("docker start -- keepalived") || h.Ran("docker run") {
		t.Fatalf("plan %+v res %+v err %v", p, res, err)
	}
}

func TestContainerImageMissing(t *testing.T) {
	h := containerHost("", "", "")
	env, _ := modtest.NewEnv(h)
	p, err := (&modules.Container{}).Check(t.Context(), env, keepalivedArgs())
	if err != nil || !p.Change || !strings.Contains(p.Summary, "image not on the host yet") {
		t.Fatalf("plan %+v %v", p, err)
	}
	if _, err := (&modules.Container{}).Apply(t.Context(), env, keepalivedArgs(), p); err == nil || !strings.Contains(err.Error(), "image:") {
		t.Fatalf("apply: %v", err)
	}
}

func TestContainerAbsent(t *testing.T) {
	for _, present := range []bool{true, false} {
		status := ""
		if present {
			status = "running"
		}
		h := containerHost(status, "true", "")
		env, _ := modtest.NewEnv(h)
		a := &modules.ContainerArgs{Name: "keepalived", State: "absent"}
		p, res, err := modtest.RunBoth(t, &modules.Container{}, env, a)
		if err != nil || p.Change != present || h.Ran("docker rm -f -- keepalived") != present || present && !res.Changed {
			t.Fatalf("present=%v: plan %+v res %+v err %v", present, p, res, err)
		}
	}
}

func TestContainerRecreatesOnChange(t *testing.T) {
	for name, tc := range map[string]struct {
		mod   func(a *modules.ContainerArgs)
		image string
		want  string
	}{
		"env":     {mod: func(a *modules.ContainerArgs) { a.Env["VRRP_PASS"] = "n3w" }, want: "env VRRP_PASS differs"},
		"image":   {mod: func(a *modules.ContainerArgs) {}, image: "sha256:bbbb", want: "image aaaa → bbbb"},
		"cap":     {mod: func(a *modules.ContainerArgs) { a.CapAdd = a.CapAdd[:1] }, want: "extra capability CAP_NET_RAW"},
		"mount":   {mod: func(a *modules.ContainerArgs) { a.Mounts = []string{"/etc/k:/etc/keepalived"} }, want: "mount /etc/k:/etc/keepalived missing"},
		"port":    {mod: func(a *modules.ContainerArgs) { a.Network, a.Ports = "", []string{"8086:8086"} }, want: "port  8086 8086/tcp missing"},
		"command": {mod: func(a *modules.ContainerArgs) { a.Command = []string{"keepalived"} }, want: "command differs"},
		"restart": {mod: func(a *modules.ContainerArgs) { a.Restart = "always" }, want: "restart unless-stopped → always"},
		"network": {mod: func(a *modules.ContainerArgs) { a.Network = "" }, want: "network host → bridge"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			img := tc.image
			if img == "" {
				img = "sha256:aaaa"
			}
			h := containerHost("running", "true", img)
			env, _ := modtest.NewEnv(h)
			env.Diff = true
			a := keepalivedArgs()
			tc.mod(a)
			p, res, err := modtest.RunBoth(t, &modules.Container{}, env, a)
			if err != nil || !p.Change || !strings.Contains(p.Summary, tc.want) || !res.Changed {
				t.Fatalf("plan %+v res %+v err %v", p, res, err)
			}
			if shown := p.Summary + p.Diff + res.Msg; strings.Contains(shown, "s3cret") || strings.Contains(shown, "n3w") {
				t.Errorf("an env value was shown: %q", shown)
			}
			if cmds := strings.Join(h.Commands(), "\n"); !strings.Contains(cmds, "docker rm -f -- keepalived\ndocker run") {
				t.Fatalf("commands:\n%s", cmds)
			}
		})
	}
}
