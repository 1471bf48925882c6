// Package image writes Docker images as docker-archive tarballs (the format
// `docker save` writes and `docker load` reads) without a Docker daemon, so
// the lab can build its stand-in OMS image on a machine whose only dockerds
// live inside the lab hosts.
package image

import (
	"archive/tar"
	"bufio"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"
)

// epoch is the modification time of every entry, so that the same inputs
// always give the same layer digests and therefore the same image ID.
var epoch = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// File is one entry of a layer: a directory, a symlink, or a regular file
// whose content comes from Data, from the controller file Src, or from Open.
type File struct {
	Path string // inside the image, without a leading slash
	Mode fs.FileMode
	Dir  bool
	Link string // symlink target when set
	Data []byte
	Src  string
	// Size and Open give content that is too large to hold in memory.
	Size int64
	Open func() io.Reader
	UID  int
	GID  int
}

// Layer is one filesystem layer, written in the order given.
type Layer struct {
	Comment string // history entry shown by `docker history`
	Files   []File
	// Stored marks a layer of incompressible data: it goes into the archive
	// in a gzip member of stored blocks, which costs no CPU, instead of
	// being run through the compressor for nothing.
	Stored bool
}

// Config is the part of the image config that the container runtime uses.
type Config struct {
	Env        []string          `json:"Env,omitempty"`
	Cmd        []string          `json:"Cmd,omitempty"`
	Entrypoint []string          `json:"Entrypoint,omitempty"`
	WorkingDir string            `json:"WorkingDir,omitempty"`
	Labels     map[string]string `json:"Labels,omitempty"`
}

// Spec is a whole image.
type Spec struct {
	RepoTags []string
	Config   Config
	Layers   []Layer
}

// Result describes a written archive the way `docker images` will see it.
type Result struct {
	ID       string   // sha256:<hex of the config>, the image ID after docker load
	RepoTags []string // as in manifest.json
	DiffIDs  []string
	// LayerBytes are the compressed sizes of the layers, in DiffIDs order:
	// each layer is its own gzip member, so its share of the file is exact.
	// An upgrade that sends only the changed layers is measured against it.
	LayerBytes []int64
	Size       int64 // bytes of the compressed archive
}

type imageConfig struct {
	Architecture string    `json:"architecture"`
	OS           string    `json:"os"`
	Created      time.Time `json:"created"`
	Config       Config    `json:"config"`
	RootFS       struct {
		Type    string   `json:"type"`
		DiffIDs []string `json:"diff_ids"`
	} `json:"rootfs"`
	History []history `json:"history"`
}

type history struct {
	Created   time.Time `json:"created"`
	CreatedBy string    `json:"created_by,omitempty"`
}

type manifestEntry struct {
	Config   string   `json:"Config"`
	RepoTags []string `json:"RepoTags"`
	Layers   []string `json:"Layers"`
}

// WriteFile writes spec as a gzip-compressed docker-archive at dst. The file
// appears under its final name only when complete, so a reader never loads a
// half-written image.
func WriteFile(dst string, spec Spec) (Result, error) {
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return Result{}, err
	}
	tmp, err := os.CreateTemp(filepath.Dir(dst), ".image-*.tmp")
	if err != nil {
		return Result{}, err
	}
	defer os.Remove(tmp.Name())
	bw := bufio.NewWriterSize(tmp, 1<<20)
	cw := &countWriter{w: bw}
	res, err := Write(cw, spec)
	if err == nil {
		err = bw.Flush()
	}
	if err == nil {
		err = tmp.Close()
	} else {
		tmp.Close()
	}
	if err != nil {
		return Result{}, fmt.Errorf("write image %s: %w", dst, err)
	}
	res.Size = cw.n
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return Result{}, err
	}
	return res, os.Rename(tmp.Name(), dst)
}

