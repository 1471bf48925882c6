package image

import (
	"fmt"
	"io/fs"
	"os/exec"
	"path"
	"path/filepath"
	"sort"
	"strings"
)

// DebianOptions chooses what goes into an image built around programs of
// Debian packages installed on the controller (InfluxDB, keepalived), the
// way the stand-in image is built: no Docker daemon, no registry.
type DebianOptions struct {
	RepoTag string
	// Programs are controller paths (e.g. /usr/bin/influxd); each goes into
	// the image at the same path, with every shared library ldd names.
	Programs []string
	// Files are added as they are (configuration).
	Files   []File
	Busybox string // "" means /bin/busybox; gives the image sh, cat, kill
	Config  Config
}

// Debian assembles the image: busybox, the programs, their libraries and
// the dynamic loader, and the extra files.
func Debian(o DebianOptions) (Spec, error) {
	if o.Busybox == "" {
		o.Busybox = "/bin/busybox"
	}
	files := map[string]File{}
	add := func(f File) { files[f.Path] = f }
	for _, d := range []string{"bin", "sbin", "usr", "usr/bin", "usr/sbin", "etc", "tmp", "run", "var", "var/lib", "var/log", "var/run", "root"} {
		mode := fs.FileMode(0o755)
		if d == "tmp" {
			mode = 0o777 | fs.ModeSticky
		}
		add(File{Path: d, Dir: true, Mode: mode})
	}
	add(File{Path: "bin/busybox", Mode: 0o755, Src: o.Busybox})
	for _, a := range []string{"sh", "cat", "ls", "kill", "ps", "sleep", "ip", "wget", "awk", "grep", "sed"} {
		add(File{Path: "bin/" + a, Link: "/bin/busybox"})
	}
	add(File{Path: "etc/passwd", Mode: 0o644, Data: []byte("root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n")})
	add(File{Path: "etc/group", Mode: 0o644, Data: []byte("root:x:0:\nnogroup:x:65534:\n")})
	for _, p := range o.Programs {
		libs, err := sharedLibraries(p)
		if err != nil {
			return Spec{}, err
		}
		for _, f := range append([]string{p}, libs...) {
			// Debian merges /lib into /usr/lib: the file is read through its
			// real path but kept at the path the loader asks for.
			real, err := filepath.EvalSymlinks(f)
			if err != nil {
				return Spec{}, fmt.Errorf("%s: %w", f, err)
			}
			add(File{Path: strings.TrimPrefix(f, "/"), Mode: 0o755, Src: real})
		}
	}
	for _, f := range o.Files {
		add(f)
	}
	// Every parent folder exists as an entry, so the layer unpacks anywhere.
	for p := range files {
		for d := path.Dir(p); d != "." && d != "/"; d = path.Dir(d) {
			if _, ok := files[d]; !ok {
				add(File{Path: d, Dir: true, Mode: 0o755})
			}
		}
	}
	names := make([]string, 0, len(files))
	for p := range files {
		names = append(names, p)
	}
	sort.Strings(names)
	layer := Layer{Comment: "from Debian packages: " + strings.Join(o.Programs, " ")}
	for _, p := range names {
		layer.Files = append(layer.Files, files[p])
	}
	cfg := o.Config
	if len(cfg.Env) == 0 {
		cfg.Env = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
	}
	if cfg.WorkingDir == "" {
		cfg.WorkingDir = "/"
	}
	return Spec{RepoTags: []string{o.RepoTag}, Config: cfg, Layers: []Layer{layer}}, nil
}

// sharedLibraries lists the libraries (and the loader) prog needs, by ldd.
func sharedLibraries(prog string) ([]string, error) {
	out, err := exec.Command("ldd", prog).CombinedOutput()
	if err != nil {
		if strings.Contains(string(out), "not a dynamic executable") {
			return nil, nil
		}
		return nil, fmt.Errorf("ldd %s: %w: %s", prog, err, strings.TrimSpace(string(out)))
	}
	var libs []string
	for _, line := range strings.Split(string(out), "\n") {
		line = strings.TrimSpace(line)
		if _, after, ok := strings.Cut(line, "=> "); ok {
			line = after
		}
		p, _, _ := strings.Cut(line, " (")
		if strings.HasPrefix(p, "/") {
			libs = append(libs, p)
		} else if strings.Contains(line, "not found") {
			return nil, fmt.Errorf("ldd %s: %s", prog, line)
		}
	}
	return libs, nil
}
