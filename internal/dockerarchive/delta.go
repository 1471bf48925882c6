package dockerarchive

import (
	"archive/tar"
	"bufio"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
)

// ChainIDs returns the chain ID of every prefix of a layer stack, the name
// under which Docker's classic image store keeps a layer: the first is the
// first diff ID, then sha256 of "<previous chain ID> <diff ID>" (OCI image
// spec, "ChainID").
func ChainIDs(diffIDs []string) []string {
	out := make([]string, len(diffIDs))
	for i, d := range diffIDs {
		if i == 0 {
			out[i] = d
			continue
		}
		sum := sha256.Sum256([]byte(out[i-1] + " " + d))
		out[i] = "sha256:" + hex.EncodeToString(sum[:])
	}
	return out
}

// Delta is what an archive must carry to a host holding some of its layers.
type Delta struct {
	// Skip names the layer entries the host does not need: docker load
	// (classic store) does not open the file of a layer whose chain ID it
	// already has, so the entry may be absent from the archive.
	Skip map[string]bool
	// Missing and Present count layers; MissingSize is the uncompressed
	// size of the layers to send.
	Missing, Present int
	MissingSize      int64
}

// Delta computes, from the chain IDs a host has, which layers it can be
// spared. It returns nil when the archive does not say enough about its
// layers (no diff IDs) or when the host has none of them: then the file
// goes as it is, which costs no recompression.
func (a *Archive) Delta(haveChains map[string]bool) *Delta {
	need := map[string]bool{}
	d := &Delta{Skip: map[string]bool{}}
	for _, im := range a.Images {
		if len(im.DiffIDs) == 0 || len(im.DiffIDs) != len(im.Layers) {
			return nil
		}
		for i, c := range ChainIDs(im.DiffIDs) {
			if haveChains[c] {
				d.Present++
				continue
			}
			d.Missing++
			if !need[im.Layers[i]] {
				need[im.Layers[i]] = true
				d.MissingSize += im.LayerSizes[i]
			}
		}
	}
	if d.Present == 0 {
		return nil
	}
	for _, im := range a.Images {
		for _, l := range im.Layers {
			if !need[l] {
				d.Skip[l] = true
			}
		}
	}
	return d
}

// WriteDelta streams the archive at path to w as a gzip-compressed tar
// holding every entry except those in skip: the manifest and the config stay,
// so the image ID after docker load is the same as from the whole file.
// Layers that are sent are recompressed at gzip's default level because on
// the slow links this exists for, bytes cost more than CPU.
func WriteDelta(w io.Writer, path string, skip map[string]bool) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 1<<20)
	var in io.Reader = br
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return err
		}
		defer zr.Close()
		in = zr
	}
	zw := gzip.NewWriter(w)
	tr := tar.NewReader(in)
	tw := tar.NewWriter(zw)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("read %s: %w", path, err)
		}
		if skip[hdr.Name] {
			continue
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if _, err := io.Copy(tw, tr); err != nil {
			return fmt.Errorf("%s: %s: %w", path, hdr.Name, err)
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return zw.Close()
}
