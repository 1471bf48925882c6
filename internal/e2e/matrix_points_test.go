package e2e

import (
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/omsrun/omsrun/internal/lab"
)

// Where the interruption matrix's signals go (matrixRows).

// matrixPoint is where the signal goes: the --json event that triggers it,
// and for a point inside a long step whose progress no event shows, what
// must then be seen under way on the lab.
type matrixPoint struct {
	event func(m *matrix, ev map[string]any) bool
	// underWay, when set, is polled on the lab from the event on; the
	// signal goes the moment it holds. landed then says, once the
	// interrupted run has ended, why the signal did not come before the
	// step's work was done ("" when it did).
	underWay func(m *matrix) bool
	landed   func(m *matrix) string
}

func before(step string) matrixPoint {
	return matrixPoint{event: func(_ *matrix, ev map[string]any) bool { return ev["type"] == "step_start" && ev["step"] == step }}
}

func afterHost(step string) matrixPoint {
	return matrixPoint{event: func(_ *matrix, ev map[string]any) bool { return ev["type"] == "host_result" && ev["step"] == step }}
}

// during fires on a command's event, which comes when the command has
// ended: the step's long part is under way on the other hosts, or, on a
// single host, just done. loading is the point inside a transfer itself.
func during(step, text string) matrixPoint {
	return matrixPoint{event: func(_ *matrix, ev map[string]any) bool {
		line, _, _ := strings.Cut(fmt.Sprint(ev["log"]), "\n")
		return ev["type"] == "command" && ev["step"] == step && strings.Contains(line, text)
	}}
}

// loading is the point inside the transfer to the lab's host-th host:
// from the step's step_start the host is watched until its docker load has
// read part of the image (the stream is in flight: docker load's input is
// only closed once the whole stream arrived, so it cannot have finished).
// No event marks that moment: on a scale-out the bytes go from a node to
// the new one, past the control machine. landed then checks that the new
// host has no image, i.e. the signal cut the load rather than followed it.
func loading(step string, host int) matrixPoint {
	// The stream is docker save's tar of the image: about the lab's
	// tarball once decompressed.
	size := func(m *matrix) int64 {
		m.streamOnce.Do(func() { m.stream = tarSize(m.t, m.l.ImagePath("")) })
		return m.stream
	}
	return matrixPoint{
		event: before(step).event,
		underWay: func(m *matrix) bool {
			n := dockerLoadRead(m.l.Hosts[host].Name)
			// Past 90% of the stream the signal could come after its end.
			if n <= 256<<10 || n > size(m)*9/10 {
				return false
			}
			m.t.Logf("signal: %s's docker load has read %d of about %d bytes", m.l.Hosts[host].Name, n, size(m))
			return true
		},
		landed: func(m *matrix) string { return imageAbsent(m, host) },
	}
}

// relayed is the point inside a relayed transfer to the lab's host-th host:
// the step's first progress event for that host, which its relay node
// sends with the first bytes it received from the node before it, short of
// the whole stream. landed then checks that the host has no image: the
// signal cut the transfer rather than followed it.
func relayed(step string, host int) matrixPoint {
	return matrixPoint{
		event: func(m *matrix, ev map[string]any) bool {
			done, _ := ev["done"].(float64)
			total, _ := ev["total"].(float64)
			if ev["type"] != "progress" || ev["step"] != step || ev["host"] != m.l.Hosts[host].Name || done <= 0 || done >= total {
				return false
			}
			m.t.Logf("signal: %s has received %.0f of about %.0f bytes from the node before it", ev["host"], done, total)
			return true
		},
		landed: func(m *matrix) string { return imageAbsent(m, host) },
	}
}

// imageAbsent says why the signal was too late when the lab's host-th host
// has the image: its docker load had finished.
func imageAbsent(m *matrix, host int) string {
	h, id := m.l.Hosts[host].Name, m.l.Images["v1"].ID
	if m.l.Exec(m.t, h, "docker image inspect -f present "+id+" 2>/dev/null || true") != "" {
		return h + " has the image: its docker load had finished"
	}
	return ""
}

// dockerLoadRead is how many bytes the host's docker load has read, 0
// when none runs. The lab's hosts share this machine's process table, so
// it is read here, without entering the host, fast enough to catch a
// transfer of a second: a process is the host's when it is in the host's
// network namespace.
func dockerLoadRead(host string) int64 {
	st, err := os.Stat("/run/netns/" + lab.Host{Name: host}.Netns())
	if err != nil {
		return 0
	}
	netns := fmt.Sprintf("net:[%d]", st.Sys().(*syscall.Stat_t).Ino)
	procs, _ := os.ReadDir("/proc")
	var most int64
	for _, p := range procs {
		dir := "/proc/" + p.Name()
		if comm, _ := os.ReadFile(dir + "/comm"); string(comm) != "docker\n" {
			continue
		}
		if argv, _ := os.ReadFile(dir + "/cmdline"); string(argv) != "docker\x00load\x00" {
			continue
		}
		if ns, _ := os.Readlink(dir + "/ns/net"); ns != netns {
			continue
		}
		stats, _ := os.ReadFile(dir + "/io")
		for _, line := range strings.Split(string(stats), "\n") {
			if v, ok := strings.CutPrefix(line, "rchar: "); ok {
				n, _ := strconv.ParseInt(v, 10, 64)
				most = max(most, n)
			}
		}
	}
	return most
}

// tarSize is the size of the gzipped file once decompressed.
func tarSize(t *testing.T, path string) int64 {
	f, err := os.Open(path)
	if err != nil {
		t.Error(err)
		return 0
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Error(err)
		return 0
	}
	n, err := io.Copy(io.Discard, zr)
	if err != nil {
		t.Error(err)
	}
	return n
}
