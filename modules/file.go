package modules

import (
	"context"
	"errors"
	"fmt"
	"path"
	"strings"

	"github.com/zclconf/go-cty/cty"

	"github.com/omsrun/omsrun/internal/transport"
)

// File makes a path a directory, a symbolic link or absent, and sets the
// owner and mode of what is there; it changes only what differs from what it
// reads.
type File struct{}

var _ Module = (*File)(nil)
var _ Validator = (*File)(nil)

// FileArgs are the arguments of file.
type FileArgs struct {
	Path  string  `hcl:"path"`
	State string  `hcl:"state,optional"`
	Src   *string `hcl:"src,optional"`
	Mode  *string `hcl:"mode,optional"`
	Owner *string `hcl:"owner,optional"`
}

// The states file knows.
const (
	fileStateFile      = "file"
	fileStateDirectory = "directory"
	fileStateLink      = "link"
	fileStateAbsent    = "absent"
)

// Doc describes the module.
func (*File) Doc() Doc {
	return Doc{
		Name:    "file",
		Summary: "Make a path a directory (with its parents), a symbolic link or absent; set owner and mode. Reads first and changes only what differs.",
		Args: map[string]string{
			"path":  "string, required: absolute path on the host",
			"state": `string: "directory", "link", "absent", or "file" (an existing file whose owner and mode are set; default)`,
			"src":   "string: what the link points to (state = \"link\" only)",
			"mode":  `string: octal mode, e.g. "0750" (not for links)`,
			"owner": `string: "user" or "user:group" (for a link: the link itself)`,
		},
	}
}

// NewArgs returns empty arguments.
func (*File) NewArgs() any { return &FileArgs{} }

func (a *FileArgs) state() string {
	if a.State == "" {
		return fileStateFile
	}
	return a.State
}

// Validate checks the arguments before any host is touched.
func (*File) Validate(args any) error {
	a := args.(*FileArgs)
	var errs []error
	if !path.IsAbs(a.Path) || path.Clean(a.Path) == "/" {
		errs = append(errs, fmt.Errorf("path: %q must be an absolute path other than /", a.Path))
	}
	st := a.state()
	switch st {
	case fileStateFile, fileStateDirectory, fileStateLink, fileStateAbsent:
	default:
		errs = append(errs, fmt.Errorf("state: %q is not one of file, directory, link, absent", a.State))
	}
	if (st == fileStateLink) != (a.Src != nil) {
		errs = append(errs, errors.New("src: give it exactly when state is \"link\""))
	} else if a.Src != nil && (*a.Src == "" || strings.ContainsRune(*a.Src, 0)) {
		errs = append(errs, errors.New("src: must be a path"))
	}
	if a.Mode != nil {
		if _, err := (&CopyArgs{Mode: a.Mode}).mode(); err != nil {
			errs = append(errs, err)
		} else if st == fileStateLink || st == fileStateAbsent {
			errs = append(errs, fmt.Errorf("mode: has no meaning for state %q", st))
		}
	}
	if a.Owner != nil && (st == fileStateAbsent || *a.Owner == "") {
		errs = append(errs, errors.New("owner: give \"user\" or \"user:group\" (not for state \"absent\")"))
	}
	return errors.Join(errs...)
}

// fileFacts is what one stat read finds at a path.
type fileFacts struct {
	kind         string // "directory", "file", "link", "other", "" when absent
	mode         string // four octal digits
	user, group  string
	uid, gid     string
	target       string // a link's target
	parentExists bool
}

// fileSep separates the fields of the read; a path may hold any other byte.
const fileSep = "\x1f"

// readFile reads the path without following a link at its end.
func readFile(ctx context.Context, env *Env, p string) (fileFacts, error) {
	script := `p=` + transport.Quote(p) + `
if [ ! -e "$p" ] && [ ! -L "$p" ]; then
  if [ -d ` + transport.Quote(path.Dir(p)) + ` ]; then echo absent; else echo noparent; fi; exit 0
fi
stat -c '%F` + fileSep + `%a` + fileSep + `%U` + fileSep + `%G` + fileSep + `%u` + fileSep + `%g' -- "$p"
if [ -L "$p" ]; then printf '%s' "$(readlink -- "$p"; echo x)"; fi`
	res, err := env.Run(ctx, transport.Cmd{Script: script})
	if err != nil {
		return fileFacts{}, fmt.Errorf("reading %s: %w", p, err)
	}
	out := string(res.Stdout)
	switch strings.TrimSpace(out) {
	case "absent":
		return fileFacts{parentExists: true}, nil
	case "noparent":
		return fileFacts{}, nil
	}
	line, rest, _ := strings.Cut(out, "\n")
	f := strings.Split(line, fileSep)
	if len(f) != 6 {
		return fileFacts{}, fmt.Errorf("reading %s: unexpected stat answer %q", p, line)
	}
	ff := fileFacts{mode: fmt.Sprintf("%04s", f[1]), user: f[2], group: f[3], uid: f[4], gid: f[5], parentExists: true}
	switch f[0] {
	case "directory":
		ff.kind = fileStateDirectory
	case "regular file", "regular empty file":
		ff.kind = fileStateFile
	case "symbolic link":
		ff.kind = fileStateLink
		// readlink's own newline comes before the x that keeps a target's trailing newlines.
		ff.target = strings.TrimSuffix(strings.TrimSuffix(rest, "x"), "\n")
	default:
		ff.kind = "other"
	}
	return ff, nil
}

// fileWork is what Apply must do, decided from the read.
type fileWork struct {
	create, remove, relink, chmod, chown bool
	what                                 []string
}

