package oms

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/omsrun/omsrun/internal/dockerarchive"
	"github.com/omsrun/omsrun/modules/modtest"
)

// dkImageTarball writes a small gzip docker-archive with an incompressible
// layer of layerKB KiB and returns its path and image ID.
func dkImageTarball(t *testing.T, tag string, layerKB int) (string, string) {
	t.Helper()
	config := []byte(`{"architecture":"amd64","os":"linux","config":{}}`)
	sum := sha256.Sum256(config)
	hexID := hex.EncodeToString(sum[:])
	layer := make([]byte, layerKB<<10)
	rand.Read(layer)
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, e := range []struct {
		name string
		data []byte
	}{
		{"l1/layer.tar", layer},
		{hexID + ".json", config},
		{"manifest.json", []byte(`[{"Config":"` + hexID + `.json","RepoTags":["` + tag + `"],"Layers":["l1/layer.tar"]}]`)},
	} {
		tw.WriteHeader(&tar.Header{Name: e.name, Mode: 0o644, Size: int64(len(e.data)), Typeflag: tar.TypeReg})
		tw.Write(e.data)
	}
	tw.Close()
	zw.Close()
	file := filepath.Join(t.TempDir(), "oms.tar.gz")
	if err := os.WriteFile(file, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return file, "sha256:" + hexID
}

func TestDockerLoad(t *testing.T) {
	file, id := dkImageTarball(t, "oms:feature_4.2.5-ce", 3000)
	st, _ := os.Stat(file)
	cases := []struct {
		name     string
		args     DockerLoadArgs
		inspect  []string // successive answers to docker image inspect ("" = absent)
		wantPlan string
		wantSent bool
		wantTag  string
		wantCmd  string
	}{
		{
			name:     "absent: streams into docker load and tags",
			args:     DockerLoadArgs{File: file, Tag: "oms:prod"},
			inspect:  []string{"", id + ` ["oms:feature_4.2.5-ce"]` + "\n"},
			wantPlan: "(image " + id[7:19] + " absent)",
			wantSent: true, wantTag: "oms:prod", wantCmd: "docker load",
		},
		{
			name:     "present with every name: nothing to do",
			args:     DockerLoadArgs{File: file, Tag: "oms:prod"},
			inspect:  []string{id + ` ["oms:feature_4.2.5-ce","oms:prod"]` + "\n"},
			wantPlan: "present",
		},
		{
			name:     "present but untagged: tags only",
			args:     DockerLoadArgs{File: file},
			inspect:  []string{id + " []\n"},
			wantPlan: "nothing to send",
			wantTag:  "oms:feature_4.2.5-ce",
		},
		{
			name:     "keep_file writes beside and loads from the copy",
			args:     DockerLoadArgs{File: file, KeepFile: true, Dest: "/data/pkg/oms.tar.gz"},
			inspect:  []string{"", id + ` ["oms:feature_4.2.5-ce"]` + "\n"},
			wantSent: true, wantCmd: "cat > /data/pkg/oms.tar.gz.part && mv -f /data/pkg/oms.tar.gz.part /data/pkg/oms.tar.gz && docker load -i /data/pkg/oms.tar.gz",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := &modtest.Host{}
			for _, ans := range tc.inspect {
				if ans == "" {
					h.Once("docker image inspect", 1, "", "Error: No such image: "+id+"\n")
				} else {
					h.Once("docker image inspect", 0, ans, "")
				}
			}
			h.On("docker load", 0, "Loaded image: oms:feature_4.2.5-ce\n", "").On("docker tag", 0, "", "")
			env, rep := modtest.NewEnv(h)
			m := &DockerLoad{archives: dockerarchive.NewCache("")}
			if err := m.Validate(&tc.args); err != nil {
				t.Fatal(err)
			}
			plan, res, err := modtest.RunBoth(t, m, env, &tc.args)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(plan.Summary, tc.wantPlan) {
				t.Errorf("plan %q lacks %q", plan.Summary, tc.wantPlan)
			}
			if sent := h.StdinN > 0; sent != tc.wantSent {
				t.Errorf("sent %d bytes, want sent=%v", h.StdinN, tc.wantSent)
			}
			if tc.wantSent {
				if h.StdinN != st.Size() {
					t.Errorf("sent %d of %d bytes", h.StdinN, st.Size())
				}
				last := rep.ByteLog[len(rep.ByteLog)-1]
				if last != [2]int64{st.Size(), st.Size()} {
					t.Errorf("last progress %v", last)
				}
				if !strings.Contains(strings.Join(rep.Phases, "|"), "importing") {
					t.Errorf("phases %q: no word once the stream ended", rep.Phases)
				}
				if res.Outputs["bytes_sent"].AsBigFloat().String() == "0" {
					t.Error("bytes_sent output is 0")
				}
			}
			if tc.wantTag != "" && !h.Ran("docker tag "+id+" "+tc.wantTag) {
				t.Errorf("no docker tag %s in %q", tc.wantTag, h.Commands())
			}
			if tc.wantCmd != "" && !h.Ran(tc.wantCmd) {
				t.Errorf("no %q in %q", tc.wantCmd, h.Commands())
			}
			if tc.wantPlan == "present" && len(h.Commands()) != 1 {
				t.Errorf("a converged host took %d commands: %q", len(h.Commands()), h.Commands())
			}
		})
	}
}

func TestDockerLoadFailures(t *testing.T) {
	file, id := dkImageTarball(t, "oms:x", 10)
	t.Run("daemon down", func(t *testing.T) {
		h := (&modtest.Host{}).On("docker image inspect", 1, "", "Cannot connect to the Docker daemon at unix:///run/docker.sock. Is the docker daemon running?\n")
		env, _ := modtest.NewEnv(h)
		_, err := (&DockerLoad{archives: dockerarchive.NewCache("")}).Check(context.Background(), env, &DockerLoadArgs{File: file})
		if err == nil || !strings.Contains(err.Error(), "Is the docker daemon running") {
			t.Fatalf("err %v", err)
		}
	})
	t.Run("load refused", func(t *testing.T) {
		h := (&modtest.Host{}).On("docker image inspect", 1, "", "No such image: "+id).
			On("docker load", 1, "", "open /var/lib/docker/tmp/x: no space left on device\n")
		env, _ := modtest.NewEnv(h)
		_, _, err := modtest.RunBoth(t, &DockerLoad{archives: dockerarchive.NewCache("")}, env, &DockerLoadArgs{File: file})
		if err == nil || !strings.Contains(err.Error(), "no space left on device") || !strings.Contains(err.Error(), "docker load") {
			t.Fatalf("err %v", err)
		}
	})
	t.Run("not an archive", func(t *testing.T) {
		bad := filepath.Join(t.TempDir(), "x.tar.gz")
		os.WriteFile(bad, []byte("nope"), 0o644)
		if err := (&DockerLoad{archives: dockerarchive.NewCache("")}).Validate(&DockerLoadArgs{File: bad}); err == nil {
			t.Fatal("accepted")
		}
	})
}

func TestNormalTag(t *testing.T) {
	for in, want := range map[string]string{
		"oms":                          "oms:latest",
		"oms:4.2":                      "oms:4.2",
		"docker.io/library/oms:1":      "oms:1",
		"registry:5000/team/oms":       "registry:5000/team/oms:latest",
		"registry:5000/team/oms:1.0-x": "registry:5000/team/oms:1.0-x",
	} {
		if got := normalTag(in); got != want {
			t.Errorf("normalTag(%q) = %q, want %q", in, got, want)
		}
	}
}
