package oms

import (
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/omsrun/omsrun/internal/dockerarchive"
	"github.com/omsrun/omsrun/modules"
	"github.com/omsrun/omsrun/modules/modtest"
)

// A node whose `uname -sm` is not the platform omsrun here was built for
// cannot run the relay there: it gets the whole file from the control
// machine, as without the relay, and its result and a warning say why. A
// node that matches is never made to wait on one that does not.
func TestDockerLoadRelayPlatformMismatch(t *testing.T) {
	file, id := dkImageTarball(t, "oms:x", 300)
	st, _ := os.Stat(file)
	native := map[string]string{"amd64": "Linux x86_64", "arm64": "Linux aarch64"}[runtime.GOARCH]
	if runtime.GOOS != "linux" || native == "" {
		t.Skip("the relay runs only from linux/amd64 or linux/arm64") // the fallback above covers the rest
	}
	otherArch := "Linux aarch64"
	if runtime.GOARCH == "arm64" {
		otherArch = "Linux x86_64"
	}
	for name, uname := range map[string]map[string]string{
		"another architecture": {"oms1": otherArch, "oms2": otherArch},
		"another OS":           {"oms1": "Darwin arm64", "oms2": "FreeBSD amd64"},
		"one node foreign":     {"oms1": native, "oms2": otherArch},
	} {
		t.Run(name, func(t *testing.T) {
			hosts := []string{"oms1", "oms2"}
			g := modules.NewGroup(hosts)
			m := &DockerLoad{archives: dockerarchive.NewCache("")}
			fakes := map[string]*modtest.Host{}
			msgs := map[string]string{}
			warns := map[string][]string{}
			var mu sync.Mutex
			var wg sync.WaitGroup
			for i, host := range hosts {
				h := (&modtest.Host{}).
					On("uname -sm", 0, uname[host]+"\n", "").
					Once("docker image inspect", 1, "", "Error: No such image: "+id+"\n").
					On("docker image inspect", 0, id+` ["oms:x"]`+"\n", "").
					On("docker load", 0, "Loaded image: oms:x\n", "")
				fakes[host] = h
				env, rep := modtest.NewEnv(h)
				env.HostName, env.Address, env.Group = host, "10.0.0.1"+string(rune('1'+i)), g
				wg.Add(1)
				go func() {
					defer wg.Done()
					defer g.Finish(host)
					_, res, err := modtest.RunBoth(t, m, env, &DockerLoadArgs{File: file})
					mu.Lock()
					defer mu.Unlock()
					if err != nil {
						t.Errorf("%s: %v", host, err)
						return
					}
					msgs[host] = res.Msg
					warns[host] = rep.Warns
				}()
			}
			done := make(chan struct{})
			go func() { wg.Wait(); close(done) }()
			select {
			case <-done:
			case <-time.After(20 * time.Second):
				// The fake host cannot run a relay node: a chain started on
				// it waits for ever.
				t.Fatal("docker_load did not return: a relay chain was started")
			}
			for _, host := range hosts {
				h := fakes[host]
				if h.StdinN != st.Size() {
					t.Errorf("%s: %d bytes from the control machine, want the whole file (%d)", host, h.StdinN, st.Size())
				}
				if h.Ran("omsrun relay node") {
					t.Errorf("%s: a relay node was started", host)
				}
				if uname[host] == native {
					if strings.Contains(msgs[host], "relay") || len(warns[host]) > 0 {
						t.Errorf("%s matches, yet: %q, warnings %q", host, msgs[host], warns[host])
					}
					continue
				}
				why := "the node is " + uname[host] + ", omsrun here is " + runtime.GOOS + "/" + runtime.GOARCH
				if !strings.Contains(msgs[host], why) || !strings.Contains(msgs[host], "sent") {
					t.Errorf("%s: result %q does not say %q", host, msgs[host], why)
				}
				if len(warns[host]) != 1 || !strings.Contains(warns[host][0], why) {
					t.Errorf("%s: warnings %q", host, warns[host])
				}
			}
		})
	}
}
