package image

import (
	"archive/tar"
	"bufio"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// Inspect reads the image ID and repo tags from a docker-archive (gzip or
// plain tar) without loading it anywhere.
func Inspect(file string) (Result, error) {
	f, err := os.Open(file)
	if err != nil {
		return Result{}, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return Result{}, err
	}
	br := bufio.NewReader(f)
	var r io.Reader = br
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return Result{}, err
		}
		r = zr
	}
	tr := tar.NewReader(r)
	var man []manifestEntry
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return Result{}, fmt.Errorf("inspect %s: %w", file, err)
		}
		if hdr.Name == "manifest.json" {
			if err := json.NewDecoder(tr).Decode(&man); err != nil {
				return Result{}, fmt.Errorf("inspect %s: manifest.json: %w", file, err)
			}
			break
		}
	}
	if len(man) != 1 {
		return Result{}, fmt.Errorf("inspect %s: want one image in manifest.json, found %d", file, len(man))
	}
	id := strings.TrimSuffix(man[0].Config, ".json")
	return Result{ID: "sha256:" + id, RepoTags: man[0].RepoTags, Size: st.Size()}, nil
}
