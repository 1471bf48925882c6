package oms

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/omsrun/omsrun/internal/dockerarchive"
	"github.com/omsrun/omsrun/internal/textx"
	"github.com/omsrun/omsrun/modules/modtest"
)

// dkLayeredTarball writes an image of a base layer and an application layer
// (both incompressible) whose config lists their diff IDs.
func dkLayeredTarball(t *testing.T, baseKB, appKB int) (file, id string, diffIDs []string) {
	t.Helper()
	layers := [][]byte{make([]byte, baseKB<<10), make([]byte, appKB<<10)}
	for _, l := range layers {
		rand.Read(l)
		sum := sha256.Sum256(l)
		diffIDs = append(diffIDs, "sha256:"+hex.EncodeToString(sum[:]))
	}
	config := []byte(fmt.Sprintf(`{"os":"linux","rootfs":{"type":"layers","diff_ids":["%s","%s"]}}`, diffIDs[0], diffIDs[1]))
	sum := sha256.Sum256(config)
	hexID := hex.EncodeToString(sum[:])
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, e := range []struct {
		name string
		data []byte
	}{
		{"manifest.json", []byte(`[{"Config":"` + hexID + `.json","RepoTags":["oms:2"],"Layers":["base/layer.tar","app/layer.tar"]}]`)},
		{hexID + ".json", config}, {"base/layer.tar", layers[0]}, {"app/layer.tar", layers[1]},
	} {
		tw.WriteHeader(&tar.Header{Name: e.name, Mode: 0o644, Size: int64(len(e.data)), Typeflag: tar.TypeReg})
		tw.Write(e.data)
	}
	tw.Close()
	zw.Close()
	file = filepath.Join(t.TempDir(), "oms.tar.gz")
	if err := os.WriteFile(file, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return file, "sha256:" + hexID, diffIDs
}

func TestDockerLoadSendsOnlyMissingLayers(t *testing.T) {
	file, id, diffIDs := dkLayeredTarball(t, 400, 20)
	st, _ := os.Stat(file)
	classic := `[["Backing Filesystem","extfs"],["Supports d_type","true"]]` + "\n--\n"
	hasBase := classic + `["` + diffIDs[0] + `","sha256:other"]` + "\n"
	present := id + ` ["oms:2"]` + "\n"
	cases := []struct {
		name      string
		layers    string // answer to the layer listing
		loads     []int  // exit codes of successive docker loads
		inspect   []string
		wantPlan  string
		wantSent  func(n int64) bool
		wantWarn  string
		wantLoads int
	}{
		{
			name: "base present: only the application layer goes", layers: hasBase, loads: []int{0},
			inspect:  []string{"", present},
			wantPlan: "send 1 missing layers of 2", wantLoads: 1,
			wantSent: func(n int64) bool { return n > 20<<10 && n < 30<<10 },
		},
		{
			name: "no layer in common: the file as it is", layers: classic + `["sha256:x"]` + "\n", loads: []int{0},
			inspect:  []string{"", present},
			wantPlan: "send " + textx.HumanBytes(st.Size()), wantLoads: 1,
			wantSent: func(n int64) bool { return n == st.Size() },
		},
		{
			name: "partial load refused: the whole file follows", layers: hasBase, loads: []int{1, 0},
			inspect:  []string{"", present},
			wantPlan: "1 missing layers", wantWarn: "partial archive failed", wantLoads: 2,
			wantSent: func(n int64) bool { return n > st.Size() && n < st.Size()+30<<10 },
		},
		{
			name: "partial load without the manifest's image ID: the whole file follows", layers: hasBase, loads: []int{0, 0},
			inspect:  []string{"", "", present},
			wantPlan: "1 missing layers", wantWarn: "is not on the host", wantLoads: 2,
			wantSent: func(n int64) bool { return n > st.Size() },
		},
		{
			name:   "containerd image store: the whole file, and why",
			layers: `[["driver-type","io.containerd.snapshotter.v1"]]` + "\n--\n" + `["` + diffIDs[0] + `"]` + "\n", loads: []int{0},
			inspect:  []string{"", present},
			wantPlan: "containerd image store", wantLoads: 1,
			wantSent: func(n int64) bool { return n == st.Size() },
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := &modtest.Host{}
			for _, ans := range tc.inspect {
				if ans == "" {
					h.Once("{{.Id}} {{json .RepoTags}}", 1, "", "Error: No such image: "+id+"\n")
				} else {
					h.Once("{{.Id}} {{json .RepoTags}}", 0, ans, "")
				}
			}
			h.On("docker info", 0, tc.layers, "")
			for _, rc := range tc.loads {
				if rc == 0 {
					h.Once("docker load", 0, "Loaded image: oms:2\n", "")
				} else {
					h.Once("docker load", rc, "", "open /var/lib/docker/tmp/docker-import-1/base/layer.tar: no such file or directory\n")
				}
			}
			env, rep := modtest.NewEnv(h)
			m := &DockerLoad{archives: dockerarchive.NewCache("")}
			args := &DockerLoadArgs{File: file}
			if err := m.Validate(args); err != nil {
				t.Fatal(err)
			}
			plan, res, err := modtest.RunBoth(t, m, env, args)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(plan.Summary, tc.wantPlan) {
				t.Errorf("plan %q lacks %q", plan.Summary, tc.wantPlan)
			}
			if !tc.wantSent(h.StdinN) {
				t.Errorf("sent %d bytes (file %d)", h.StdinN, st.Size())
			}
			loads := 0
			for _, c := range h.Commands() {
				if strings.HasPrefix(c, "docker load") {
					loads++
				}
			}
			if loads != tc.wantLoads {
				t.Errorf("%d docker loads, want %d: %q", loads, tc.wantLoads, h.Commands())
			}
			warns := strings.Join(rep.Warns, "|")
			if tc.wantWarn == "" && warns != "" || !strings.Contains(warns, tc.wantWarn) || !strings.Contains(res.Msg, tc.wantWarn) {
				t.Errorf("warnings %q, message %q; want %q in both", warns, res.Msg, tc.wantWarn)
			}
			if got := res.Outputs["bytes_sent"].AsBigFloat().String(); got != fmt.Sprint(h.StdinN) {
				t.Errorf("bytes_sent %s, stdin took %d", got, h.StdinN)
			}
		})
	}
}

// A host that shares only a small base gets the file as it is: rebuilding
// the archive would cost more than it saves.
func TestDockerLoadSmallSharedBaseSendsTheFile(t *testing.T) {
	file, id, diffIDs := dkLayeredTarball(t, 20, 400)
	st, _ := os.Stat(file)
	h := (&modtest.Host{}).Once("{{.Id}} {{json .RepoTags}}", 1, "", "Error: No such image: "+id+"\n").
		Once("{{.Id}} {{json .RepoTags}}", 0, id+` ["oms:2"]`+"\n", "").
		On("docker info", 0, `[]`+"\n--\n"+`["`+diffIDs[0]+`"]`+"\n", "").
		On("docker load", 0, "Loaded image: oms:2\n", "")
	env, _ := modtest.NewEnv(h)
	plan, _, err := modtest.RunBoth(t, &DockerLoad{archives: dockerarchive.NewCache("")}, env, &DockerLoadArgs{File: file})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(plan.Summary, "whole file: the host has only 20.0 KiB") || h.StdinN != st.Size() {
		t.Errorf("plan %q, sent %d of %d", plan.Summary, h.StdinN, st.Size())
	}
}