func (w fileWork) any() bool { return w.create || w.remove || w.relink || w.chmod || w.chown }

// plan compares the read with the arguments.
func (a *FileArgs) plan(cur fileFacts) (fileWork, error) {
	var w fileWork
	st := a.state()
	switch st {
	case fileStateAbsent:
		if cur.kind != "" {
			w.remove = true
			w.what = append(w.what, "remove the "+cur.kind)
		}
		return w, nil
	case fileStateFile:
		if cur.kind == "" {
			return w, fmt.Errorf("path: %s does not exist (file only sets owner and mode; write files with copy or template)", a.Path)
		}
		if cur.kind != fileStateFile {
			return w, fmt.Errorf("path: %s is a %s, not a file", a.Path, cur.kind)
		}
	case fileStateDirectory:
		switch cur.kind {
		case "":
			w.create = true
			w.what = append(w.what, "create the directory")
		case fileStateDirectory:
		default:
			return w, fmt.Errorf("path: %s is a %s, not a directory; remove it first (state = \"absent\")", a.Path, cur.kind)
		}
	case fileStateLink:
		switch cur.kind {
		case "":
			w.create = true
			w.what = append(w.what, "create the link → "+*a.Src)
		case fileStateLink:
			if cur.target != *a.Src {
				w.relink = true
				w.what = append(w.what, fmt.Sprintf("link %s → %s", cur.target, *a.Src))
			}
		default:
			return w, fmt.Errorf("path: %s is a %s, not a link; remove it first (state = \"absent\")", a.Path, cur.kind)
		}
	}
	if a.Mode != nil {
		m, _ := (&CopyArgs{Mode: a.Mode}).mode()
		if want := fmt.Sprintf("%04o", uint32(m)); w.create || cur.mode != want {
			w.chmod = true
			if !w.create {
				w.what = append(w.what, "mode "+cur.mode+" → "+want)
			}
		}
	}
	if a.Owner != nil {
		user, group, hasGroup := strings.Cut(*a.Owner, ":")
		same := (user == "" || user == cur.user || user == cur.uid) && (!hasGroup || group == cur.group || group == cur.gid)
		if w.create || !same {
			w.chown = true
			if !w.create {
				w.what = append(w.what, "owner "+cur.user+":"+cur.group+" → "+*a.Owner)
			}
		}
	}
	return w, nil
}

// Check reads the path and says what would change.
func (*File) Check(ctx context.Context, env *Env, args any) (*Plan, error) {
	a := args.(*FileArgs)
	cur, err := readFile(ctx, env, a.Path)
	if err != nil {
		return nil, err
	}
	w, err := a.plan(cur)
	if err != nil {
		return nil, err
	}
	p := &Plan{Change: w.any(), Data: w, Summary: a.Path + " unchanged"}
	if w.any() {
		p.Summary = a.Path + ": would " + strings.Join(w.what, ", ")
		if w.create && !cur.parentExists && a.state() == fileStateLink {
			p.Summary += " (its directory does not exist yet)"
		}
		if env.Diff {
			p.Diff = fileDiff(a, cur)
		}
	}
	return p, nil
}

// fileDiff shows the path's state before and after.
func fileDiff(a *FileArgs, cur fileFacts) string {
	before := "absent"
	if cur.kind != "" {
		before = fmt.Sprintf("%s %s %s:%s", cur.kind, cur.mode, cur.user, cur.group)
		if cur.kind == fileStateLink {
			before += " → " + cur.target
		}
	}
	after := a.state()
	if a.Src != nil {
		after += " → " + *a.Src
	}
	if a.Mode != nil {
		after += " mode " + *a.Mode
	}
	if a.Owner != nil {
		after += " owner " + *a.Owner
	}
	return fmt.Sprintf("--- %s\n+++ %s\n-%s\n+%s\n", a.Path, a.Path, before, after)
}

// Apply makes the changes Check found, re-reading when it has no plan.
func (m *File) Apply(ctx context.Context, env *Env, args any, plan *Plan) (*Result, error) {
	a := args.(*FileArgs)
	w, ok := plan.Data.(fileWork)
	if !ok {
		p, err := m.Check(ctx, env, args)
		if err != nil {
			return nil, err
		}
		w, plan = p.Data.(fileWork), p
	}
	var cmds [][]string
	switch {
	case w.remove:
		cmds = append(cmds, []string{"rm", "-rf", "--", a.Path})
	case w.create && a.state() == fileStateDirectory:
		cmds = append(cmds, []string{"mkdir", "-p", "--", a.Path})
	case w.create || w.relink:
		// -T: never create the link inside a directory of that name; -n: replace a link to one.
		cmds = append(cmds, []string{"ln", "-sfnT", "--", *a.Src, a.Path})
	}
	if w.chmod {
		cmds = append(cmds, []string{"chmod", "--", *a.Mode, a.Path})
	}
	if w.chown {
		argv := []string{"chown"}
		if a.state() == fileStateLink {
			argv = append(argv, "-h")
		}
		cmds = append(cmds, append(argv, "--", *a.Owner, a.Path))
	}
	for _, c := range cmds {
		if _, err := env.Run(ctx, transport.Cmd{Argv: c}); err != nil {
			return nil, err
		}
	}
	msg := a.Path + " unchanged"
	if w.any() {
		msg = a.Path + ": " + strings.Join(w.what, ", ")
		if len(w.what) == 0 {
			msg = a.Path + ": set"
		}
	}
	return &Result{Changed: w.any(), Msg: msg, Diff: plan.Diff, Outputs: map[string]cty.Value{"path": cty.StringVal(a.Path)}}, nil
}
