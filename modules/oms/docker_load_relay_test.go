package oms

import (
	"os"
	"strings"
	"testing"

	"github.com/omsrun/omsrun/internal/dockerarchive"
	"github.com/omsrun/omsrun/modules"
	"github.com/omsrun/omsrun/modules/modtest"
)

// A single host, or relay = false, loads exactly as without the relay: the
// whole file into its own docker load, no node placed, nothing else run.
func TestDockerLoadWithoutRelayIsUnchanged(t *testing.T) {
	file, id := dkImageTarball(t, "oms:x", 300)
	st, _ := os.Stat(file)
	off := false
	for name, tc := range map[string]struct {
		hosts []string
		args  DockerLoadArgs
	}{
		"one host":           {[]string{"oms1"}, DockerLoadArgs{File: file}},
		"relay off, 2 hosts": {[]string{"oms1", "oms2"}, DockerLoadArgs{File: file, Relay: &off}},
		"relay off, 1 host":  {[]string{"oms1"}, DockerLoadArgs{File: file, Relay: &off}},
		"keep_file, 2 hosts": {[]string{"oms1", "oms2"}, DockerLoadArgs{File: file, KeepFile: true}},
	} {
		t.Run(name, func(t *testing.T) {
			g := modules.NewGroup(tc.hosts)
			for _, host := range tc.hosts {
				h := (&modtest.Host{}).
					Once("docker image inspect", 1, "", "Error: No such image: "+id+"\n").
					On("docker image inspect", 0, id+` ["oms:x"]`+"\n", "").
					On("docker load", 0, "Loaded image: oms:x\n", "")
				env, _ := modtest.NewEnv(h)
				env.HostName, env.Address, env.Group = host, "10.0.0.1", g
				m := &DockerLoad{archives: dockerarchive.NewCache("")}
				if _, _, err := modtest.RunBoth(t, m, env, &tc.args); err != nil {
					t.Fatal(err)
				}
				g.Finish(host)
				if h.StdinN != st.Size() {
					t.Errorf("%s: sent %d of %d bytes", host, h.StdinN, st.Size())
				}
				for _, c := range h.Commands() {
					if strings.Contains(c, "relay") || strings.Contains(c, "uname") {
						t.Errorf("%s ran %q", host, c)
					}
				}
			}
		})
	}
}
