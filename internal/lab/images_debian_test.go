package lab

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/omsrun/omsrun/internal/lab/image"
)

// TestDebianImageSpecs: each Debian image holds its program, every library
// ldd names for it and the loader, at the paths the loader asks for.
func TestDebianImageSpecs(t *testing.T) {
	for _, d := range DebianImages {
		t.Run(d.Name, func(t *testing.T) {
			if _, err := exec.LookPath(d.Program); err != nil {
				t.Skipf("%s not installed (package %s, see .ci/deps)", d.Program, d.Package)
			}
			spec, err := debianSpec(d)
			if err != nil {
				t.Fatal(err)
			}
			have := map[string]bool{}
			for _, l := range spec.Layers {
				for _, f := range l.Files {
					have[f.Path] = true
				}
			}
			out, _ := exec.Command("ldd", d.Program).Output()
			for _, line := range strings.Split(string(out), "\n") {
				for _, w := range strings.Fields(line) {
					if strings.HasPrefix(w, "/") && !have[strings.TrimPrefix(w, "/")] {
						t.Errorf("%s missing from the image", w)
					}
				}
			}
			if !have[strings.TrimPrefix(d.Program, "/")] || !have["bin/sh"] || len(spec.Config.Cmd) == 0 || spec.Config.Cmd[0] != d.Program {
				t.Errorf("image of %s: cmd %q", d.Name, spec.Config.Cmd)
			}
		})
	}
}

// TestBuildDebianImages writes both tarballs as lab-up does, twice: the
// second run reuses them (same IDs) instead of rebuilding.
func TestBuildDebianImages(t *testing.T) {
	for _, d := range DebianImages {
		if _, err := exec.LookPath(d.Program); err != nil {
			t.Skipf("%s not installed (package %s, see .ci/deps)", d.Program, d.Package)
		}
	}
	dir := t.TempDir()
	first, err := buildDebianImages(dir)
	if err != nil {
		t.Fatal(err)
	}
	again, err := buildDebianImages(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range DebianImages {
		res, err := image.Inspect(filepath.Join(dir, "images", d.Name+".tar.gz"))
		if err != nil || res.ID != first[d.Name].ID || again[d.Name].ID != res.ID || len(res.RepoTags) != 1 || res.RepoTags[0] != d.RepoTag {
			t.Errorf("%s: %+v %v (first %s, again %s)", d.Name, res, err, first[d.Name].ID, again[d.Name].ID)
		}
	}
}
