// Package dockerarchive reads what a docker-archive tarball (the format
// `docker save` writes and `docker load` reads, gzip-compressed or not)
// holds: its images' IDs and repo tags. It streams the file, so a
// multi-gigabyte package costs time but never memory; Cache remembers the
// answer so the time is paid once per file version.
package dockerarchive

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"time"
)

// Image is one image of an archive.
type Image struct {
	// ID is the image ID docker reports after loading: "sha256:" and the
	// digest of the image's config file.
	ID       string   `json:"id"`
	RepoTags []string `json:"repo_tags,omitempty"`
	// Config and Layers are the archive's entry names manifest.json gives;
	// DiffIDs are the config's rootfs.diff_ids, one per layer, and
	// LayerSizes the layers' uncompressed sizes. They say which entries a
	// host that already has some layers can be spared (see Delta).
	Config     string   `json:"config,omitempty"`
	Layers     []string `json:"layers,omitempty"`
	DiffIDs    []string `json:"diff_ids,omitempty"`
	LayerSizes []int64  `json:"layer_sizes,omitempty"`
}

// Archive is what a tarball holds, with the file identity it was read from.
type Archive struct {
	Format  int       `json:"format"` // cached answers of another format are read again
	Path    string    `json:"path"`
	Size    int64     `json:"size"`
	ModTime time.Time `json:"mod_time"`
	Images  []Image   `json:"images"`
}

// IDs lists the image IDs in manifest order.
func (a *Archive) IDs() []string {
	ids := make([]string, len(a.Images))
	for i, im := range a.Images {
		ids[i] = im.ID
	}
	return ids
}

// Tags lists every repo tag of every image.
func (a *Archive) Tags() []string {
	var tags []string
	for _, im := range a.Images {
		tags = append(tags, im.RepoTags...)
	}
	return tags
}

// format numbers what Archive records; raise it when a field is added so
// that answers cached by an older omsrun are not taken as complete.
const format = 2

// manifestEntry is one element of manifest.json.
type manifestEntry struct {
	Config   string
	RepoTags []string
	Layers   []string
}

// digestName matches config names that already are the config's digest:
// "<hex>.json" (classic docker save) or "blobs/sha256/<hex>" (OCI layout,
// Docker 25 and later).
var digestName = regexp.MustCompile(`^(?:blobs/sha256/)?([0-9a-f]{64})(?:\.json)?$`)

// maxConfigSize bounds the entries hashed as possible image configs; configs
// are kilobytes, layers are what must not be hashed needlessly.
const maxConfigSize = 8 << 20

// maxKeptSize bounds the entries kept in memory until the manifest says
// which one is the config.
const maxKeptSize = 1 << 20

// Read reads the archive at path.
func Read(path string) (*Archive, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", path)
	}
	images, err := ReadImages(f)
	if err != nil {
		return nil, fmt.Errorf("read docker archive %s: %w", path, err)
	}
	return &Archive{Format: format, Path: path, Size: st.Size(), ModTime: st.ModTime(), Images: images}, nil
}

// ReadImages streams a docker-archive, gzip-compressed or plain, and returns
// the images its manifest.json lists.
func ReadImages(r io.Reader) ([]Image, error) {
	br := bufio.NewReaderSize(r, 1<<20)
	var in io.Reader = br
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, err
		}
		defer zr.Close()
		in = zr
	}
	tr := tar.NewReader(in)
	seen := &entries{hashes: map[string]string{}, configs: map[string][]byte{}, sizes: map[string]int64{}}
	var manifest []manifestEntry
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			if manifest != nil {
				break // a truncated tail after the manifest still names the images
			}
			return nil, fmt.Errorf("not a readable tar archive: %w", err)
		}
		if hdr.Typeflag != tar.TypeReg {
			continue
		}
		seen.sizes[hdr.Name] = hdr.Size
		if hdr.Name == "manifest.json" {
			if err := json.NewDecoder(tr).Decode(&manifest); err != nil {
				return nil, fmt.Errorf("manifest.json: %w", err)
			}
			if seen.complete(manifest) {
				break // everything is known; skip the rest of the (large) archive
			}
			continue
		}
		if err := seen.add(hdr, tr); err != nil {
			return nil, err
		}
		if manifest != nil && seen.complete(manifest) {
			break
		}
	}
	if manifest == nil {
		return nil, errors.New("no manifest.json: not a docker-archive (docker save) tarball")
	}
	if len(manifest) == 0 {
		return nil, errors.New("manifest.json lists no image")
	}
	images := make([]Image, 0, len(manifest))
	for _, m := range manifest {
		id, ok := seen.configID(m.Config)
		if !ok {
			return nil, fmt.Errorf("manifest.json names config %q, which is not in the archive", m.Config)
		}
		im := Image{ID: "sha256:" + id, RepoTags: m.RepoTags, Config: m.Config, Layers: m.Layers}
		im.DiffIDs, im.LayerSizes = seen.layers(m)
		images = append(images, im)
	}
	return images, nil
}

// entries is what the archive's entries told so far.
type entries struct {
	hashes  map[string]string // entry name → hex sha256, for small entries
	configs map[string][]byte // small JSON entries: possible image configs
	sizes   map[string]int64  // every regular entry's size
	layered bool              // the layers' sizes were seen after the manifest
}

func (e *entries) add(hdr *tar.Header, r io.Reader) error {
	if hdr.Size > maxConfigSize {
		return nil
	}
	h := sha256.New()
	var keep bytes.Buffer
	w := io.Writer(h)
	if hdr.Size <= maxKeptSize {
		w = io.MultiWriter(h, &keep)
	}
	if _, err := io.Copy(w, r); err != nil {
		return fmt.Errorf("%s: %w", hdr.Name, err)
	}
	e.hashes[hdr.Name] = hex.EncodeToString(h.Sum(nil))
	if hdr.Size <= maxKeptSize {
		e.configs[hdr.Name] = keep.Bytes()
	}
	return nil
}

// complete says whether every config has been read and every layer's entry
// seen, so the rest of the archive can be skipped.
func (e *entries) complete(manifest []manifestEntry) bool {
	for _, m := range manifest {
		if _, ok := e.configs[m.Config]; !ok {
			return false
		}
		for _, l := range m.Layers {
			if _, ok := e.sizes[l]; !ok {
				return false
			}
		}
	}
	return true
}

// configID is the hex digest of a config: hashed when the archive held it,
// otherwise taken from its digest-shaped name.
func (e *entries) configID(name string) (string, bool) {
	if h, ok := e.hashes[name]; ok {
		return h, true
	}
	if m := digestName.FindStringSubmatch(name); m != nil {
		return m[1], true
	}
	return "", false
}

// layers returns the config's diff IDs and the layers' sizes, or nothing
// when the config cannot be read or does not match the manifest: the
// image then loads whole, which is always right.
func (e *entries) layers(m manifestEntry) ([]string, []int64) {
	var cfg struct {
		RootFS struct {
			DiffIDs []string `json:"diff_ids"`
		} `json:"rootfs"`
	}
	if json.Unmarshal(e.configs[m.Config], &cfg) != nil || len(cfg.RootFS.DiffIDs) != len(m.Layers) || len(m.Layers) == 0 {
		return nil, nil
	}
	sizes := make([]int64, len(m.Layers))
	for i, l := range m.Layers {
		n, ok := e.sizes[l]
		if !ok {
			return nil, nil
		}
		sizes[i] = n
	}
	return cfg.RootFS.DiffIDs, sizes
}
