package oms

import (
	"context"
	"errors"
	"fmt"
	"path"
	"strconv"
	"strings"

	"github.com/omsrun/omsrun/internal/textx"
	"github.com/omsrun/omsrun/internal/transport"
	"github.com/omsrun/omsrun/modules"
)

// MkdirMounts makes OMS's mount directory and the folders the container maps
// (logs, store, run), and warns when the disks under them or under Docker's
// data root are short of space.
type MkdirMounts struct{}

var _ modules.Module = (*MkdirMounts)(nil)
var _ modules.Validator = (*MkdirMounts)(nil)

// MkdirMountsArgs are the arguments of mkdir_mounts.
type MkdirMountsArgs struct {
	Path      string   `hcl:"path,optional"`
	Owner     string   `hcl:"owner,optional"`
	Mode      string   `hcl:"mode,optional"`
	MinFreeGB *float64 `hcl:"min_free_gb,optional"`
	Subdirs   []string `hcl:"subdirs,optional"`
}

// defaultMountDir is the seed's and the playbook's mount directory.
const defaultMountDir = "/data/oms"

// Doc describes the module.
func (*MkdirMounts) Doc() modules.Doc {
	return modules.Doc{
		Name:    "mkdir_mounts",
		Summary: "Create the OMS mount directory and its logs/store/run folders; warn when free space is low.",
		Args: map[string]string{
			"path":        "the mount directory (default /data/oms); refused when it is a file",
			"owner":       `"user" or "user:group" (names or ids) for the directories (default: left as created)`,
			"mode":        `octal mode for the directories, e.g. "0755" (default: left as created)`,
			"min_free_gb": "warn (not fail) when less is free under the path or Docker's data root (default 50; 0 disables)",
			"subdirs":     `folders made under path (default ["logs", "store", "run"])`,
		},
	}
}

// NewArgs returns empty arguments.
func (*MkdirMounts) NewArgs() any { return &MkdirMountsArgs{} }

func (a *MkdirMountsArgs) fill() {
	if a.Path == "" {
		a.Path = defaultMountDir
	}
	if a.Subdirs == nil {
		a.Subdirs = []string{"logs", "store", "run"}
	}
	if a.MinFreeGB == nil {
		v := 50.0
		a.MinFreeGB = &v
	}
}

// Validate checks the path, the mode and the folder names.
func (*MkdirMounts) Validate(args any) error {
	a := args.(*MkdirMountsArgs)
	a.fill()
	var errs []error
	if !path.IsAbs(a.Path) || path.Clean(a.Path) == "/" {
		errs = append(errs, fmt.Errorf("path: %q must be an absolute path below /", a.Path))
	}
	if a.Mode != "" {
		if _, err := strconv.ParseUint(a.Mode, 8, 32); err != nil {
			errs = append(errs, fmt.Errorf("mode: %q is not an octal mode such as \"0755\"", a.Mode))
		}
	}
	for _, s := range a.Subdirs {
		if s == "" || path.IsAbs(s) || strings.HasPrefix(path.Clean(s), "..") {
			errs = append(errs, fmt.Errorf("subdirs: %q must be a relative path inside %s", s, a.Path))
		}
	}
	return errors.Join(errs...)
}

// dirState is one directory as stat saw it.
type dirState struct {
	path                string
	missing             bool
	kind                string // stat's %F, e.g. "directory", "regular file"
	mode                uint64
	user, group         string
	userID, groupID     string
	wantMode, wantOwner bool
}

// mountsPlan is what Apply has to do.
type mountsPlan struct {
	create, chmod, chown []string
}

const mountsSep = "--omsrun-mounts--"

// Check reads every directory, the free space under the path and under
// Docker's data root, in one command.
func (m *MkdirMounts) Check(ctx context.Context, env *modules.Env, args any) (*modules.Plan, error) {
	a := args.(*MkdirMountsArgs)
	a.fill()
	dirs := []string{path.Clean(a.Path)}
	for _, s := range a.Subdirs {
		dirs = append(dirs, path.Join(a.Path, s))
	}
	quoted := make([]string, len(dirs))
	for i, d := range dirs {
		quoted[i] = transport.Quote(d)
	}
	script := fmt.Sprintf(`for p in %s; do if [ -e "$p" ]; then stat -L -c '%%F|%%a|%%U|%%G|%%u|%%g' -- "$p"; else echo missing; fi; done
echo %s
p=%s; while [ ! -e "$p" ]; do p=$(dirname -- "$p"; echo .); p=${p%%??}; done; df -Pk -- "$p" | tail -n 1
echo %s
r=$(docker info --format '{{.DockerRootDir}}' 2>/dev/null) && [ -n "$r" ] && df -Pk -- "$r" | tail -n 1 | sed "s|^|$r |"
true`, strings.Join(quoted, " "), mountsSep, quoted[0], mountsSep)
	res, err := env.Run(ctx, transport.Cmd{Script: script})
	if err != nil {
		return nil, err
	}
	parts := textx.SplitSections(string(res.Stdout), mountsSep)
	if len(parts) != 3 {
		return nil, fmt.Errorf("reading %s: unexpected answer: %s", a.Path, textx.TailLines(string(res.Stdout), 5))
	}
	states, err := parseDirStates(dirs, parts[0])
	if err != nil {
		return nil, err
	}
	m.warnSpace(env, a, parts[1], parts[2])

	p := &mountsPlan{}
	wantMode, _ := strconv.ParseUint(a.Mode, 8, 32)
	for _, s := range states {
		switch {
		case s.missing:
			p.create = append(p.create, s.path)
			if a.Mode != "" {
				p.chmod = append(p.chmod, s.path)
			}
			if a.Owner != "" {
				p.chown = append(p.chown, s.path)
			}
			continue
		case s.kind != "directory":
			return nil, fmt.Errorf("%s exists and is a %s, not a directory: refusing to use it as a mount directory", s.path, s.kind)
		}
		if a.Mode != "" && s.mode != wantMode {
			p.chmod = append(p.chmod, s.path)
		}
		if a.Owner != "" && !ownerMatches(a.Owner, s) {
			p.chown = append(p.chown, s.path)
		}
	}
	var what []string
	if len(p.create) > 0 {
		what = append(what, "create "+strings.Join(p.create, ", "))
	}
	if len(p.chmod) > 0 {
		what = append(what, fmt.Sprintf("chmod %s %s", a.Mode, strings.Join(p.chmod, ", ")))
	}
	if len(p.chown) > 0 {
		what = append(what, fmt.Sprintf("chown %s %s", a.Owner, strings.Join(p.chown, ", ")))
	}
	if len(what) == 0 {
		return &modules.Plan{Summary: strings.Join(dirs, ", ") + " in place"}, nil
	}
	return &modules.Plan{Change: true, Summary: strings.Join(what, "; "), Data: p}, nil
}

