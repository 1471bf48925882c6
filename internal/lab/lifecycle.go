package lab

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// Up brings the lab up from whatever state the machine is in. .lab/env is
// written last, so its presence means every host and service answered.
func Up(o Options, log io.Writer) error {
	start := time.Now()
	step := func(what string) { fmt.Fprintf(log, "[%5.1fs] %s\n", time.Since(start).Seconds(), what) }
	labDir := filepath.Join(o.Repo, ".lab")
	if err := os.MkdirAll(labDir, 0o755); err != nil {
		return err
	}
	os.Remove(filepath.Join(labDir, EnvFile))
	step("checking packages")
	if err := EnsureDeps(log); err != nil {
		return err
	}
	step("clearing leftovers")
	if err := Down(o.Repo, io.Discard); err != nil {
		return fmt.Errorf("clear an earlier lab: %w", err)
	}
	for _, d := range []string{RunDir, "/data", "/var/lib/docker", filepath.Join(labDir, "images")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	hosts := Hosts(o.Hosts)
	step("keys, users and images")
	if err := ensureLabKey(); err != nil {
		return err
	}
	if err := ensureUsers(); err != nil {
		return err
	}
	if err := forEach(hosts, 8, ensureHostKeys); err != nil {
		return err
	}
	imgs, err := buildImages(o, labDir)
	if err != nil {
		return err
	}
	runtime, err := writeRuntimeWrapper()
	if err != nil {
		return err
	}
	if err := writeHostsFile(hosts); err != nil {
		return err
	}
	step("network")
	if err := setupBridge(o.Regions); err != nil {
		return err
	}
	if err := forEach(hosts, 8, func(h Host) error {
		if err := setupHostNet(h); err != nil {
			return err
		}
		if err := writeHostFiles(h, o, runtime); err != nil {
			return err
		}
		return bootHost(h)
	}); err != nil {
		return err
	}
	step("MetaDB and TSDB (hosts booting meanwhile)")
	for _, p := range []struct {
		port    int
		service string
	}{{MetaPort, "mariadb"}, {TSDBPort, "influxdb"}, {8088, "haproxy"}, {8089, "haproxy"}} {
		if err := freePort(p.port, p.service, log); err != nil {
			return err
		}
	}
	if err := StartMariaDB(); err != nil {
		return err
	}
	if err := setupMetaUser(); err != nil {
		return err
	}
	if err := startInflux(); err != nil {
		return err
	}
	step("VIP")
	if err := startHAProxy(hosts, o.Regions); err != nil {
		return err
	}
	step("waiting for hosts")
	// Booting is CPU-bound (each dockerd starts its own containerd), so the
	// wait grows with the number of hosts.
	wait := 60*time.Second + time.Duration(len(hosts))*2*time.Second
	if err := forEach(hosts, len(hosts), func(h Host) error { return waitHost(h, wait) }); err != nil {
		return err
	}
	if err := writeFacts(o, labDir, hosts, imgs); err != nil {
		return err
	}
	vips := VIP
	if o.Regions > 1 {
		vips += " and " + VIP2 + " (region 2)"
	}
	step(fmt.Sprintf("lab up: %d hosts, VIP %s, facts in %s", len(hosts), vips, filepath.Join(labDir, EnvFile)))
	return nil
}

// forEach runs fn for every host, at most limit at a time, and joins the errors.
func forEach(hosts []Host, limit int, fn func(Host) error) error {
	sem := make(chan struct{}, max(limit, 1))
	var mu sync.Mutex
	var errs []error
	var wg sync.WaitGroup
	for _, h := range hosts {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if err := fn(h); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// Lock takes the lab's exclusive lock (held until the returned func runs),
// so that concurrent omslab commands that change the lab run one at a time.
func Lock() (func(), error) {
	if err := os.MkdirAll(StateDir, 0o755); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(filepath.Join(StateDir, "lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock the lab: %w", err)
	}
	return func() { f.Close() }, nil
}

// RefreshImages rebuilds the stand-in images and, when the lab is up,
// rewrites its facts (the image IDs in .lab/env) without touching hosts.
func RefreshImages(o Options) error {
	labDir := filepath.Join(o.Repo, ".lab")
	if err := os.MkdirAll(filepath.Join(labDir, "images"), 0o755); err != nil {
		return err
	}
	imgs, err := buildImages(o, labDir)
	if err != nil {
		return err
	}
	env, err := ReadEnv(filepath.Join(labDir, EnvFile))
	if err != nil {
		return nil // lab down: the images are all there is to refresh
	}
	n, _ := strconv.Atoi(env["LAB_HOST_COUNT"])
	o.Docker = env["LAB_DOCKER"] == "1"
	o.Regions = labRegions(env)
	return writeFacts(o, labDir, Hosts(n), imgs)
}
