package dockerarchive

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/rand"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"testing"
)

// threeLayers writes a gzip archive of one image with three layers and
// returns its path and what Read makes of it.
func threeLayers(t *testing.T) (string, *Archive) {
	t.Helper()
	cfg := []byte(`{"rootfs":{"type":"layers","diff_ids":["sha256:a1","sha256:b2","sha256:c3"]}}`)
	d := digest(cfg)
	file := filepath.Join(t.TempDir(), "img.tar.gz")
	b := tarOf(t, true,
		entry{"manifest.json", manifestJSON(t, manifestEntry{Config: d + ".json", RepoTags: []string{"oms:2"},
			Layers: []string{"a/layer.tar", "b/layer.tar", "c/layer.tar"}})},
		entry{d + ".json", cfg},
		entry{"a/layer.tar", bytes.Repeat([]byte("a"), 5000)},
		entry{"b/layer.tar", bytes.Repeat([]byte("b"), 300)},
		entry{"c/layer.tar", bytes.Repeat([]byte("c"), 70)})
	if err := os.WriteFile(file, b, 0o644); err != nil {
		t.Fatal(err)
	}
	a, err := Read(file)
	if err != nil {
		t.Fatal(err)
	}
	return file, a
}

func TestChainIDs(t *testing.T) {
	got := ChainIDs([]string{"sha256:a1", "sha256:b2", "sha256:c3"})
	// sha256("sha256:a1 sha256:b2"), then of that chain and c3.
	want1 := "sha256:" + digest([]byte("sha256:a1 sha256:b2"))
	want2 := "sha256:" + digest([]byte(want1+" sha256:c3"))
	if !reflect.DeepEqual(got, []string{"sha256:a1", want1, want2}) {
		t.Errorf("ChainIDs = %v", got)
	}
}

func TestDelta(t *testing.T) {
	_, a := threeLayers(t)
	chains := ChainIDs(a.Images[0].DiffIDs)
	cases := []struct {
		name        string
		have        []string
		wantNil     bool
		wantSkip    []string
		wantMissing int
		wantSize    int64
	}{
		{name: "host has nothing: the whole file", have: nil, wantNil: true},
		{name: "host has another image's layers only", have: []string{"sha256:zz"}, wantNil: true},
		{name: "base shared: send the top two", have: chains[:1], wantSkip: []string{"a/layer.tar"}, wantMissing: 2, wantSize: 370},
		{name: "only the last layer changed", have: chains[:2], wantSkip: []string{"a/layer.tar", "b/layer.tar"}, wantMissing: 1, wantSize: 70},
		// The same diff ID on another base is another chain: it must be sent.
		{name: "a diff ID alone is not the layer", have: []string{"sha256:b2"}, wantNil: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			have := map[string]bool{}
			for _, c := range tc.have {
				have[c] = true
			}
			d := a.Delta(have)
			if tc.wantNil {
				if d != nil {
					t.Fatalf("want the whole file, got %+v", d)
				}
				return
			}
			var skip []string
			for k := range d.Skip {
				skip = append(skip, k)
			}
			sort.Strings(skip)
			if !reflect.DeepEqual(skip, tc.wantSkip) || d.Missing != tc.wantMissing || d.MissingSize != tc.wantSize || d.Present != 3-tc.wantMissing {
				t.Errorf("got %+v", d)
			}
		})
	}
}

func TestWriteDeltaKeepsManifestConfigAndMissingLayers(t *testing.T) {
	file, a := threeLayers(t)
	d := a.Delta(map[string]bool{ChainIDs(a.Images[0].DiffIDs)[0]: true})
	var buf bytes.Buffer
	if err := WriteDelta(&buf, file, d.Skip); err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	var names []string
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, hdr.Name)
	}
	want := []string{"manifest.json", a.Images[0].Config, "b/layer.tar", "c/layer.tar"}
	if !reflect.DeepEqual(names, want) {
		t.Errorf("entries %v, want %v", names, want)
	}
	// The partial archive names the same image.
	im, err := ReadImages(bytes.NewReader(buf.Bytes()))
	if err != nil || im[0].ID != a.Images[0].ID {
		t.Errorf("partial archive reads as %+v (%v), want ID %s", im, err, a.Images[0].ID)
	}
	// A source that breaks off is an error, not a short archive.
	raw, _ := os.ReadFile(file)
	cut := filepath.Join(t.TempDir(), "cut.tar.gz")
	os.WriteFile(cut, raw[:len(raw)/2], 0o644)
	if err := WriteDelta(io.Discard, cut, d.Skip); err == nil {
		t.Error("a truncated source gave no error")
	}
}

// Random layers are stored rather than deflated for nothing, compressible
// ones are deflated; both come back intact.
func TestWriteDeltaLevels(t *testing.T) {
	random := make([]byte, 1<<20)
	rand.Read(random)
	text := bytes.Repeat([]byte("compressible "), 80000)
	cfg := []byte(`{"rootfs":{"type":"layers","diff_ids":["sha256:a1","sha256:b2","sha256:c3"]}}`)
	d := digest(cfg)
	file := filepath.Join(t.TempDir(), "img.tar")
	os.WriteFile(file, tarOf(t, false,
		entry{"manifest.json", manifestJSON(t, manifestEntry{Config: d + ".json", Layers: []string{"a/layer.tar", "b/layer.tar", "c/layer.tar"}})},
		entry{d + ".json", cfg}, entry{"a/layer.tar", []byte("base")}, entry{"b/layer.tar", random}, entry{"c/layer.tar", text}), 0o644)
	var buf bytes.Buffer
	if err := WriteDelta(&buf, file, map[string]bool{"a/layer.tar": true}); err != nil {
		t.Fatal(err)
	}
	if n := buf.Len(); n > len(random)+len(random)/100+len(text)/10 || n < len(random) {
		t.Errorf("partial archive of %d bytes for %d random and %d compressible", n, len(random), len(text))
	}
	zr, _ := gzip.NewReader(&buf)
	tr := tar.NewReader(zr)
	got := map[string][]byte{}
	for {
		hdr, err := tr.Next()
		if err != nil {
			break
		}
		got[hdr.Name], _ = io.ReadAll(tr)
	}
	if !bytes.Equal(got["b/layer.tar"], random) || !bytes.Equal(got["c/layer.tar"], text) || got["a/layer.tar"] != nil {
		t.Errorf("entries after the round trip: %d, %d bytes; skipped one present: %v", len(got["b/layer.tar"]), len(got["c/layer.tar"]), got["a/layer.tar"] != nil)
	}
}
