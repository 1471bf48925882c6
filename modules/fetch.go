package modules

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/zclconf/go-cty/cty"

	"github.com/omsrun/omsrun/internal/transport"
)

// Fetch brings a file, or the last lines of a log, from every host into a
// folder per host on the control machine (dest/<host>/<file name>), for
// support bundles. Whole files travel over SFTP on the host's existing SSH
// connection (goph); the tail of a log, and files read through sudo, travel
// as a command's output, since neither can be an SFTP read.
type Fetch struct{}

var _ Module = (*Fetch)(nil)
var _ Validator = (*Fetch)(nil)

// FetchArgs are the arguments of fetch.
type FetchArgs struct {
	Src  string `hcl:"src"`
	Dest string `hcl:"dest"`
	Tail *int   `hcl:"tail,optional"`
}

// Doc describes the module.
func (*Fetch) Doc() Doc {
	return Doc{
		Name:    "fetch",
		Summary: "Copy a file (or the last lines of a log) from every host to dest/<host>/<file name> on the control machine; skipped when the local copy already has the same checksum.",
		Args: map[string]string{
			"src":  "string, required: absolute path of a regular file on the host",
			"dest": "string, required: a folder on the control machine; one folder per host is made in it",
			"tail": "number: bring only the last N lines (for logs); default: the whole file",
		},
	}
}

// NewArgs returns empty arguments.
func (*Fetch) NewArgs() any { return &FetchArgs{} }

// Validate checks the arguments before any host is touched.
func (*Fetch) Validate(args any) error {
	a := args.(*FetchArgs)
	var errs []error
	if !path.IsAbs(a.Src) || strings.HasSuffix(a.Src, "/") {
		errs = append(errs, fmt.Errorf("src: %q must be the absolute path of a file", a.Src))
	}
	if a.Dest == "" {
		errs = append(errs, errors.New("dest: give a folder on the control machine"))
	} else if fi, err := os.Stat(a.Dest); err == nil && !fi.IsDir() {
		errs = append(errs, fmt.Errorf("dest: %s exists and is not a folder", a.Dest))
	}
	if a.Tail != nil && *a.Tail < 1 {
		errs = append(errs, fmt.Errorf("tail: %d must be at least 1", *a.Tail))
	}
	return errors.Join(errs...)
}

// local is where the host's copy goes. A host name is an inventory name, but
// it still must not climb out of dest.
func (a *FetchArgs) local(host string) (string, error) {
	if host == "" || host == "." || host == ".." || strings.ContainsAny(host, "/\\\x00") {
		return "", fmt.Errorf("host name %q cannot name a folder", host)
	}
	name := path.Base(a.Src)
	if a.Tail != nil {
		name += ".tail"
	}
	return filepath.Join(a.Dest, host, name), nil
}

// remoteSum is the script that prints the checksum of what would be fetched
// and the file's size, or one word: missing, notfile or unreadable.
func (a *FetchArgs) remoteSum() string {
	p := transport.Quote(a.Src)
	read := "cat -- " + p
	if a.Tail != nil {
		read = "tail -n " + strconv.Itoa(*a.Tail) + " -- " + p
	}
	return `if [ ! -e ` + p + ` ]; then echo missing; exit 0; fi
if [ ! -f ` + p + ` ]; then echo notfile; exit 0; fi
if [ ! -r ` + p + ` ]; then echo unreadable; exit 0; fi
` + read + ` | sha256sum && wc -c <` + p
}

// fetchRead is what Check read.
type fetchRead struct {
	sum, local string
}

