package image

import (
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os/exec"
	"strings"
)

// StandinOptions chooses what goes into the stand-in OMS image.
type StandinOptions struct {
	Binary   string // the static stand-in program (internal/lab/standin)
	Busybox  string // a static busybox; "" means /bin/busybox
	Version  string // baked into /etc/oms-standin/version; a "-broken" suffix makes it refuse to start
	RepoTag  string // e.g. oms:feature_4.2.5-ce
	FillerMB int    // adds an incompressible layer of this size, for throughput tests
	// BaseMB and AppMB give the image the shape of a real release: a large
	// base layer every version shares (the runtime, BaseMB of it) and a
	// smaller application layer that changes with the version (AppMB, its
	// bytes drawn from the version), so an upgrade has layers to skip.
	BaseMB, AppMB int
}

// StandinPath is where the stand-in program lives inside the image.
const StandinPath = "/usr/bin/oms-standin"

// deployScript stands in for the real image's deployment helper, which the
// seed guide fetches with `docker cp` before anything else.
const deployScript = `#!/bin/sh
# Stand-in for OMS CE's docker_remote_deploy.sh (omsrun lab image).
usage() { echo "usage: sh docker_remote_deploy.sh -o <workdir> [-c <config dir>] -i <host ip> -d <image>"; }
while getopts "o:c:i:d:h" opt; do
  case "$opt" in
    o) workdir=$OPTARG ;; c) confdir=$OPTARG ;; i) hostip=$OPTARG ;; d) image=$OPTARG ;;
    *) usage; exit 2 ;;
  esac
done
echo "stand-in deployment tool: workdir=${workdir:-} config=${confdir:-} ip=${hostip:-} image=${image:-}"
`

// Standin assembles the stand-in OMS image: busybox with its applet links
// (so sh, bash, cat, tail, ls exist), the stand-in program under the names
// supervisorctl and python as well, the deployment script, the version, and
// the optional filler.
func Standin(o StandinOptions) (Spec, error) {
	if o.Busybox == "" {
		o.Busybox = "/bin/busybox"
	}
	out, err := exec.Command(o.Busybox, "--list-full").Output()
	if err != nil {
		return Spec{}, fmt.Errorf("list busybox applets (is busybox-static installed?): %w", err)
	}
	dirs := []File{
		dir("bin", 0o755), dir("sbin", 0o755), dir("usr", 0o755), dir("usr/bin", 0o755), dir("usr/sbin", 0o755),
		dir("etc", 0o755), dir("etc/oms-standin", 0o755), dir("etc/pki", 0o755), dir("etc/pki/nginx", 0o755), dir("root", 0o700), dir("tmp", 0o777|fs.ModeSticky),
		dir("run", 0o755), dir("var", 0o755), dir("var/log", 0o755), dir("opt", 0o755),
		dir("home", 0o755), dir("home/admin", 0o755), dir("home/admin/conf", 0o755), dir("home/admin/logs", 0o755),
		dir("home/ds", 0o755), dir("home/ds/store", 0o755), dir("home/ds/run", 0o755),
	}
	base := Layer{Comment: "busybox and the OMS directory layout", Files: dirs}
	base.Files = append(base.Files,
		File{Path: "bin/busybox", Mode: 0o755, Src: o.Busybox},
		File{Path: "bin/bash", Mode: 0o755, Data: []byte("#!/bin/sh\nexec /bin/sh \"$@\"\n")},
		File{Path: "etc/passwd", Mode: 0o644, Data: []byte("root:x:0:0:root:/root:/bin/sh\nadmin:x:500:500:admin:/home/admin:/bin/sh\n")},
		File{Path: "etc/group", Mode: 0o644, Data: []byte("root:x:0:\nadmin:x:500:\n")},
		File{Path: "root/docker_remote_deploy.sh", Mode: 0o755, Data: []byte(deployScript)},
	)
	for _, p := range strings.Fields(string(out)) {
		p = strings.TrimSuffix(p, "/")
		if p == "bin/busybox" || p == "linuxrc" || p == "bin/bash" {
			continue
		}
		base.Files = append(base.Files, File{Path: p, Link: "/bin/busybox"})
	}
	prog := Layer{Comment: "the stand-in OMS supervisor", Files: []File{
		{Path: strings.TrimPrefix(StandinPath, "/"), Mode: 0o755, Src: o.Binary},
		{Path: "usr/bin/supervisorctl", Link: StandinPath},
		{Path: "usr/bin/supervisord", Link: StandinPath},
		{Path: "usr/bin/python", Link: StandinPath},
	}}
	layers := []Layer{base}
	if o.BaseMB > 0 {
		size := int64(o.BaseMB) << 20
		layers = append(layers, Layer{Comment: fmt.Sprintf("%d MiB runtime, the same in every version", o.BaseMB), Stored: true, Files: []File{
			{Path: "opt/runtime.bin", Mode: 0o644, Size: size, Open: func() io.Reader { return seeded("runtime") }},
		}})
	}
	// The version's layer is the application: it differs between versions
	// even when the stand-in program does not.
	ver := Layer{Comment: "version " + o.Version, Stored: o.AppMB > 0, Files: []File{
		{Path: "etc/oms-standin/version", Mode: 0o644, Data: []byte(o.Version + "\n")},
	}}
	if o.AppMB > 0 {
		size := int64(o.AppMB) << 20
		ver.Files = append(ver.Files, File{Path: "opt/app.bin", Mode: 0o644, Size: size, Open: func() io.Reader { return seeded("app " + o.Version) }})
	}
	spec := Spec{
		RepoTags: []string{o.RepoTag},
		Config: Config{
			Env:        []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
			Cmd:        []string{StandinPath},
			WorkingDir: "/",
			Labels:     map[string]string{"org.omsrun.standin.version": o.Version},
		},
		Layers: append(layers, prog, ver),
	}
	if o.FillerMB > 0 {
		size := int64(o.FillerMB) << 20
		spec.Layers = append(spec.Layers, Layer{Comment: fmt.Sprintf("%d MiB filler", o.FillerMB), Stored: true, Files: []File{
			{Path: "opt/filler.bin", Mode: 0o644, Size: size, Open: filler},
		}})
	}
	return spec, nil
}

// filler yields incompressible bytes from a fixed seed: random so that
// gzip cannot shrink the transfer, seeded so that the image ID is stable.
func filler() io.Reader {
	return rand.NewChaCha8([32]byte{'o', 'm', 's', 'l', 'a', 'b'})
}

// seeded yields incompressible bytes that depend only on name.
func seeded(name string) io.Reader {
	var seed [32]byte
	copy(seed[:], name)
	return rand.NewChaCha8(seed)
}

func dir(p string, mode fs.FileMode) File { return File{Path: p, Dir: true, Mode: mode} }
