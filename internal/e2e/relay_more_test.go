package e2e

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/omsrun/omsrun/internal/lab/labtest"
	"github.com/omsrun/omsrun/internal/relay"
	"github.com/omsrun/omsrun/modules/oms"
)

// Parts of TestRelayE2E, each on the lab as TestRelayE2E leaves it.

// relayPortFiltered drops TCP to the last host's relay port (a firewall in
// its namespace). The link to it is found blocked before the transfer and
// the chain starts at that host instead: one copy through the uplink, and
// the run says why. With the first host's port dropped too, the chain
// cannot turn: the last host gets the file from the control machine. Both
// end well before the 30 s the nodes would listen for. The first host's
// port stays dropped: the caller checks that the lab's reset opens it.
func relayPortFiltered(t *testing.T, l *labtest.Lab, img string) {
	first, mid, last := l.Hosts[0], l.Hosts[1], l.Hosts[2]
	st, _ := os.Stat(img)
	want := last.Name + "'s relay port " + net.JoinHostPort(last.Address, strconv.Itoa(oms.DefaultRelayPort)) + " is not reachable from " + mid.Name
	// copies: of the file through the uplink; besides them the binaries
	// placed on the nodes (3 × 5.6 MB) and the SSH chatter.
	load := func(blocked string, copies int64, says ...string) {
		for _, h := range l.Hosts {
			l.Exec(t, h.Name, "docker images -qa | xargs -r docker rmi -f >/dev/null")
		}
		before := uplinkBytes(t)
		start := time.Now()
		r := omsrun(t, "exec", "-i", l.InventoryHCL, "all", "-m", "docker_load", "-a", "file="+img)
		took, up := time.Since(start), uplinkBytes(t)-before
		expectCode(t, r, 0)
		t.Logf("relay port dropped on %s: %s, %d bytes through the uplink for a %d-byte file\n%s", blocked, took.Round(time.Millisecond), up, st.Size(), r.stdout)
		for _, s := range append(says, want) {
			if !strings.Contains(r.stdout+r.stderr, s) {
				t.Errorf("the run does not say %q", s)
			}
		}
		if up > copies*st.Size()+30<<20 {
			t.Errorf("%d bytes through the uplink, want about %d copies of the file", up, copies)
		}
		if took > 20*time.Second {
			t.Errorf("took %s: the filtered port was waited for", took)
		}
		for _, h := range l.Hosts {
			if got := l.Exec(t, h.Name, "docker images -q | wc -l"); got == "0" {
				t.Errorf("%s has no image", h.Name)
			}
		}
	}
	l.BlockPort(t, last.Name, oms.DefaultRelayPort)
	load(last.Name, 1, "the chain starts at "+last.Name+" instead", "relayed from "+last.Name, "relayed from "+first.Name)
	l.BlockPort(t, first.Name, oms.DefaultRelayPort)
	load(first.Name+" and "+last.Name, 2, "sending from the control machine", "relayed from "+first.Name)
	// The first host's rule is left for the lab's reset to remove.
	l.UnblockPorts(t, last.Name)
	expectNoPortBlock(t, l, last.Name)
}

// expectNoPortBlock fails when a port-block fault's rule is on host.
func expectNoPortBlock(t *testing.T, l *labtest.Lab, host string) {
	t.Helper()
	if rules := l.Exec(t, host, "iptables -S INPUT | grep -c omslab-port-block || true"); rules != "0" {
		t.Errorf("%s: %s port-block rules left", host, rules)
	}
}

