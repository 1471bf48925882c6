package image

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func testSpec() Spec {
	return Spec{
		RepoTags: []string{"oms:test"},
		Config:   Config{Cmd: []string{"/bin/true"}},
		Layers: []Layer{
			{Comment: "base", Files: []File{
				{Path: "bin", Dir: true, Mode: 0o755},
				{Path: "bin/hello", Mode: 0o755, Data: []byte("#!/bin/sh\necho hi\n")},
				{Path: "bin/hi", Link: "/bin/hello"},
			}},
			{Comment: "filler", Stored: true, Files: []File{{Path: "opt/filler", Mode: 0o644, Size: 1 << 16, Open: filler}}},
		},
	}
}

// readArchive returns every file of a gzip docker-archive by name.
func readArchive(t *testing.T, file string) map[string][]byte {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	out := map[string][]byte{}
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(tr)
		out[hdr.Name] = b
	}
}

func TestWriteFileIsLoadableAndStable(t *testing.T) {
	dir := t.TempDir()
	a, err := WriteFile(filepath.Join(dir, "a.tar.gz"), testSpec())
	if err != nil {
		t.Fatal(err)
	}
	b, err := WriteFile(filepath.Join(dir, "b.tar.gz"), testSpec())
	if err != nil {
		t.Fatal(err)
	}
	if a.ID != b.ID {
		t.Errorf("same spec, different image IDs: %s and %s", a.ID, b.ID)
	}

	files := readArchive(t, filepath.Join(dir, "a.tar.gz"))
	var man []manifestEntry
	if err := json.Unmarshal(files["manifest.json"], &man); err != nil {
		t.Fatal(err)
	}
	if len(man) != 1 || man[0].RepoTags[0] != "oms:test" || len(man[0].Layers) != 2 {
		t.Fatalf("manifest: %+v", man)
	}
	cfgJSON := files[man[0].Config]
	sum := sha256.Sum256(cfgJSON)
	if "sha256:"+hex.EncodeToString(sum[:]) != a.ID {
		t.Errorf("image ID %s is not the digest of the config", a.ID)
	}
	var cfg imageConfig
	if err := json.Unmarshal(cfgJSON, &cfg); err != nil {
		t.Fatal(err)
	}
	for i, l := range man[0].Layers {
		sum := sha256.Sum256(files[l])
		if got := "sha256:" + hex.EncodeToString(sum[:]); got != cfg.RootFS.DiffIDs[i] {
			t.Errorf("layer %d: digest %s, config says %s", i, got, cfg.RootFS.DiffIDs[i])
		}
	}

	got, err := Inspect(filepath.Join(dir, "a.tar.gz"))
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != a.ID || got.RepoTags[0] != "oms:test" || !reflect.DeepEqual(got.DiffIDs, a.DiffIDs) {
		t.Errorf("Inspect = %+v, want ID %s and diff IDs %v", got, a.ID, a.DiffIDs)
	}
	// Each layer's compressed share is the same read back as written, and
	// decompressing that share alone gives the layer's tar entry.
	if !reflect.DeepEqual(got.LayerBytes, a.LayerBytes) || len(a.LayerBytes) != 2 {
		t.Fatalf("layer sizes: Inspect %v, Write %v", got.LayerBytes, a.LayerBytes)
	}
	raw, _ := os.ReadFile(filepath.Join(dir, "a.tar.gz"))
	last := raw[len(raw)-int(a.LayerBytes[1]):]
	zr, err := gzip.NewReader(bytes.NewReader(last))
	if err != nil {
		t.Fatal(err)
	}
	zr.Multistream(false)
	plain, err := io.ReadAll(zr)
	if err != nil || !bytes.Contains(plain, files[man[0].Layers[1]][:512]) {
		t.Errorf("the last layer's member does not hold the last layer: %v", err)
	}
}

func TestFillerDoesNotCompress(t *testing.T) {
	dir := t.TempDir()
	spec := testSpec()
	spec.Layers[1].Files[0].Size = 4 << 20
	res, err := WriteFile(filepath.Join(dir, "big.tar.gz"), spec)
	if err != nil {
		t.Fatal(err)
	}
	if res.Size < 4<<20 {
		t.Errorf("4 MiB of filler compressed to %d bytes", res.Size)
	}
}
