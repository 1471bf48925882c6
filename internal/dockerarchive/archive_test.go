package dockerarchive

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

type entry struct {
	name string
	data []byte
}

func tarOf(t *testing.T, gz bool, entries ...entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	var w *tar.Writer
	var zw *gzip.Writer
	if gz {
		zw = gzip.NewWriter(&buf)
		w = tar.NewWriter(zw)
	} else {
		w = tar.NewWriter(&buf)
	}
	for _, e := range entries {
		if err := w.WriteHeader(&tar.Header{Name: e.name, Mode: 0o644, Size: int64(len(e.data)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		w.Write(e.data)
	}
	w.Close()
	if zw != nil {
		zw.Close()
	}
	return buf.Bytes()
}

func manifestJSON(t *testing.T, m ...manifestEntry) []byte {
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func digest(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func TestReadImages(t *testing.T) {
	config := []byte(`{"architecture":"amd64","config":{"Cmd":["/x"]}}`)
	d := digest(config)
	layer := bytes.Repeat([]byte("L"), 100000)
	layered := []byte(`{"rootfs":{"type":"layers","diff_ids":["sha256:aa","sha256:bb"]}}`)
	dl := digest(layered)
	cases := []struct {
		name    string
		gz      bool
		entries []entry
		want    []Image
		wantErr string
	}{
		{
			name: "classic docker save, gzip, manifest last",
			gz:   true,
			entries: []entry{
				{"abc/layer.tar", layer}, {d + ".json", config},
				{"manifest.json", manifestJSON(t, manifestEntry{Config: d + ".json", RepoTags: []string{"oms:feature_4.2.5-ce"}, Layers: []string{"abc/layer.tar"}})},
			},
			want: []Image{{ID: "sha256:" + d, RepoTags: []string{"oms:feature_4.2.5-ce"}, Config: d + ".json", Layers: []string{"abc/layer.tar"}}},
		},
		{
			name: "OCI layout, plain tar, manifest first",
			entries: []entry{
				{"manifest.json", manifestJSON(t, manifestEntry{Config: "blobs/sha256/" + d, RepoTags: []string{"a:1", "b:2"}})},
				{"blobs/sha256/" + d, config}, {"blobs/sha256/" + strings.Repeat("1", 64), layer},
			},
			want: []Image{{ID: "sha256:" + d, RepoTags: []string{"a:1", "b:2"}, Config: "blobs/sha256/" + d}},
		},
		{
			name: "config with an arbitrary name is hashed",
			entries: []entry{
				{"config.json", config},
				{"manifest.json", manifestJSON(t, manifestEntry{Config: "config.json"})},
			},
			want: []Image{{ID: "sha256:" + d, Config: "config.json"}},
		},
		{
			name: "layers with diff IDs, manifest first: sizes from the tar headers",
			gz:   true,
			entries: []entry{
				{"manifest.json", manifestJSON(t, manifestEntry{Config: dl + ".json", Layers: []string{"a/layer.tar", "b/layer.tar"}})},
				{dl + ".json", layered}, {"a/layer.tar", layer}, {"b/layer.tar", layer[:10]},
			},
			want: []Image{{ID: "sha256:" + dl, Config: dl + ".json", Layers: []string{"a/layer.tar", "b/layer.tar"},
				DiffIDs: []string{"sha256:aa", "sha256:bb"}, LayerSizes: []int64{100000, 10}}},
		},
		{
			name: "diff IDs that do not match the layers: no layer facts, loads whole",
			entries: []entry{
				{dl + ".json", layered}, {"a/layer.tar", layer},
				{"manifest.json", manifestJSON(t, manifestEntry{Config: dl + ".json", Layers: []string{"a/layer.tar"}})},
			},
			want: []Image{{ID: "sha256:" + dl, Config: dl + ".json", Layers: []string{"a/layer.tar"}}},
		},
		{
			name:    "no manifest",
			gz:      true,
			entries: []entry{{"hello.txt", []byte("hi")}},
			wantErr: "no manifest.json",
		},
		{
			name:    "config missing",
			entries: []entry{{"manifest.json", manifestJSON(t, manifestEntry{Config: "nope.json"})}},
			wantErr: "not in the archive",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ReadImages(bytes.NewReader(tarOf(t, tc.gz, tc.entries...)))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
	if _, err := ReadImages(strings.NewReader("plain text, not a tar")); err == nil {
		t.Error("garbage accepted")
	}
}

func TestCacheRemembersByFileIdentity(t *testing.T) {
	dir := t.TempDir()
	config := []byte(`{"config":{}}`)
	file := filepath.Join(dir, "img.tar.gz")
	write := func(tag string) {
		b := tarOf(t, true, entry{digest(config) + ".json", config},
			entry{"manifest.json", manifestJSON(t, manifestEntry{Config: digest(config) + ".json", RepoTags: []string{tag}})})
		if err := os.WriteFile(file, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("a:1")
	mtime := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	os.Chtimes(file, mtime, mtime)

	c := NewCache(filepath.Join(dir, "cache"))
	var wg sync.WaitGroup
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a, err := c.Read(file)
			if err != nil || a.Images[0].RepoTags[0] != "a:1" {
				t.Errorf("%+v %v", a, err)
			}
		}()
	}
	wg.Wait()

	// Same size and mtime, different content: a fresh cache (a new run)
	// answers from disk without reading — proof that no decompression happened.
	write("b:1")
	os.Chtimes(file, mtime, mtime)
	a, err := NewCache(filepath.Join(dir, "cache")).Read(file)
	if err != nil || a.Images[0].RepoTags[0] != "a:1" {
		t.Fatalf("want the remembered answer, got %+v %v", a, err)
	}
	// A new mtime is a new file version: read again.
	later := mtime.Add(time.Minute)
	os.Chtimes(file, later, later)
	a, err = NewCache(filepath.Join(dir, "cache")).Read(file)
	if err != nil || a.Images[0].RepoTags[0] != "b:1" {
		t.Fatalf("want a fresh read, got %+v %v", a, err)
	}
}
