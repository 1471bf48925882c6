package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/omsrun/omsrun/internal/lab/labtest"
)

// genericPlaybook uses file, template and container together on every lab
// host: a config folder, a file rendered into it, a link to it, and a
// container (the stand-in image's busybox) that mounts the folder.
const genericPlaybook = `
variable "image" { type = string }
variable "greeting" { type = string }

step "config folder" {
  hosts = "all"
  file {
    path  = "/data/e2e-generic/conf"
    state = "directory"
    mode  = "0750"
  }
}

step "config file" {
  hosts = "all"
  template {
    src  = "%s"
    dest = "/data/e2e-generic/conf/app.conf"
    mode = "0640"
    vars = { name = host.name, peers = [for h in hosts.oms : h.address] }
  }
}

step "current link" {
  hosts = "all"
  file {
    path  = "/data/e2e-generic/current"
    state = "link"
    src   = "/data/e2e-generic/conf"
  }
}

step "container" {
  hosts = "all"
  container {
    name    = "e2e-generic"
    image   = var.image
    env     = { GREETING = var.greeting }
    mounts  = ["/data/e2e-generic/conf:/conf:ro"]
    # The lab's dockerd has no bridge network: host, as OMS itself runs.
    network = "host"
    cap_add = ["NET_ADMIN"]
    command = ["sh", "-c", "echo $GREETING; cat /conf/app.conf; exec sleep 3600"]
  }
}
`

// TestGenericModules: file, template and container converge on the lab's
// real sshd and dockerd (a second run changes nothing; a changed value
// recreates the container), and fetch brings a file and a log's tail back
// from every host into a folder per host, over SFTP for the whole file.
func TestGenericModules(t *testing.T) {
	l := labtest.Require(t)
	l.Reset(t)
	for _, h := range l.Hosts {
		l.MustLoadImage(t, h.Name, "v1")
	}
	dir := t.TempDir()
	tpl := filepath.Join(dir, "app.conf.tpl")
	os.WriteFile(tpl, []byte("node ${name}\n%{ for p in peers ~}\npeer ${p}\n%{ endfor ~}\n"), 0o644)
	pb := filepath.Join(dir, "generic.hcl")
	os.WriteFile(pb, []byte(fmt.Sprintf(genericPlaybook, tpl)), 0o644)
	img := l.Images["v1"].ID
	run := func(greeting string, extra ...string) cliResult {
		args := append([]string{pb, "-i", l.InventoryHCL, "-e", "image=" + img, "-e", "greeting=" + greeting, "--json"}, extra...)
		return omsrun(t, args...)
	}
	t.Cleanup(func() {
		for _, h := range l.Hosts {
			l.Exec(t, h.Name, "docker rm -f e2e-generic >/dev/null 2>&1; rm -rf /data/e2e-generic")
		}
	})

	// Check mode reads and promises, and changes nothing.
	r := run("hello", "--check")
	expectCode(t, r, 0)
	if got := l.Exec(t, l.Hosts[0].Name, "ls /data/e2e-generic 2>&1 || true; docker ps -aq --filter name=e2e-generic"); strings.Contains(got, "conf") {
		t.Fatalf("check mode changed the host: %s", got)
	}
	r = run("hello")
	expectCode(t, r, 0)
	if n := recapChanged(t, r.stdout); n != 4*len(l.Hosts) {
		t.Fatalf("first run changed %d, want %d:\n%s", n, 4*len(l.Hosts), r.stdout)
	}
	for _, h := range l.Hosts {
		logs := l.Exec(t, h.Name, "sleep 1; docker logs e2e-generic")
		if !strings.HasPrefix(logs, "hello\nnode "+h.Name+"\npeer ") {
			t.Errorf("%s: container saw %q", h.Name, logs)
		}
		if got := l.Exec(t, h.Name, "stat -c %a /data/e2e-generic/conf; readlink /data/e2e-generic/current; docker inspect -f '{{.HostConfig.RestartPolicy.Name}} {{.HostConfig.CapAdd}}' e2e-generic"); got != "750\n/data/e2e-generic/conf\nunless-stopped [CAP_NET_ADMIN]" && got != "750\n/data/e2e-generic/conf\nunless-stopped [NET_ADMIN]" {
			t.Errorf("%s: %q", h.Name, got)
		}
	}
	id := l.Exec(t, l.Hosts[0].Name, "docker inspect -f '{{.Id}}' e2e-generic")
	r = run("hello")
	expectCode(t, r, 0)
	if n := recapChanged(t, r.stdout); n != 0 {
		t.Fatalf("second run changed %d:\n%s", n, r.stdout)
	}
	// A changed environment value recreates the container, and is not printed.
	r = run("changed-secret-value", "--diff")
	expectCode(t, r, 0)
	if n := recapChanged(t, r.stdout); n != len(l.Hosts) {
		t.Fatalf("env change changed %d:\n%s", n, r.stdout)
	}
	if strings.Contains(r.stdout+r.stderr, "changed-secret-value") {
		t.Errorf("an env value was printed:\n%s", r.stdout)
	}
	if id2 := l.Exec(t, l.Hosts[0].Name, "docker inspect -f '{{.Id}}' e2e-generic"); id2 == id {
		t.Error("the container was not recreated")
	}

	// fetch: the whole file over SFTP, then the tail of a log.
	bundle := filepath.Join(dir, "bundle")
	r = omsrun(t, "exec", "-i", l.InventoryHCL, "all", "-m", "fetch", "-a", "src=/data/e2e-generic/conf/app.conf dest="+bundle+"/")
	expectCode(t, r, 0)
	if !strings.Contains(r.stdout, "sftp") {
		t.Errorf("whole file not fetched over sftp:\n%s", r.stdout)
	}
	for _, h := range l.Hosts {
		b, err := os.ReadFile(filepath.Join(bundle, h.Name, "app.conf"))
		if err != nil || !strings.HasPrefix(string(b), "node "+h.Name+"\n") {
			t.Errorf("%s: fetched %q %v", h.Name, b, err)
		}
		l.Exec(t, h.Name, "seq 1 1000 > /data/e2e-generic/app.log")
	}
	r = omsrun(t, "exec", "-i", l.InventoryHCL, "all", "-m", "fetch", "-a", "src=/data/e2e-generic/app.log dest="+bundle+" tail=3")
	expectCode(t, r, 0)
	for _, h := range l.Hosts {
		if b, err := os.ReadFile(filepath.Join(bundle, h.Name, "app.log.tail")); err != nil || string(b) != "998\n999\n1000\n" {
			t.Errorf("%s: tail %q %v", h.Name, b, err)
		}
	}
	// Nothing new: nothing fetched.
	r = omsrun(t, "exec", "-i", l.InventoryHCL, "all", "-m", "fetch", "-a", "src=/data/e2e-generic/app.log dest="+bundle+" tail=3", "--json")
	expectCode(t, r, 0)
	if n := recapChanged(t, r.stdout); n != 0 {
		t.Errorf("re-fetch changed %d:\n%s", n, r.stdout)
	}
}