// Write streams spec as a gzip-compressed docker-archive to w. Every layer is
// first written to a temporary file because its digest (the diffID the config
// names) must be known before the config, and tar needs every size up front.
// manifest.json and the config come first in the archive so that a reader
// (omsrun's docker_load, Inspect) finds the image ID without decompressing
// the layers; `docker load` accepts any order.
func Write(w io.Writer, spec Spec) (Result, error) {
	cfg := imageConfig{Architecture: "amd64", OS: "linux", Created: epoch, Config: spec.Config}
	cfg.RootFS.Type = "layers"
	var layers []*os.File
	defer func() {
		for _, f := range layers {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	var layerPaths []string
	for i, l := range spec.Layers {
		f, digest, err := buildLayer(l)
		if err != nil {
			return Result{}, fmt.Errorf("layer %d: %w", i, err)
		}
		layers = append(layers, f)
		cfg.RootFS.DiffIDs = append(cfg.RootFS.DiffIDs, "sha256:"+digest)
		cfg.History = append(cfg.History, history{Created: epoch, CreatedBy: l.Comment})
		layerPaths = append(layerPaths, digest+"/layer.tar")
	}
	cfgJSON, err := json.Marshal(cfg)
	if err != nil {
		return Result{}, err
	}
	sum := sha256.Sum256(cfgJSON)
	id := hex.EncodeToString(sum[:])
	man, err := json.Marshal([]manifestEntry{{Config: id + ".json", RepoTags: spec.RepoTags, Layers: layerPaths}})
	if err != nil {
		return Result{}, err
	}

	cw := &countWriter{w: w}
	zw := &members{w: cw}
	if err := zw.level(gzip.BestSpeed); err != nil {
		return Result{}, err
	}
	tw := tar.NewWriter(zw)
	if err := addBytes(tw, "manifest.json", man); err != nil {
		return Result{}, err
	}
	if err := addBytes(tw, id+".json", cfgJSON); err != nil {
		return Result{}, err
	}
	starts := make([]int64, 0, len(layers)+1)
	for i, f := range layers {
		lvl := gzip.BestSpeed
		if spec.Layers[i].Stored {
			lvl = gzip.NoCompression
		}
		// tar pads an entry when the next header is written: flushing here
		// keeps the previous layer's padding in the previous member.
		if err := tw.Flush(); err != nil {
			return Result{}, err
		}
		if err := zw.restart(lvl); err != nil {
			return Result{}, err
		}
		starts = append(starts, cw.n)
		if err := copyLayer(tw, strings.TrimSuffix(layerPaths[i], "/layer.tar"), f); err != nil {
			return Result{}, err
		}
	}
	if err := tw.Close(); err != nil {
		return Result{}, err
	}
	if err := zw.Close(); err != nil {
		return Result{}, err
	}
	starts = append(starts, cw.n)
	sizes := make([]int64, len(layers))
	for i := range sizes {
		sizes[i] = starts[i+1] - starts[i]
	}
	return Result{ID: "sha256:" + id, RepoTags: spec.RepoTags, DiffIDs: cfg.RootFS.DiffIDs, LayerBytes: sizes}, nil
}

func addBytes(tw *tar.Writer, name string, data []byte) error {
	hdr := &tar.Header{Name: name, Mode: 0o644, Size: int64(len(data)), ModTime: epoch, Typeflag: tar.TypeReg, Format: tar.FormatPAX}
	if err := tw.WriteHeader(hdr); err != nil {
		return err
	}
	_, err := tw.Write(data)
	return err
}

// buildLayer writes the layer tar to a temporary file while hashing it.
func buildLayer(l Layer) (*os.File, string, error) {
	f, err := os.CreateTemp("", "omslab-layer-*.tar")
	if err != nil {
		return nil, "", err
	}
	h := sha256.New()
	bw := bufio.NewWriterSize(io.MultiWriter(f, h), 1<<20)
	err = writeLayerTar(bw, l)
	if err == nil {
		err = bw.Flush()
	}
	if err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, "", err
	}
	return f, hex.EncodeToString(h.Sum(nil)), nil
}

func copyLayer(tw *tar.Writer, digest string, f *os.File) error {
	size, err := f.Seek(0, io.SeekEnd)
	if err != nil {
		return err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	if err := tw.WriteHeader(&tar.Header{Name: digest + "/", Mode: 0o755, ModTime: epoch, Typeflag: tar.TypeDir, Format: tar.FormatPAX}); err != nil {
		return err
	}
	if err := tw.WriteHeader(&tar.Header{Name: digest + "/layer.tar", Mode: 0o644, Size: size, ModTime: epoch, Typeflag: tar.TypeReg, Format: tar.FormatPAX}); err != nil {
		return err
	}
	_, err = io.Copy(tw, f)
	return err
}

func writeLayerTar(w io.Writer, l Layer) error {
	tw := tar.NewWriter(w)
	for _, f := range l.Files {
		if err := writeEntry(tw, f); err != nil {
			return fmt.Errorf("%s: %w", f.Path, err)
		}
	}
	return tw.Close()
}

func writeEntry(tw *tar.Writer, f File) error {
	name := strings.TrimPrefix(path.Clean("/"+f.Path), "/")
	hdr := &tar.Header{Name: name, Mode: int64(f.Mode.Perm()), ModTime: epoch, Uid: f.UID, Gid: f.GID, Format: tar.FormatPAX}
	if f.Mode&fs.ModeSticky != 0 {
		hdr.Mode |= 0o1000
	}
	switch {
	case f.Dir:
		hdr.Typeflag = tar.TypeDir
		hdr.Name += "/"
		return tw.WriteHeader(hdr)
	case f.Link != "":
		hdr.Typeflag = tar.TypeSymlink
		hdr.Linkname = f.Link
		hdr.Mode = 0o777
		return tw.WriteHeader(hdr)
	}
	hdr.Typeflag = tar.TypeReg
	var r io.Reader
	switch {
	case f.Open != nil:
		hdr.Size = f.Size
		r = io.LimitReader(f.Open(), f.Size)
	case f.Src != "":
		src, err := os.Open(f.Src)
		if err != nil {
			return err
		}
		defer src.Close()
		st, err := src.Stat()
		if err != nil {
			return err
		}
		hdr.Size = st.Size()
		r = src
	default:
		hdr.Size = int64(len(f.Data))
		r = strings.NewReader(string(f.Data))
	}
	if err := tw.WriteHeader(hdr); err != nil {
		return err
	}
	n, err := io.Copy(tw, r)
	if err != nil {
		return err
	}
	if n != hdr.Size {
		return fmt.Errorf("short content: %d of %d bytes", n, hdr.Size)
	}
	return nil
}