// relayCarriesOnlyImages runs a relay node on a lab host as the control
// machine would, with a secret the test holds, and sends it a shell script
// as a peer holding that secret: the node refuses it and loads nothing.
func relayCarriesOnlyImages(t *testing.T, l *labtest.Lab) {
	h := l.Hosts[0]
	images := l.Exec(t, h.Name, "docker images -qa | wc -l")
	bin, err := os.ReadFile(omsrunBin(t))
	if err != nil {
		t.Fatal(err)
	}
	secret, _ := relay.NewSecret()
	addr := net.JoinHostPort(h.Address, strconv.Itoa(oms.DefaultRelayPort))
	frame, err := relay.FrameConfig(relay.NodeConfig{Secret: secret, Listen: addr, Deadline: time.Now().Add(20 * time.Second), Idle: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// The node removes its own file as it starts: it runs from a copy.
	cmd, err := l.Command(ctx, h.Name, `d=$(mktemp -d /var/tmp/`+relay.DirPrefix+`XXXXXX) && head -c `+strconv.Itoa(len(bin))+` > "$d/omsrun" && chmod 700 "$d/omsrun" && exec "$d/omsrun" `+relay.NodeArg)
	if err != nil {
		t.Fatal(err)
	}
	hold, keep := io.Pipe() // the node's stdin stays open: the control machine is there
	defer keep.Close()
	cmd.Stdin = io.MultiReader(bytes.NewReader(bin), bytes.NewReader(frame), hold)
	// Wait would wait for the copy of a stdin that never ends.
	cmd.WaitDelay = 5 * time.Second
	stdout, _ := cmd.StdoutPipe()
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(stderr)
	for sc.Scan() && !strings.Contains(sc.Text(), relay.ListeningLine) {
	}
	go io.Copy(io.Discard, stderr)
	c, err := relay.Dial(addr, secret, 5*time.Second)
	if err != nil {
		t.Fatalf("the node does not take a peer with the secret: %v", err)
	}
	relay.Send(c, strings.NewReader("#!/bin/sh\ntouch /tmp/owned\n"+strings.Repeat("#", 8192)))
	c.Close()
	report, _ := io.ReadAll(stdout) // until the node ends
	keep.Close()
	cmd.Wait()
	t.Logf("the node's report: %s", strings.TrimSpace(string(report)))
	if !strings.Contains(string(report), "not a docker image archive") {
		t.Errorf("the node did not refuse a script: %q", report)
	}
	if got := l.Exec(t, h.Name, "docker images -qa | wc -l; ls /tmp/owned 2>/dev/null | wc -l"); got != images+"\n0" {
		t.Errorf("images and /tmp/owned on %s: %q, want %s and 0", h.Name, got, images)
	}
}

// relayMissingLayers upgrades the 3 hosts from v1 to v2: one partial
// archive of v2's changed layers crosses the control machine's link, not
// one per host, and every host then has v2's image ID.
func relayMissingLayers(t *testing.T, l *labtest.Lab) {
	v1, v2 := l.Images["v1"], l.Images["v2"]
	changed, _ := changedBytes(t, v1.Path, v2.Path)
	for _, h := range l.Hosts {
		l.Exec(t, h.Name, "docker images -qa | xargs -r docker rmi -f >/dev/null")
	}
	expectCode(t, omsrun(t, "exec", "-i", l.InventoryHCL, "all", "-m", "docker_load", "-a", "file="+v1.Path), 0)
	bins := gzSize(t, omsrunBin(t)) * int64(len(l.Hosts))
	before := uplinkBytes(t)
	r := omsrun(t, "exec", "-i", l.InventoryHCL, "all", "-m", "docker_load", "-a", "file="+v2.Path)
	up := uplinkBytes(t) - before
	expectCode(t, r, 0)
	t.Logf("v1 → v2 on %d hosts: %d bytes through the uplink, of which %d the gzipped binaries; changed layers %d\n%s", len(l.Hosts), up, bins, changed, r.stdout)
	if !strings.Contains(r.stdout, "missing layers of") || !strings.Contains(r.stdout, "relayed from") {
		t.Errorf("the upgrade did not relay a partial archive")
	}
	if img := up - bins; img > changed+changed/2+2<<20 {
		t.Errorf("%d bytes besides the binaries through the uplink, want about one partial archive (%d)", img, changed)
	}
	for _, h := range l.Hosts {
		if got := l.Exec(t, h.Name, "docker image inspect --format '{{.Id}}' "+v2.ID); got != v2.ID {
			t.Errorf("%s: %q, want %s", h.Name, got, v2.ID)
		}
	}
}

// gzSize is the size of file gzipped as the relay places it.
func gzSize(t *testing.T, file string) int64 {
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Write(raw)
	zw.Close()
	return int64(b.Len())
}

// startLoad starts docker_load of img on every host (keepalives every 2 s,
// so a cut host is found dead soon) and returns once host's link has moved
// n bytes of it.
func startLoad(t *testing.T, l *labtest.Lab, img, host string, n uint64) (*exec.Cmd, *bytes.Buffer) {
	t.Helper()
	before := l.VethBytes(t, host)
	cmd := exec.Command(omsrunBin(t), "exec", "-i", l.InventoryHCL, "all", "-m", "docker_load", "-a", "file="+img, "--ssh-keepalive", "2s")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for l.VethBytes(t, host)-before < n {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("the stream never reached %s:\n%s", host, out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	return cmd, &out
}
