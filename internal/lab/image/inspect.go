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

// Inspect reads the image ID, repo tags and diff IDs from a docker-archive
// (gzip or plain tar) without loading it anywhere, and for an archive this
// package wrote (one gzip member per layer) the layers' compressed sizes.
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
	gz := false
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return Result{}, err
		}
		r, gz = zr, true
	}
	tr := tar.NewReader(r)
	var man []manifestEntry
	var cfg imageConfig
	configs := map[string][]byte{}
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
			if len(man) == 1 && configs[man[0].Config] != nil {
				break
			}
			continue
		}
		if strings.HasSuffix(hdr.Name, ".json") && hdr.Size < 1<<20 {
			b, err := io.ReadAll(tr)
			if err != nil {
				return Result{}, fmt.Errorf("inspect %s: %w", file, err)
			}
			configs[hdr.Name] = b
			if len(man) == 1 && hdr.Name == man[0].Config {
				break
			}
		}
	}
	if len(man) != 1 {
		return Result{}, fmt.Errorf("inspect %s: want one image in manifest.json, found %d", file, len(man))
	}
	if err := json.Unmarshal(configs[man[0].Config], &cfg); err != nil {
		return Result{}, fmt.Errorf("inspect %s: config %s: %w", file, man[0].Config, err)
	}
	id := strings.TrimSuffix(man[0].Config, ".json")
	res := Result{ID: "sha256:" + id, RepoTags: man[0].RepoTags, DiffIDs: cfg.RootFS.DiffIDs, Size: st.Size()}
	if !gz {
		return res, nil
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return Result{}, err
	}
	sizes, err := memberSizes(f)
	if err != nil {
		return Result{}, fmt.Errorf("inspect %s: %w", file, err)
	}
	// Write puts the manifest and config in the first member and each
	// layer in one of its own; another layout has no per-layer sizes.
	if len(sizes) == len(res.DiffIDs)+1 {
		res.LayerBytes = sizes[1:]
	}
	return res, nil
}

// memberSizes returns the compressed size of each gzip member of r.
func memberSizes(r io.Reader) ([]int64, error) {
	cr := &countReader{r: bufio.NewReaderSize(r, 1<<20)}
	zr, err := gzip.NewReader(cr)
	if err != nil {
		return nil, err
	}
	var sizes []int64
	var start int64
	for {
		zr.Multistream(false)
		if _, err := io.Copy(io.Discard, zr); err != nil {
			return nil, err
		}
		sizes = append(sizes, cr.n-start)
		start = cr.n
		if err := zr.Reset(cr); errors.Is(err, io.EOF) {
			return sizes, nil
		} else if err != nil {
			return nil, err
		}
	}
}

// countReader counts what gzip consumed; being a ByteReader, gzip reads
// from it without buffering ahead, so the count ends exactly at a member.
type countReader struct {
	r *bufio.Reader
	n int64
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func (c *countReader) ReadByte() (byte, error) {
	b, err := c.r.ReadByte()
	if err == nil {
		c.n++
	}
	return b, err
}
