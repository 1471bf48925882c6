package lab

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/omsrun/omsrun/internal/filehash"
	"github.com/omsrun/omsrun/internal/lab/image"
)

// Variant is one build of the stand-in OMS image.
type Variant struct {
	Name    string // v1, v2, v2-broken, v0-old
	RepoTag string
}

// Variants are the images lab-up writes under .lab/images/oms-<name>.tar.gz.
// v1 is the default (.lab/oms.tar.gz); v2 is an upgrade; v2-broken is an
// upgrade that refuses to start, for rollback tests (4.2.5 → 4.2.7: no
// upgrade page restricts 4.2.7, so the version gates let it through);
// v0-old is a version the gates refuse both ways: obd upgrades nothing older
// than 4.1.1, and from v1 it is a downgrade (internal/omsconfig/version.go).
var Variants = []Variant{
	{Name: "v1", RepoTag: "oms:feature_4.2.5-ce"},
	{Name: "v2", RepoTag: "oms:feature_4.2.6-ce"},
	{Name: "v2-broken", RepoTag: "oms:feature_4.2.7-ce"},
	{Name: "v0-old", RepoTag: "oms:feature_4.1.0-ce"},
}

// The variants share a base layer of baseMB and differ in an application
// layer of appMB, so that an upgrade from v1 to v2 has a large layer to skip
// and a small one to send, as a real OMS release would (issue 19). They stay
// small: every deployment test loads them.
const baseMB, appMB = 16, 4

// ImageFile is where variant name's tarball lives under the .lab folder.
func ImageFile(labDir, name string) string {
	return filepath.Join(labDir, "images", "oms-"+name+".tar.gz")
}

// buildImages compiles the stand-in and writes every variant, skipping the
// ones whose inputs did not change since the last run.
func buildImages(o Options, labDir string) (map[string]image.Result, error) {
	bin := filepath.Join(StateDir, "cache", "oms-standin")
	if err := os.MkdirAll(filepath.Dir(bin), 0o755); err != nil {
		return nil, err
	}
	cmd := []string{"build", "-trimpath", "-buildvcs=false", "-ldflags=-s -w", "-o", bin, "./internal/lab/standin"}
	if _, err := runEnvDir(o.Repo, []string{"CGO_ENABLED=0"}, "go", cmd...); err != nil {
		return nil, fmt.Errorf("build the stand-in: %w", err)
	}
	binSum, err := filehash.SHA256(bin)
	if err != nil {
		return nil, err
	}
	bbSum, err := filehash.SHA256("/bin/busybox")
	if err != nil {
		return nil, fmt.Errorf("busybox (package busybox-static): %w", err)
	}
	out := map[string]image.Result{}
	for _, v := range Variants {
		filler := 0
		if v.Name == "v1" {
			filler = o.ImageMB
		}
		dst := ImageFile(labDir, v.Name)
		key := strings.Join([]string{"format-3", binSum, bbSum, v.Name, v.RepoTag, strconv.Itoa(filler), strconv.Itoa(baseMB), strconv.Itoa(appMB)}, " ")
		if old, err := os.ReadFile(dst + ".key"); err == nil && string(old) == key {
			if res, err := image.Inspect(dst); err == nil {
				out[v.Name] = res
				continue
			}
		}
		spec, err := image.Standin(image.StandinOptions{Binary: bin, Version: v.Name, RepoTag: v.RepoTag, FillerMB: filler, BaseMB: baseMB, AppMB: appMB})
		if err != nil {
			return nil, err
		}
		res, err := image.WriteFile(dst, spec)
		if err != nil {
			return nil, err
		}
		if err := os.WriteFile(dst+".key", []byte(key), 0o644); err != nil {
			return nil, err
		}
		out[v.Name] = res
	}
	deb, err := buildDebianImages(labDir)
	if err != nil {
		return nil, err
	}
	for name, res := range deb {
		out[name] = res
	}
	// .lab/oms.tar.gz is the default image the vars point at: a hard link to v1.
	def := filepath.Join(labDir, "oms.tar.gz")
	os.Remove(def)
	if err := os.Link(ImageFile(labDir, "v1"), def); err != nil {
		return nil, err
	}
	return out, nil
}

func runEnvDir(dir string, env []string, name string, args ...string) (string, error) {
	cmd := execCommand(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return string(out), nil
}

// StandinDelayFile is where the stand-in reads its start-up delay inside
// the container (internal/lab/standin's DelayFile): the run folder, which
// the host mounts from <mount_dir>/run. Without it the stand-in takes 3 s.
const StandinDelayFile = "/home/ds/run/omslab-startup-delay"
