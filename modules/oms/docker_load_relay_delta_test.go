package oms

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/omsrun/omsrun/internal/transport"
	"github.com/omsrun/omsrun/modules/modtest"
)

// An upgrade relays the missing layers: when the nodes lack the same
// layers, one partial archive crosses the control machine's link and the
// nodes pass it on; the image ID is checked on each afterwards. A node with
// none of the layers makes the chain carry the whole file; a node on which
// the relayed partial archive does not give the image gets the whole file
// from the control machine, not the partial archive again.
func TestDockerLoadRelaysTheMissingLayers(t *testing.T) {
	file, id, diffIDs := dkLayeredTarball(t, 400, 20)
	raw, _ := os.ReadFile(file)
	classic := `[["Backing Filesystem","extfs"]]` + "\n--\n"
	hasBase := classic + `["` + diffIDs[0] + `","sha256:other"]` + "\n"
	hosts := []string{"oms1", "oms2", "oms3"}
	for name, tc := range map[string]struct {
		layers   map[string]string // the layer listing's answer; hasBase when absent
		unloaded string            // the relayed load does not give it the image
		partial  bool              // the chain carries a partial archive
	}{
		"every node has the base":         {partial: true},
		"one node has nothing":            {layers: map[string]string{"oms3": classic}},
		"the partial load gives no image": {partial: true, unloaded: "oms2"},
	} {
		t.Run(name, func(t *testing.T) {
			nodes := map[string]*nodeHost{}
			r := runRelayStep(t, hosts, &DockerLoadArgs{File: file, RelayPort: freePort(t)}, 20*time.Second, func(host string) (*modtest.Host, transport.Host) {
				layers, ok := tc.layers[host]
				if !ok {
					layers = hasBase
				}
				fake := (&modtest.Host{}).On("uname -sm", 0, nativeUname()+"\n", "").
					Once("{{.Id}} {{json .RepoTags}}", 1, "", "Error: No such image: "+id+"\n")
				if host == tc.unloaded {
					fake.Once("{{.Id}} {{json .RepoTags}}", 1, "", "Error: No such image: "+id+"\n")
				}
				fake.On("{{.Id}} {{json .RepoTags}}", 0, id+` ["oms:2"]`+"\n", "").
					On("docker info", 0, layers, "").
					On("docker load", 0, "Loaded image: oms:2\n", "")
				nodes[host] = &nodeHost{Host: fake}
				return fake, nodes[host]
			})
			t.Logf("results %q; warnings %q", r.msgs, r.warns)
			first := nodes["oms1"].loaded()
			for _, h := range hosts {
				n := nodes[h]
				if got := n.loaded(); !bytes.Equal(got, first) {
					t.Errorf("%s loaded %d bytes, oms1 %d: want the same stream", h, len(got), len(first))
				}
				if h == tc.unloaded {
					if n.StdinN != int64(len(raw)) || len(r.warns[h]) != 1 || !strings.Contains(r.warns[h][0], "partial archive failed") {
						t.Errorf("%s: %d bytes from here (want the whole file, %d), warnings %q", h, n.StdinN, len(raw), r.warns[h])
					}
					continue
				}
				if n.StdinN != 0 || len(r.warns[h]) > 0 {
					t.Errorf("%s: %d bytes by its own session, warnings %q", h, n.StdinN, r.warns[h])
				}
				// A node fed by the one before it shows its progress as a
				// transfer from here would, up to the whole stream.
				if b := r.bytes[h]; h != "oms1" && (len(b) == 0 || b[len(b)-1][0] != int64(len(first)) || b[len(b)-1][1] < b[len(b)-1][0]) {
					t.Errorf("%s: progress %v, want it to end at the %d bytes it loaded", h, b, len(first))
				}
				if want := "(1 missing layers of 2)"; tc.partial != strings.Contains(r.msgs[h], want) {
					t.Errorf("%s: result %q, partial %v", h, r.msgs[h], tc.partial)
				}
			}
			if !tc.partial {
				if !bytes.Equal(first, raw) {
					t.Errorf("the chain carried %d bytes, want the whole file (%d)", len(first), len(raw))
				}
				return
			}
			// One partial archive: the manifest, the config and the
			// application layer, not the base the nodes share.
			names := tarNames(t, first)
			if len(first) > 30<<10 || names["base/layer.tar"] || !names["app/layer.tar"] || !names["manifest.json"] {
				t.Errorf("the chain carried %d bytes holding %v, want a partial archive", len(first), names)
			}
		})
	}
}

func tarNames(t *testing.T, gz []byte) map[string]bool {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	tr := tar.NewReader(zr)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return names
		}
		if err != nil {
			t.Fatal(err)
		}
		names[hdr.Name] = true
	}
}
