package oms

import (
	"bytes"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/omsrun/omsrun/internal/transport"
	"github.com/omsrun/omsrun/modules/modtest"
)

// A relay port that cannot be reached is given up at once, not after the
// 30 s listen deadline: found before the transfer when the probe from the
// node before gets no answer (a firewall's drop), or at run time when that
// node cannot connect (a reject). One blocked link turns the chain to start
// behind it (still one copy from the control machine); when that cannot
// be, only the part of the chain after the blocked link is served from the
// control machine. Only the node behind the blocked link is warned about.
func TestDockerLoadRelayPortFiltered(t *testing.T) {
	defer func(i, p time.Duration) { relayIdle, relayProbeWait = i, p }(relayIdle, relayProbeWait)
	relayIdle, relayProbeWait = time.Second, 500*time.Millisecond
	if relayWait < 20*time.Second {
		t.Fatalf("relayWait is %s: the test tells a quick fallback from the listen deadline", relayWait)
	}
	file, id := dkImageTarball(t, "oms:x", 300)
	raw, _ := os.ReadFile(file)
	hosts := []string{"oms1", "oms2", "oms3"}
	for name, tc := range map[string]struct {
		hidden   string   // listens elsewhere: connecting to it is refused
		filtered []string // a probe to it gets no answer
		direct   string   // sent the file as without the relay
		alone    string   // the control machine sends it the file after the relay gave it up
		head     string   // a chain after the cut starts here
		warn     string
	}{
		"the last port filtered: the chain starts there": {hidden: "oms3", filtered: []string{"oms3"}, head: "oms3",
			warn: "oms3's relay port 127.0.0.3:"},
		"the last port refused at run time": {hidden: "oms3", alone: "oms3",
			warn: "oms3's relay port 127.0.0.3:"},
		"the middle port filtered, the first's too: the chain is cut": {filtered: []string{"oms2", "oms1"}, direct: "oms1", head: "oms2",
			warn: "its chain starts here"},
	} {
		t.Run(name, func(t *testing.T) {
			addr := map[string]string{"oms1": "127.0.0.1", "oms2": "127.0.0.2", "oms3": "127.0.0.3"}
			port := freePort(t)
			filtered := map[string]bool{}
			for _, h := range tc.filtered {
				filtered[net.JoinHostPort(addr[h], strconv.Itoa(port))] = true
			}
			nodes := map[string]*nodeHost{}
			r := runRelayStep(t, hosts, &DockerLoadArgs{File: file, RelayPort: port}, 25*time.Second, func(host string) (*modtest.Host, transport.Host) {
				fake := relayFake(id, nativeUname())
				nodes[host] = &nodeHost{Host: fake, hidden: host == tc.hidden, filtered: filtered}
				return fake, nodes[host]
			})
			t.Logf("took %s; results %q; warnings %q", r.took.Round(time.Millisecond), r.msgs, r.warns)
			if r.took > 10*time.Second {
				t.Errorf("took %s: the blocked port was not given up at once", r.took)
			}
			for _, h := range hosts {
				n := nodes[h]
				fromHere := n.StdinN == int64(len(raw))
				relayed := bytes.Equal(n.loaded(), raw)
				switch h {
				case tc.direct:
					if !fromHere || relayed || len(r.warns[h]) > 0 || n.Ran("omsrun relay node") {
						t.Errorf("%s: want the file from here as without the relay (from here %v, relayed %v, warnings %q)", h, fromHere, relayed, r.warns[h])
					}
				case tc.alone:
					if !fromHere || relayed {
						t.Errorf("%s: want the whole file from the control machine only (from here %v, relayed %v)", h, fromHere, relayed)
					}
					if len(r.warns[h]) != 1 || !strings.Contains(r.warns[h][0], tc.warn) || !strings.Contains(r.warns[h][0], "sending from the control machine") {
						t.Errorf("%s: warnings %q, want one saying %q", h, r.warns[h], tc.warn)
					}
					if !strings.HasPrefix(r.msgs[h], "relay: ") {
						t.Errorf("%s: result %q does not say why it was sent from here", h, r.msgs[h])
					}
					if tc.hidden == h && len(tc.filtered) > 0 && n.Ran("omsrun relay node") {
						t.Errorf("%s: a relay node was started on a port known to be filtered", h)
					}
				default:
					if !relayed || n.StdinN != 0 {
						t.Errorf("%s: relayed %d of %d bytes, %d by its own session", h, len(n.loaded()), len(raw), n.StdinN)
					}
					if h == tc.head {
						if len(r.warns[h]) != 1 || !strings.Contains(r.warns[h][0], tc.warn) || !strings.Contains(r.msgs[h], "once from here") {
							t.Errorf("%s: warnings %q, result %q: want it said that its chain starts here", h, r.warns[h], r.msgs[h])
						}
					} else if len(r.warns[h]) > 0 {
						t.Errorf("%s is warned about: %q", h, r.warns[h])
					}
				}
			}
		})
	}
}
