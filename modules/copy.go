package modules

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"strconv"

	"github.com/zclconf/go-cty/cty"

	"github.com/omsrun/omsrun/internal/remotefile"
)

// Copy writes a file on the host from inline content or a control-machine
// file, through the shared in-place writer; it skips when the checksum, mode
// and owner already match.
type Copy struct{}

var _ Module = (*Copy)(nil)
var _ Validator = (*Copy)(nil)

// CopyArgs are the arguments of copy.
type CopyArgs struct {
	Content *string `hcl:"content,optional"`
	Src     *string `hcl:"src,optional"`
	Dest    string  `hcl:"dest"`
	Mode    *string `hcl:"mode,optional"`
	Owner   *string `hcl:"owner,optional"`
	Backup  *bool   `hcl:"backup,optional"`
}

// maxCopySize bounds what copy holds in memory; images go through docker_load.
const maxCopySize = 64 << 20

// maxDiffSize bounds the new content diffed; the host's side is bounded by
// remotefile.MaxContentRead.
const maxDiffSize = 1 << 20

// Doc describes the module.
func (*Copy) Doc() Doc {
	return Doc{
		Name:    "copy",
		Summary: "Write a file from content or a control-machine file, in place, only when its checksum, mode or owner differ. Outputs: dest, backup, sha256 (of the content, in check mode too).",
		Args: map[string]string{
			"content": "string: the file's content (exactly one of content and src)",
			"src":     "string: a file on the control machine to copy (at most 64 MiB)",
			"dest":    "string, required: absolute path on the host; its directory must exist",
			"mode":    `string: octal mode, e.g. "0644" (default: kept; new files 0600)`,
			"owner":   `string: "user" or "user:group" (default: left alone)`,
			"backup":  "bool: keep the previous file as <dest>.<YYYYmmddHHMMSS>.bak (default false)",
		},
	}
}

// NewArgs returns empty arguments.
func (*Copy) NewArgs() any { return &CopyArgs{} }

func (a *CopyArgs) mode() (fs.FileMode, error) {
	if a.Mode == nil {
		return 0, nil
	}
	n, err := strconv.ParseUint(*a.Mode, 8, 32)
	if err != nil || n > 0o7777 {
		return 0, fmt.Errorf("mode: %q is not an octal mode such as \"0644\"", *a.Mode)
	}
	return fs.FileMode(n), nil
}

// Validate checks the arguments and that src is readable, before any host is touched.
func (*Copy) Validate(args any) error {
	a := args.(*CopyArgs)
	var errs []error
	if (a.Content == nil) == (a.Src == nil) {
		errs = append(errs, errors.New("content, src: give exactly one of them"))
	}
	if !path.IsAbs(a.Dest) || path.Clean(a.Dest) == "/" {
		errs = append(errs, fmt.Errorf("dest: %q must be an absolute file path", a.Dest))
	}
	if _, err := a.mode(); err != nil {
		errs = append(errs, err)
	}
	if a.Src != nil {
		if fi, err := os.Stat(*a.Src); err != nil {
			errs = append(errs, fmt.Errorf("src: %w", err))
		} else if !fi.Mode().IsRegular() {
			errs = append(errs, fmt.Errorf("src: %s is not a regular file", *a.Src))
		} else if fi.Size() > maxCopySize {
			errs = append(errs, fmt.Errorf("src: %s is %d MiB; copy handles files up to 64 MiB", *a.Src, fi.Size()>>20))
		}
	}
	return errors.Join(errs...)
}

func (a *CopyArgs) content() ([]byte, error) {
	if a.Content != nil {
		return []byte(*a.Content), nil
	}
	if a.Src == nil {
		return nil, errors.New("content, src: give exactly one of them")
	}
	b, err := os.ReadFile(*a.Src)
	if err != nil {
		return nil, fmt.Errorf("src: %w", err)
	}
	return b, nil
}

func (a *CopyArgs) file(env *Env, content []byte) remotefile.File {
	m, _ := a.mode()
	f := remotefile.File{Path: a.Dest, Content: content, Mode: m, Become: env.Become, Backup: a.Backup != nil && *a.Backup}
	if a.Owner != nil {
		f.Owner = *a.Owner
	}
	return f
}

// Check compares checksums (and, with --diff on small files, the content).
func (*Copy) Check(ctx context.Context, env *Env, args any) (*Plan, error) {
	a := args.(*CopyArgs)
	content, err := a.content()
	if err != nil {
		return nil, err
	}
	f := a.file(env, content)
	withContent := env.Diff && len(content) <= maxDiffSize
	cur, err := remotefile.Read(ctx, env.Host, a.Dest, env.Become, withContent)
	if err != nil {
		return nil, err
	}
	ch := remotefile.Compare(cur, f)
	p := &Plan{Change: ch.Any(), Data: content, Summary: a.Dest + " unchanged", Outputs: map[string]cty.Value{
		"dest": cty.StringVal(a.Dest), "sha256": cty.StringVal(contentSum(content)),
	}}
	switch {
	case ch.Create:
		p.Summary = "would create " + a.Dest
	case ch.Any():
		p.Summary = "would change " + a.Dest + ": " + ch.String()
	}
	if env.Diff && (ch.Create || ch.Content) {
		if withContent && (cur.HaveContent || !cur.Exists) {
			p.Diff = remotefile.Diff(cur.Content, content, nil)
		} else {
			p.Diff = fmt.Sprintf("content differs (%d bytes → %d bytes; too large to diff)\n", cur.Size, len(content))
		}
	}
	return p, nil
}

// Apply writes the file when it differs.
func (*Copy) Apply(ctx context.Context, env *Env, args any, plan *Plan) (*Result, error) {
	a := args.(*CopyArgs)
	content, ok := plan.Data.([]byte)
	if !ok {
		var err error
		if content, err = a.content(); err != nil {
			return nil, err
		}
	}
	res, err := remotefile.Write(ctx, env.Host, a.file(env, content))
	if err != nil {
		return nil, err
	}
	return &Result{Changed: res.Changed(), Msg: res.Describe(a.Dest), Diff: plan.Diff, Outputs: map[string]cty.Value{
		"dest":   cty.StringVal(a.Dest),
		"backup": cty.StringVal(res.Backup),
		"sha256": cty.StringVal(contentSum(content)),
	}}, nil
}

// contentSum is the sha256 (hex) of the content the file holds once
// written, known in check mode too: a later step can name what the host
// should have loaded (vip.hcl's keepalived) without waiting for the write.
func contentSum(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}