// Apply makes the directories in one command.
func (*MkdirMounts) Apply(ctx context.Context, env *modules.Env, args any, plan *modules.Plan) (*modules.Result, error) {
	a := args.(*MkdirMountsArgs)
	p, ok := plan.Data.(*mountsPlan)
	if !ok {
		return nil, errors.New("mkdir_mounts: apply without a plan from check")
	}
	var steps []string
	quote := func(ps []string) string {
		q := make([]string, len(ps))
		for i, s := range ps {
			q[i] = transport.Quote(s)
		}
		return strings.Join(q, " ")
	}
	if len(p.create) > 0 {
		steps = append(steps, "mkdir -p -- "+quote(p.create))
	}
	if len(p.chmod) > 0 {
		steps = append(steps, "chmod "+transport.Quote(a.Mode)+" -- "+quote(p.chmod))
	}
	if len(p.chown) > 0 {
		steps = append(steps, "chown "+transport.Quote(a.Owner)+" -- "+quote(p.chown))
	}
	if _, err := env.Run(ctx, transport.Cmd{Script: strings.Join(steps, " && ")}); err != nil {
		return nil, err
	}
	return &modules.Result{Changed: true, Msg: plan.Summary}, nil
}

func parseDirStates(dirs []string, out string) ([]dirState, error) {
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != len(dirs) {
		return nil, fmt.Errorf("reading %s: unexpected answer: %s", dirs[0], textx.TailLines(out, 5))
	}
	states := make([]dirState, len(dirs))
	for i, line := range lines {
		states[i].path = dirs[i]
		if strings.TrimSpace(line) == "missing" {
			states[i].missing = true
			continue
		}
		f := strings.Split(strings.TrimSpace(line), "|")
		if len(f) != 6 {
			return nil, fmt.Errorf("reading %s: unexpected stat answer %q", dirs[i], line)
		}
		mode, err := strconv.ParseUint(f[1], 8, 32)
		if err != nil {
			return nil, fmt.Errorf("reading %s: unexpected mode %q", dirs[i], f[1])
		}
		states[i].kind, states[i].mode = f[0], mode
		states[i].user, states[i].group, states[i].userID, states[i].groupID = f[2], f[3], f[4], f[5]
	}
	return states, nil
}

// ownerMatches compares "user[:group]" (names or numeric ids) with a stat.
func ownerMatches(owner string, s dirState) bool {
	u, g, hasGroup := strings.Cut(owner, ":")
	if u != "" && u != s.user && u != s.userID {
		return false
	}
	return !hasGroup || g == "" || g == s.group || g == s.groupID
}

// warnSpace reports low free space under the mount directory and Docker's
// data root (once when both live on one filesystem). Space is a warning, not
// a failure: obd warns too, and small test disks are legitimate.
func (*MkdirMounts) warnSpace(env *modules.Env, a *MkdirMountsArgs, mountDF, dockerDF string) {
	if *a.MinFreeGB <= 0 {
		return
	}
	minKB := int64(*a.MinFreeGB * 1024 * 1024)
	seen := map[string]bool{}
	check := func(what, line string, fieldOffset int) {
		f := strings.Fields(line)
		if len(f) < 6+fieldOffset {
			return
		}
		availKB, err := strconv.ParseInt(f[3+fieldOffset], 10, 64)
		mnt := f[len(f)-1]
		if err != nil || seen[mnt] {
			return
		}
		seen[mnt] = true
		if availKB < minKB {
			env.Report.Warn(fmt.Sprintf("only %s free on %s (%s); OMS wants at least %g GiB", textx.HumanBytes(availKB*1024), mnt, what, *a.MinFreeGB))
		}
	}
	check("under "+a.Path, strings.TrimSpace(mountDF), 0)
	if line := strings.TrimSpace(dockerDF); line != "" {
		root, _, _ := strings.Cut(line, " ")
		check("Docker's data root "+root, line, 1)
	}
}
