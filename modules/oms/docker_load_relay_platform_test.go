package oms

import (
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/omsrun/omsrun/internal/transport"
	"github.com/omsrun/omsrun/modules/modtest"
)

// A node whose `uname -sm` is not the platform omsrun here was built for
// cannot run the relay there: it gets the whole file from the control
// machine, as without the relay, and its result and a warning say why. A
// node that matches is never made to wait on one that does not.
func TestDockerLoadRelayPlatformMismatch(t *testing.T) {
	file, id := dkImageTarball(t, "oms:x", 300)
	st, _ := os.Stat(file)
	native := nativeUname()
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
			fakes := map[string]*modtest.Host{}
			// The fake host cannot run a relay node: a chain started on it
			// would wait for ever.
			r := runRelayStep(t, []string{"oms1", "oms2"}, &DockerLoadArgs{File: file}, 20*time.Second, func(host string) (*modtest.Host, transport.Host) {
				fakes[host] = relayFake(id, uname[host])
				return fakes[host], fakes[host]
			})
			for host, h := range fakes {
				if h.StdinN != st.Size() {
					t.Errorf("%s: %d bytes from the control machine, want the whole file (%d)", host, h.StdinN, st.Size())
				}
				if h.Ran("omsrun relay node") {
					t.Errorf("%s: a relay node was started", host)
				}
				if uname[host] == native {
					if strings.Contains(r.msgs[host], "relay") || len(r.warns[host]) > 0 {
						t.Errorf("%s matches, yet: %q, warnings %q", host, r.msgs[host], r.warns[host])
					}
					continue
				}
				why := "the node is " + uname[host] + ", omsrun here is " + runtime.GOOS + "/" + runtime.GOARCH
				if !strings.Contains(r.msgs[host], why) || !strings.Contains(r.msgs[host], "sent") {
					t.Errorf("%s: result %q does not say %q", host, r.msgs[host], why)
				}
				if len(r.warns[host]) != 1 || !strings.Contains(r.warns[host][0], why) {
					t.Errorf("%s: warnings %q", host, r.warns[host])
				}
			}
		})
	}
}
