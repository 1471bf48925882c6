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
	// Missing and Present count layers; MissingSize and SkippedSize are the
	// uncompressed sizes of the layers sent and of those left out.
	Missing, Present         int
	MissingSize, SkippedSize int64
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
		for i, l := range im.Layers {
			if !need[l] && !d.Skip[l] {
				d.Skip[l] = true
				d.SkippedSize += im.LayerSizes[i]
			}
		}
	}
	return d
}

// WriteDelta streams the archive at path to w as a gzip-compressed tar
// holding every entry except those in skip: the manifest and the config stay,
// so the image ID after docker load is the same as from the whole file.
// Layers that are sent are recompressed at gzip's default level because on
// the slow links this exists for, bytes cost more than CPU; layers that do
// not compress are stored (see levelFor).
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
	zw := &levelWriter{w: w, level: -2}
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
		// The previous entry's padding belongs to the previous member.
		if err := tw.Flush(); err != nil {
			return err
		}
		var body io.Reader = tr
		level := gzip.DefaultCompression
		if hdr.Size >= probeSize {
			br := bufio.NewReaderSize(tr, probeSize)
			body, level = br, levelFor(br)
		}
		if err := zw.setLevel(level); err != nil {
			return err
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if _, err := io.Copy(tw, body); err != nil {
			return fmt.Errorf("%s: %s: %w", path, hdr.Name, err)
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return zw.Close()
}

// probeSize is how much of a layer is test-compressed to choose its level.
const probeSize = 256 << 10

// levelFor picks the gzip level of one entry: layers of already compressed
// or random data (the bulk of many images: jars, archives) are stored, since
// deflating them costs CPU and saves nothing; the rest get the default level.
func levelFor(body *bufio.Reader) int {
	head, _ := body.Peek(probeSize)
	var c counter
	zw, _ := gzip.NewWriterLevel(&c, gzip.BestSpeed)
	zw.Write(head)
	zw.Close()
	if c.n*100 >= int64(len(head))*97 {
		return gzip.NoCompression
	}
	return gzip.DefaultCompression
}

type counter struct{ n int64 }

func (c *counter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

// levelWriter is a gzip stream of members, a new one whenever the level
// changes; gzip readers, docker load's among them, read the members as one
// stream (RFC 1952).
type levelWriter struct {
	w     io.Writer
	zw    *gzip.Writer
	level int
}

func (l *levelWriter) setLevel(level int) error {
	if l.zw != nil && level == l.level {
		return nil
	}
	if err := l.Close(); err != nil {
		return err
	}
	zw, err := gzip.NewWriterLevel(l.w, level)
	if err != nil {
		return err
	}
	l.zw, l.level = zw, level
	return nil
}

func (l *levelWriter) Write(p []byte) (int, error) {
	if l.zw == nil {
		if err := l.setLevel(gzip.DefaultCompression); err != nil {
			return 0, err
		}
	}
	return l.zw.Write(p)
}

func (l *levelWriter) Close() error {
	if l.zw == nil {
		return nil
	}
	err := l.zw.Close()
	l.zw = nil
	return err
}
