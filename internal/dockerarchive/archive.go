// Package dockerarchive reads what a docker-archive tarball (the format
// `docker save` writes and `docker load` reads, gzip-compressed or not)
// holds: its images' IDs and repo tags. It streams the file, so a
// multi-gigabyte package costs time but never memory; Cache remembers the
// answer so the time is paid once per file version.
package dockerarchive

import (
	"archive/tar"
	"bufio"
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
}

// Archive is what a tarball holds, with the file identity it was read from.
type Archive struct {
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
	return &Archive{Path: path, Size: st.Size(), ModTime: st.ModTime(), Images: images}, nil
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
	hashes := map[string]string{} // entry name → hex sha256, for small entries
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
		if hdr.Name == "manifest.json" {
			if err := json.NewDecoder(tr).Decode(&manifest); err != nil {
				return nil, fmt.Errorf("manifest.json: %w", err)
			}
			if configsNamed(manifest, hashes) {
				break // everything is known; skip the rest of the (large) archive
			}
			continue
		}
		if hdr.Size <= maxConfigSize {
			h := sha256.New()
			if _, err := io.Copy(h, tr); err != nil {
				return nil, fmt.Errorf("%s: %w", hdr.Name, err)
			}
			hashes[hdr.Name] = hex.EncodeToString(h.Sum(nil))
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
		id, ok := configID(m.Config, hashes)
		if !ok {
			return nil, fmt.Errorf("manifest.json names config %q, which is not in the archive", m.Config)
		}
		images = append(images, Image{ID: "sha256:" + id, RepoTags: m.RepoTags})
	}
	return images, nil
}

// configsNamed says whether every config's digest is known already.
func configsNamed(manifest []manifestEntry, hashes map[string]string) bool {
	for _, m := range manifest {
		if _, ok := configID(m.Config, hashes); !ok {
			return false
		}
	}
	return true
}

// configID is the hex digest of a config: hashed when the archive held it
// before the manifest, otherwise taken from its digest-shaped name.
func configID(name string, hashes map[string]string) (string, bool) {
	if h, ok := hashes[name]; ok {
		return h, true
	}
	if m := digestName.FindStringSubmatch(name); m != nil {
		return m[1], true
	}
	return "", false
}