// Check reads the remote checksum and compares it with the local copy.
func (*Fetch) Check(ctx context.Context, env *Env, args any) (*Plan, error) {
	a := args.(*FetchArgs)
	local, err := a.local(env.HostName)
	if err != nil {
		return nil, err
	}
	res, err := env.Run(ctx, transport.Cmd{Script: a.remoteSum()})
	if err != nil {
		return nil, err
	}
	out := strings.TrimSpace(string(res.Stdout))
	switch out {
	case "missing":
		return nil, fmt.Errorf("src: %s does not exist on %s", a.Src, env.HostName)
	case "notfile":
		return nil, fmt.Errorf("src: %s is not a regular file", a.Src)
	case "unreadable":
		return nil, fmt.Errorf("src: %s is not readable by the login user (become = true reads it through sudo)", a.Src)
	}
	lines := strings.Split(out, "\n")
	sum, _, _ := strings.Cut(lines[0], " ")
	if len(sum) != 64 || len(lines) != 2 {
		return nil, fmt.Errorf("src: unexpected checksum answer %q", out)
	}
	size := strings.TrimSpace(lines[1])
	have := localSum(local)
	p := &Plan{Change: have != sum, Data: fetchRead{sum: sum, local: local},
		Summary: local + " already holds " + a.Src}
	if p.Change {
		what := a.Src
		if a.Tail != nil {
			what = fmt.Sprintf("the last %d lines of %s", *a.Tail, a.Src)
		} else {
			what += " (" + size + " bytes)"
		}
		p.Summary = "would fetch " + what + " to " + local
		if env.Diff {
			before := "absent"
			if have != "" {
				before = "sha256 " + have
			}
			p.Diff = fmt.Sprintf("--- %s\n+++ %s\n-%s\n+sha256 %s\n", local, local, before, sum)
		}
	}
	return p, nil
}

// localSum is the sha256 of a local file, "" when it cannot be read.
func localSum(name string) string {
	f, err := os.Open(name)
	if err != nil {
		return ""
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return ""
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Apply fetches into a temporary file beside the copy and renames it into
// place, so an interrupted fetch never leaves half a file under the real name.
func (m *Fetch) Apply(ctx context.Context, env *Env, args any, plan *Plan) (*Result, error) {
	a := args.(*FetchArgs)
	local, err := a.local(env.HostName)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(local), 0o700); err != nil {
		return nil, fmt.Errorf("dest: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(local), ".fetch-*")
	if err != nil {
		return nil, fmt.Errorf("dest: %w", err)
	}
	defer os.Remove(tmp.Name())
	h := sha256.New()
	w := io.MultiWriter(tmp, h)
	how, n, err := a.download(ctx, env, w)
	if cerr := tmp.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("dest: %w", cerr)
	}
	if err != nil {
		return nil, err
	}
	sum := hex.EncodeToString(h.Sum(nil))
	if sum == localSum(local) {
		return &Result{Msg: local + " already holds " + a.Src, Outputs: fetchOutputs(local, n, sum)}, nil
	}
	if err := os.Rename(tmp.Name(), local); err != nil {
		return nil, fmt.Errorf("dest: %w", err)
	}
	return &Result{Changed: true, Msg: fmt.Sprintf("fetched %s to %s (%d bytes, %s)", a.Src, local, n, how),
		Diff: plan.Diff, Outputs: fetchOutputs(local, n, sum)}, nil
}

// download writes the remote content to w and says how it travelled.
func (a *FetchArgs) download(ctx context.Context, env *Env, w io.Writer) (string, int64, error) {
	if a.Tail == nil && !env.Become {
		if d, ok := transport.AsDownloader(env.Host); ok {
			n, err := d.Download(ctx, a.Src, w)
			return "sftp", n, err
		}
	}
	argv := []string{"cat", "--", a.Src}
	if a.Tail != nil {
		argv = []string{"tail", "-n", strconv.Itoa(*a.Tail), "--", a.Src}
	}
	cw := &countWriter{w: w}
	_, err := env.Run(ctx, transport.Cmd{Argv: argv, Stdout: cw})
	return argv[0], cw.n, err
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

func fetchOutputs(local string, n int64, sum string) map[string]cty.Value {
	return map[string]cty.Value{"dest": cty.StringVal(local), "size": cty.NumberIntVal(n), "sha256": cty.StringVal(sum)}
}
