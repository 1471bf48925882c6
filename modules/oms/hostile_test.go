package oms

// Hostile values through every module that builds a remote command or
// script from a user value (issue #7): each value must reach the remote
// program as exactly the bytes given — one argument, one path, one file
// content — or be refused by Validate before any command runs. Nothing is
// faked below the shell: the commands run through the local /bin/sh exactly
// as the SSH transport would send them (transporttest.Local), with recording
// stand-ins for docker, supervisorctl (inside docker exec), chown and df on
// PATH. Every stand-in writes each argument it receives as its own
// NUL-terminated record, so an argument that was split, joined, expanded or
// globbed shows up as a difference.
//
// Modules that build no remote command are covered by what they do instead:
// wait_for, oms_status's and supervisor_restart's health probes and the
// metadb_* modules only open TCP connections through the host (the metadb
// modules speak the MySQL protocol themselves, so user and password travel
// in that protocol, never in a command line); the test checks that they run
// no command and dial exactly host:port. note builds nothing at all.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/omsrun/omsrun/internal/dockerarchive"
	"github.com/omsrun/omsrun/internal/omsconfig"
	"github.com/omsrun/omsrun/internal/transport/transporttest"
	"github.com/omsrun/omsrun/modules"
	"github.com/omsrun/omsrun/modules/modtest"
)

// hostileValues are the values every case is run with.
var hostileValues = []struct{ name, v string }{
	{"single quote", "it's"},
	{"double quote", `say "hi"`},
	{"spaces", "a  b c"},
	{"command substitution", "$(touch PWNED)"},
	{"backticks", "`touch PWNED`"},
	{"semicolon", "x; touch PWNED"},
	{"newline", "x\ntouch PWNED"},
	{"trailing newline", "x\n"},
	{"variable", "$HOME"},
	{"glob", "*"},
	{"backslash", `x\ny\\z\c`},
	{"leading dash", "-rf"},
	{"tab", "a\tb"},
	{"utf-8", "数据-ümlaut-✓"},
	{"redirect and pipe", "> PWNED | touch PWNED &"},
	{"quotes around a substitution", `'"$(touch PWNED)"'`},
}

// ---- the rig: a local host with recording stand-ins on PATH ----

// hostileRecord starts every stand-in: it appends its name, its argument
// count and each argument, all NUL-terminated, to $HOSTILE_LOG.
const hostileRecord = `#!/bin/sh
{ printf '%s\0' "${0##*/}" "$#"; for a in "$@"; do printf '%s\0' "$a"; done; } >>"$HOSTILE_LOG"
`

// hostileDocker answers like docker from the files in $HOSTILE_STATE:
// image (the present image's ID; absent: no image), archive-id (what docker
// load loads), container.json (docker inspect's answer for the container;
// absent: no container) and status (supervisorctl status's table).
const hostileDocker = hostileRecord + `S=$HOSTILE_STATE
case "$1" in
image)
	[ -f "$S/image" ] || { echo "Error: No such image: $5" >&2; exit 1; }
	if [ "$4" = '{{.Id}}' ]; then cat "$S/image"; else printf '%s []\n' "$(cat "$S/image")"; fi ;;
load)
	if [ "$2" = -i ]; then [ -f "$3" ] || { echo "open $3: no such file" >&2; exit 1; }; else cat >/dev/null; fi
	cp "$S/archive-id" "$S/image"
	echo "Loaded image: oms:feature_4.2.5-ce" ;;
inspect)
	if [ "$2" = --type ]; then
		if [ -f "$S/container.json" ]; then cat "$S/container.json"; else echo '[]'; fi
		exit 0
	fi
	case "$3" in
	'{{.State.Status}} {{.State.ExitCode}}') echo 'running 0' ;;
	'{{.State.Running}}') echo true ;;
	'{{.State.Running}} {{.Image}}') echo 'true sha256:feedfeedfeedfeed' ;;
	'{{.State.Status}}') echo running ;;
	*) echo 'running oms:x sha256:feedfeedfeedfeed' ;;
	esac ;;
logs) echo 'OMS service start successfully' ;;
exec)
	if [ "$3 $4" = 'supervisorctl status' ]; then cat "$S/status"; fi ;;
info)
	case "$3" in
	*ServerVersion*) echo "24.0.7|$S" ;;
	*) echo "$S" ;;
	esac ;;
esac
exit 0
`

// hostileDF answers like df with plenty of room.
const hostileDF = hostileRecord + `echo 'Filesystem 1024-blocks Used Available Capacity Mounted on'
echo 'fakefs 1000000000 1 999999999 1% /fake'
`

type hostileCall struct {
	tool string
	args []string
}

// hostileHost runs commands locally and sends every dial to one address.
type hostileHost struct {
	*transporttest.Local
	mu    sync.Mutex
	dials []string
	to    string // where every dial goes; "" refuses them all
}

func (h *hostileHost) Dial(ctx context.Context, network, addr string) (net.Conn, error) {
	h.mu.Lock()
	h.dials = append(h.dials, addr)
	to := h.to
	h.mu.Unlock()
	if to == "" {
		return nil, errors.New("hostile test: no route to host")
	}
	var d net.Dialer
	return d.DialContext(ctx, network, to)
}

func (h *hostileHost) dialed() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.dials...)
}

type hostileRig struct {
	t                *testing.T
	root             string // every file of the case is below root
	work, state, bin string
	log              string
	local            *transporttest.Local
	host             *hostileHost
	env              *modules.Env
}

func newHostileRig(t *testing.T) *hostileRig {
	t.Helper()
	root, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	r := &hostileRig{t: t, root: root, work: root + "/work", state: root + "/state", bin: root + "/bin", log: root + "/calls"}
	for _, d := range []string{r.work, r.state, r.bin} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for name, body := range map[string]string{"docker": hostileDocker, "df": hostileDF, "chown": hostileRecord, "rec": hostileRecord} {
		r.writeFile(r.bin+"/"+name, body, 0o755)
	}
	// The real docker is never reachable: only the stand-ins and the system's own tools.
	r.local = &transporttest.Local{HostName: "hostile", Dir: r.work,
		Env: []string{"PATH=" + r.bin + ":/usr/bin:/bin", "HOSTILE_LOG=" + r.log, "HOSTILE_STATE=" + r.state}}
	r.host = &hostileHost{Local: r.local}
	r.env = &modules.Env{Host: r.host, HostName: "h1", Address: "10.0.0.2", Report: &modtest.Reporter{}}
	t.Cleanup(r.assertNothingRan)
	return r
}

func (r *hostileRig) writeFile(name, content string, mode fs.FileMode) {
	r.t.Helper()
	if mode&0o111 != 0 {
		// No fork while a program is open for writing: a child forked by a
		// parallel subtest would inherit the descriptor until it execs, and
		// running the program meanwhile fails with "text file busy".
		syscall.ForkLock.Lock()
		defer syscall.ForkLock.Unlock()
	}
	if err := os.WriteFile(name, []byte(content), mode); err != nil {
		r.t.Fatal(err)
	}
}

func (r *hostileRig) mkdir(name string) string {
	r.t.Helper()
	if err := os.MkdirAll(name, 0o755); err != nil {
		r.t.Fatal(err)
	}
	return name
}

// calls parses what the stand-ins recorded.
func (r *hostileRig) calls() []hostileCall {
	r.t.Helper()
	b, err := os.ReadFile(r.log)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		r.t.Fatal(err)
	}
	f := strings.Split(string(b), "\x00")
	f = f[:len(f)-1] // after the last NUL
	var out []hostileCall
	for i := 0; i < len(f); {
		n, err := strconv.Atoi(f[i+1])
		if err != nil || i+2+n > len(f) {
			r.t.Fatalf("unreadable call log %q", b)
		}
		out = append(out, hostileCall{tool: f[i], args: f[i+2 : i+2+n]})
		i += 2 + n
	}
	return out
}

// argsOf lists the arguments of every call of tool whose first argument is
// first ("" for any).
func (r *hostileRig) argsOf(tool, first string) [][]string {
	var out [][]string
	for _, c := range r.calls() {
		if c.tool == tool && (first == "" || len(c.args) > 0 && c.args[0] == first) {
			out = append(out, c.args)
		}
	}
	return out
}

func (r *hostileRig) resetCalls() {
	if err := os.Remove(r.log); err != nil && !errors.Is(err, fs.ErrNotExist) {
		r.t.Fatal(err)
	}
}

// assertNothingRan fails when a value was executed: a file named PWNED
// anywhere below the case's root (where every command runs) or here.
func (r *hostileRig) assertNothingRan() {
	filepath.WalkDir(r.root, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Name() == "PWNED" {
			r.t.Errorf("a value was executed by a shell: %s exists", p)
		}
		return nil
	})
	if _, err := os.Stat("PWNED"); err == nil {
		r.t.Errorf("a value was executed by a shell: PWNED in the test's directory")
	}
}

// refused asserts that Validate refuses args naming arg, and that it ran
// no command (the engine validates before it connects).
func (r *hostileRig) refused(m modules.Module, args any, arg string) {
	r.t.Helper()
	v, ok := m.(modules.Validator)
	if !ok {
		r.t.Fatalf("%T has no Validate", m)
	}
	before := len(r.local.Commands())
	err := v.Validate(args)
	if err == nil || !strings.Contains(err.Error(), arg+":") && !strings.Contains(err.Error(), arg+" ") {
		r.t.Errorf("Validate: got %v, want a refusal naming %s", err, arg)
	}
	if n := len(r.local.Commands()); n != before {
		r.t.Errorf("Validate ran %d command(s)", n-before)
	}
}

// httpDialled asserts that every dial of an HTTP probe went to one of
// addrs, as Go's HTTP client dials it: an internationalised host name in its
// IDNA (punycode) form. A host that cannot be part of a URL is never dialled
// at all: the probe fails instead.
func (r *hostileRig) httpDialled(addrs ...string) {
	r.t.Helper()
	var want []string
	for _, a := range addrs {
		want = append(want, a)
		if req, err := http.NewRequest(http.MethodGet, "http://"+a+"/", nil); err == nil {
			var b bytes.Buffer
			req.Write(&b)
			for _, line := range strings.Split(b.String(), "\r\n") {
				if h, ok := strings.CutPrefix(line, "Host: "); ok {
					want = append(want, h)
				}
			}
		}
	}
	for _, d := range r.host.dialed() {
		if !slices.Contains(want, d) {
			r.t.Errorf("dialled %q, want only %q", d, want)
		}
	}
}

func (r *hostileRig) resetDials() {
	r.host.mu.Lock()
	r.host.dials = nil
	r.host.mu.Unlock()
}

// valid asserts that Validate accepts args (for modules that have it).
func (r *hostileRig) valid(m modules.Module, args any) {
	r.t.Helper()
	if v, ok := m.(modules.Validator); ok {
		if err := v.Validate(args); err != nil {
			r.t.Fatalf("Validate: %v", err)
		}
	}
}

func (r *hostileRig) readFile(name string) string {
	r.t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		r.t.Fatal(err)
	}
	return string(b)
}

func hostileEach(t *testing.T, f func(t *testing.T, r *hostileRig, v string)) {
	for _, hv := range hostileValues {
		t.Run(hv.name, func(t *testing.T) {
			t.Parallel()
			f(t, newHostileRig(t), hv.v)
		})
	}
}

// ---- command and shell ----

// hostileGuards checks creates and removes with v in the path, absolute and
// relative to the working directory.
func hostileGuards(t *testing.T, r *hostileRig, m modules.Module, args func(creates, removes string) any, v string) {
	t.Helper()
	exists := r.root + "/c " + v
	r.writeFile(exists, "", 0o644)
	r.mkdir(r.work + "/" + v)
	cases := []struct {
		creates, removes, want string
	}{
		{exists, "", "skipped: " + exists + " exists"},
		{v, "", "skipped: " + v + " exists"},
		{"", r.root + "/r " + v, "skipped: " + r.root + "/r " + v + " does not exist"},
		{r.root + "/absent " + v, "", ""},
	}
	for _, c := range cases {
		plan, err := m.Check(context.Background(), r.env, args(c.creates, c.removes))
		if err != nil {
			t.Fatal(err)
		}
		if c.want == "" && !plan.Unknown || c.want != "" && (plan.Unknown || plan.Summary != c.want) {
			t.Errorf("creates %q removes %q: plan %+v, want %q", c.creates, c.removes, plan, c.want)
		}
	}
}

func TestHostileCommand(t *testing.T) {
	hostileEach(t, func(t *testing.T, r *hostileRig, v string) {
		// argv: the program's own path and every argument.
		prog := r.mkdir(r.root+"/prog "+v) + "/rec"
		r.writeFile(prog, hostileRecord, 0o755)
		a := &modules.CommandArgs{Argv: []string{prog, v, "--", "x" + v}}
		r.valid(&modules.Command{}, a)
		if _, _, err := modtest.RunBoth(t, &modules.Command{}, r.env, a); err != nil {
			t.Fatal(err)
		}
		if got, want := r.calls(), []hostileCall{{"rec", []string{v, "--", "x" + v}}}; !reflect.DeepEqual(got, want) {
			t.Errorf("argv arrived as %q, want %q", got, want)
		}
		// chdir, absolute and relative (a relative "-rf" is no option of cd).
		for _, dir := range []string{r.mkdir(r.root + "/cd " + v), v} {
			r.mkdir(r.work + "/" + v)
			res, err := (&modules.Command{}).Apply(context.Background(), r.env, &modules.CommandArgs{Argv: []string{"pwd"}, Chdir: dir}, nil)
			if err != nil {
				t.Fatal(err)
			}
			abs := dir
			if !filepath.IsAbs(dir) {
				abs = r.work + "/" + dir
			}
			if got := res.Outputs["stdout"].AsString(); got != abs+"\n" {
				t.Errorf("chdir %q: ran in %q", dir, got)
			}
		}
		// stdin.
		res, err := (&modules.Command{}).Apply(context.Background(), r.env, &modules.CommandArgs{Argv: []string{"cat"}, Stdin: v}, nil)
		if err != nil || res.Outputs["stdout"].AsString() != v {
			t.Errorf("stdin: %v %v", res, err)
		}
		hostileGuards(t, r, &modules.Command{}, func(c, rm string) any { return &modules.CommandArgs{Argv: []string{"true"}, Creates: c, Removes: rm} }, v)
	})
}

// TestHostileShell covers shell's values. Its cmd is shell text by design,
// the user's own script, so it is not a value here.
func TestHostileShell(t *testing.T) {
	hostileEach(t, func(t *testing.T, r *hostileRig, v string) {
		for _, dir := range []string{r.mkdir(r.root + "/cd " + v), v} {
			r.mkdir(r.work + "/" + v)
			a := &modules.ShellArgs{Cmd: "pwd -P", Chdir: dir}
			r.valid(&modules.Shell{}, a)
			res, err := (&modules.Shell{}).Apply(context.Background(), r.env, a, nil)
			if err != nil {
				t.Fatal(err)
			}
			abs := dir
			if !filepath.IsAbs(dir) {
				abs = r.work + "/" + dir
			}
			if got := res.Outputs["stdout"].AsString(); got != abs+"\n" {
				t.Errorf("chdir %q: ran in %q", dir, got)
			}
		}
		res, err := (&modules.Shell{}).Apply(context.Background(), r.env, &modules.ShellArgs{Cmd: "cat", Stdin: v}, nil)
		if err != nil || res.Outputs["stdout"].AsString() != v {
			t.Errorf("stdin: %v %v", res, err)
		}
		hostileGuards(t, r, &modules.Shell{}, func(c, rm string) any { return &modules.ShellArgs{Cmd: "true", Creates: c, Removes: rm} }, v)
	})
}

// ---- files: copy and render_config ----

// hostileDirEnd writes a file into a folder whose name ends with v (a
// trailing line break included: the parent folder is worked out in Go, not
// by $(dirname …), which would drop it). The writer must put exactly content
// there.
func hostileDirEnd(t *testing.T, r *hostileRig, v string, write func(name string) (string, error)) {
	t.Helper()
	dir := r.mkdir(r.root + "/end " + v)
	name := dir + "/file"
	content, err := write(name)
	if err != nil {
		t.Fatalf("%q: %v", name, err)
	}
	if got := r.readFile(name); got != content {
		t.Errorf("%q holds %q, want %q", name, got, content)
	}
}

func TestHostileCopy(t *testing.T) {
	hostileEach(t, func(t *testing.T, r *hostileRig, v string) {
		hostileDirEnd(t, r, v, func(name string) (string, error) {
			content := "end " + v
			_, _, err := modtest.RunBoth(t, &modules.Copy{}, r.env, &modules.CopyArgs{Content: &content, Dest: name})
			return content, err
		})
		dest := r.mkdir(r.root+"/d "+v+" d") + "/f " + v
		content, mode, backup := "content "+v, "0640", true
		a := &modules.CopyArgs{Content: &content, Dest: dest, Mode: &mode, Backup: &backup}
		r.valid(&modules.Copy{}, a)
		if _, _, err := modtest.RunBoth(t, &modules.Copy{}, r.env, a); err != nil {
			t.Fatal(err)
		}
		st, err := os.Stat(dest)
		if err != nil || r.readFile(dest) != content || st.Mode().Perm() != 0o640 {
			t.Fatalf("dest %q: %v %v", dest, st, err)
		}
		// A change keeps the previous content beside the file.
		content2 := v + " again"
		a.Content = &content2
		_, res, err := modtest.RunBoth(t, &modules.Copy{}, r.env, a)
		if err != nil {
			t.Fatal(err)
		}
		bak := res.Outputs["backup"].AsString()
		if !strings.HasPrefix(bak, dest+".") || r.readFile(bak) != content || r.readFile(dest) != content2 {
			t.Errorf("backup %q of %q", bak, dest)
		}
		if plan, err := (&modules.Copy{}).Check(context.Background(), r.env, a); err != nil || plan.Change {
			t.Errorf("converged copy: %+v %v", plan, err)
		}
		// owner goes to chown as one argument.
		dest2 := r.root + "/d " + v + " d/owned"
		r.resetCalls()
		if _, _, err := modtest.RunBoth(t, &modules.Copy{}, r.env, &modules.CopyArgs{Content: &content, Dest: dest2, Owner: &v}); err != nil {
			t.Fatal(err)
		}
		if got := r.argsOf("chown", ""); !reflect.DeepEqual(got, [][]string{{"--", v, dest2}}) {
			t.Errorf("chown got %q", got)
		}
		// mode must be octal; dest must be absolute.
		r.refused(&modules.Copy{}, &modules.CopyArgs{Content: &content, Dest: "/tmp/x", Mode: &v}, "mode")
		r.refused(&modules.Copy{}, &modules.CopyArgs{Content: &content, Dest: v}, "dest")
	})
}

func TestHostileRenderConfig(t *testing.T) {
	type field struct {
		key string
		set func(a *RenderConfigArgs, v string)
	}
	// Keys that take any text, written together with v in the path and as
	// the owner.
	free := []field{
		{"oms_meta_user", func(a *RenderConfigArgs, v string) { a.OmsMetaUser = v }},
		{"oms_meta_password", func(a *RenderConfigArgs, v string) { a.OmsMetaPassword = v }},
		{"cm_region", func(a *RenderConfigArgs, v string) { a.CMRegion = &v }},
		{"cm_region_cn", func(a *RenderConfigArgs, v string) { a.CMRegionCN = &v }},
		{"tsdb_username", func(a *RenderConfigArgs, v string) { a.TSDBUsername = &v }},
		{"tsdb_password", func(a *RenderConfigArgs, v string) { a.TSDBPassword = &v }},
	}
	// Keys with a rule of their own: a value is refused naming the key, or
	// written like the others.
	ruled := []field{
		{"oms_meta_host", func(a *RenderConfigArgs, v string) { a.OmsMetaHost = v }},
		{"drc_rm_db", func(a *RenderConfigArgs, v string) { a.DrcRmDB = &v }},
		{"cm_url", func(a *RenderConfigArgs, v string) { a.CMURL = v }},
		{"tsdb_url", func(a *RenderConfigArgs, v string) { a.TSDBURL = &v }},
	}
	// The only hostile values a ruled key takes: "$HOME" is a valid database
	// name ($ is allowed in MySQL identifiers), and cm_url's documented
	// normalisation trims the line break of "x\n" and writes http://x:8088.
	accepted := map[string]string{"drc_rm_db": "$HOME", "cm_url": "x\n"}
	hostileEach(t, func(t *testing.T, r *hostileRig, v string) {
		hostileDirEnd(t, r, v, func(name string) (string, error) {
			a := renderArgs(r.root)
			a.Path = name
			_, _, err := modtest.RunBoth(t, &RenderConfig{}, r.env, a)
			want, _ := a.render()
			return string(want), err
		})
		dir := r.mkdir(r.root + "/cfg " + v + " d")
		args := func(path string, fs []field) *RenderConfigArgs {
			a := renderArgs(dir)
			a.Path = path
			tsdb, tsdbURL, user, pass := true, "10.0.0.5:8086", "oms", "secret"
			a.TSDBEnabled, a.TSDBURL, a.TSDBUsername, a.TSDBPassword = &tsdb, &tsdbURL, &user, &pass
			for _, f := range fs {
				f.set(a, v)
			}
			return a
		}
		// write renders a, checks the file is the rendered text byte for
		// byte and that every key of fs reads back as v.
		write := func(a *RenderConfigArgs, fs []field) {
			t.Helper()
			r.resetCalls()
			if _, _, err := modtest.RunBoth(t, &RenderConfig{}, r.env, a); err != nil {
				t.Fatal(err)
			}
			want, err := a.render()
			if err != nil {
				t.Fatal(err)
			}
			got := r.readFile(a.Path)
			if got != string(want) {
				t.Errorf("%s differs from the rendered text:\n%s\nwant\n%s", a.Path, got, want)
			}
			var doc map[string]any
			if err := yaml.Unmarshal([]byte(got), &doc); err != nil {
				t.Fatal(err)
			}
			for _, f := range fs {
				wantV := v
				if f.key == "cm_url" {
					wantV, _ = omsconfig.NormalizeCMURL(v)
				}
				if doc[f.key] != wantV {
					t.Errorf("%s reads back as %q, want %q", f.key, doc[f.key], wantV)
				}
			}
			if st, err := os.Stat(a.Path); err != nil || st.Mode().Perm() != 0o600 {
				t.Errorf("%s: mode %v %v", a.Path, st, err)
			}
			// The stand-in chown changes nothing, so the owner is left out here.
			again := *a
			again.Owner = nil
			if plan, err := (&RenderConfig{}).Check(context.Background(), r.env, &again); err != nil {
				t.Errorf("%s: converged check: %v", a.Path, err)
			} else if plan.Change {
				t.Errorf("%s: converged check: %s", a.Path, plan.Summary)
			}
		}

		a := args(dir+"/config "+v, free)
		a.Owner = &v
		r.valid(&RenderConfig{}, a)
		write(a, free)
		if got := r.argsOf("chown", ""); !reflect.DeepEqual(got, [][]string{{"--", v, a.Path}}) {
			t.Errorf("chown got %q", got)
		}
		for _, f := range ruled {
			a := args(dir+"/"+f.key, []field{f})
			if accepted[f.key] != v {
				r.refused(&RenderConfig{}, a, f.key)
				continue
			}
			r.valid(&RenderConfig{}, a)
			write(a, []field{f})
		}
		a = renderArgs(dir)
		a.Mode = &v
		r.refused(&RenderConfig{}, a, "mode")
		a = renderArgs(dir)
		a.Path = v
		r.refused(&RenderConfig{}, a, "path")
	})
}

// ---- mkdir_mounts and preflight ----

func TestHostileMkdirMounts(t *testing.T) {
	hostileEach(t, func(t *testing.T, r *hostileRig, v string) {
		parent := r.mkdir(r.root + "/m " + v)
		p := parent + "/oms"
		a := &MkdirMountsArgs{Path: p, Owner: v, Mode: "0750", Subdirs: []string{v, "s/" + v}}
		r.valid(&MkdirMounts{}, a)
		if _, _, err := modtest.RunBoth(t, &MkdirMounts{}, r.env, a); err != nil {
			t.Fatal(err)
		}
		dirs := []string{p, p + "/" + v, p + "/s/" + v}
		for _, d := range dirs {
			if st, err := os.Stat(d); err != nil || !st.IsDir() || st.Mode().Perm() != 0o750 {
				t.Errorf("%q: %v %v", d, st, err)
			}
		}
		if got := r.argsOf("chown", ""); !reflect.DeepEqual(got, [][]string{append([]string{v, "--"}, dirs...)}) {
			t.Errorf("chown got %q", got)
		}
		// Free space is read on the nearest existing directory, even one
		// whose name ends in a line break.
		if got := r.argsOf("df", ""); len(got) == 0 || !reflect.DeepEqual(got[0], []string{"-Pk", "--", parent}) {
			t.Errorf("df got %q, want it on %q", got, parent)
		}
		a.Owner = ""
		if plan, err := (&MkdirMounts{}).Check(context.Background(), r.env, a); err != nil || plan.Change {
			t.Errorf("converged check %+v %v", plan, err)
		}
		r.refused(&MkdirMounts{}, &MkdirMountsArgs{Path: "/data/oms", Mode: v}, "mode")
		r.refused(&MkdirMounts{}, &MkdirMountsArgs{Path: v}, "path")
	})
}

func TestHostilePreflight(t *testing.T) {
	hostileEach(t, func(t *testing.T, r *hostileRig, v string) {
		parent := r.mkdir(r.root + "/pf " + v)
		skew := "0"
		for _, c := range []struct{ mount, dfOn string }{
			{parent + "/oms", parent},
			{v, "."}, // relative and absent: the working directory
		} {
			r.resetCalls()
			a := &PreflightArgs{MountDir: c.mount, Ports: []int{1}, MaxClockSkew: skew, ContainerName: "oms-2.b_c"}
			r.valid(&Preflight{}, a)
			if _, err := (&Preflight{}).Check(context.Background(), r.env, a); err != nil {
				t.Fatal(err)
			}
			if got := r.argsOf("df", ""); len(got) == 0 || !reflect.DeepEqual(got[0], []string{"-Pk", "--", c.dfOn}) {
				t.Errorf("mount_dir %q: df got %q, want it on %q", c.mount, got, c.dfOn)
			}
			if got := r.argsOf("docker", "inspect"); !reflect.DeepEqual(got, [][]string{{"inspect", "--format", "{{.State.Running}}", "oms-2.b_c"}}) {
				t.Errorf("docker inspect got %q", got)
			}
		}
		r.refused(&Preflight{}, &PreflightArgs{ContainerName: v}, "container_name")
	})
}

// ---- docker: docker_load, container_* , supervisor_restart, oms_status ----

func TestHostileDockerLoad(t *testing.T) {
	file, id := dkImageTarball(t, "oms:feature_4.2.5-ce", 1)
	tarball, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	m := &DockerLoad{archives: dockerarchive.NewCache("")}
	hostileEach(t, func(t *testing.T, r *hostileRig, v string) {
		r.writeFile(r.state+"/archive-id", id+"\n", 0o644)
		// tag: the image is there, both names are missing.
		if strings.HasPrefix(v, "-") {
			r.refused(m, &DockerLoadArgs{File: file, Tag: v}, "tag")
		} else {
			r.writeFile(r.state+"/image", id+"\n", 0o644)
			a := &DockerLoadArgs{File: file, Tag: v}
			r.valid(m, a)
			if _, _, err := modtest.RunBoth(t, m, r.env, a); err != nil {
				t.Fatal(err)
			}
			if got := r.argsOf("docker", "tag"); !reflect.DeepEqual(got, [][]string{{"tag", id, "oms:feature_4.2.5-ce"}, {"tag", id, v}}) {
				t.Errorf("docker tag got %q", got)
			}
			os.Remove(r.state + "/image")
		}
		// keep_file's dest, absolute (in a folder to create) and relative.
		for _, c := range []struct{ dest, file, loadArg string }{
			{r.root + "/k " + v + "/img " + v, r.root + "/k " + v + "/img " + v, r.root + "/k " + v + "/img " + v},
			{v, r.work + "/" + v, "./" + v},
		} {
			os.Remove(r.state + "/image")
			r.resetCalls()
			a := &DockerLoadArgs{File: file, KeepFile: true, Dest: c.dest}
			r.valid(m, a)
			if _, _, err := modtest.RunBoth(t, m, r.env, a); err != nil {
				t.Fatalf("dest %q: %v", c.dest, err)
			}
			if got := r.readFile(c.file); got != string(tarball) {
				t.Errorf("dest %q: %d bytes, want the tarball's %d", c.dest, len(got), len(tarball))
			}
			if _, err := os.Stat(c.file + ".part"); err == nil {
				t.Errorf("dest %q: .part left behind", c.dest)
			}
			if got := r.argsOf("docker", "load"); !reflect.DeepEqual(got, [][]string{{"load", "-i", c.loadArg}}) {
				t.Errorf("dest %q: docker load got %q", c.dest, got)
			}
		}
	})
}

// hostileContainerJSON is docker inspect's answer for the container the
// recorded docker run argv made.
func hostileContainerJSON(t *testing.T, run []string, envFile string) string {
	var c modules.Inspected
	c.ID, c.Image = "c0ffee", dkImgNew
	c.State.Status, c.State.Running = "running", true
	c.Config.Env = append([]string{"PATH=/usr/bin"}, strings.Split(strings.TrimSuffix(envFile, "\n"), "\n")...)
	c.HostConfig.NetworkMode, c.HostConfig.Privileged = "host", true
	c.HostConfig.RestartPolicy.Name = "no"
	c.HostConfig.Ulimits = []modules.Ulimit{{Name: "nproc", Soft: 65535, Hard: 65535}}
	for i := 0; i+1 < len(run); i++ {
		switch run[i] {
		case "-v":
			c.HostConfig.Binds = append(c.HostConfig.Binds, run[i+1]+":rw")
		case "-e":
			c.Config.Env = append(c.Config.Env, run[i+1])
		}
	}
	b, err := json.Marshal([]modules.Inspected{c})
	if err != nil {
		t.Fatal(err)
	}
	return string(b) + "\n"
}

func TestHostileContainerRun(t *testing.T) {
	srv := dkHealthServer(t, true)
	dir := t.TempDir()
	crt, key := dir+"/s.crt", dir+"/s.key"
	os.WriteFile(crt, []byte("CERT"), 0o644)
	os.WriteFile(key, []byte("KEY"), 0o600)
	hostileEach(t, func(t *testing.T, r *hostileRig, v string) {
		r.host.to = srv.Listener.Addr().String()
		r.writeFile(r.bin+"/docker", strings.Replace(hostileDocker, "S=$HOSTILE_STATE\n", "S=$HOSTILE_STATE\n"+hostileDockerStdin, 1), 0o755)
		r.writeFile(r.state+"/image", dkImgNew+"\n", 0o644)
		r.writeFile(r.state+"/status", "oms_drc_cm RUNNING pid 10\n", 0o644)
		base := func() *ContainerRunArgs {
			// A healthy first probe returns at once; only a host_ip that
			// cannot be probed waits, so the timeout is short.
			return &ContainerRunArgs{Image: "oms:4.2.5", MountDir: r.root + "/mnt", HealthTimeout: "0.01"}
		}
		run := func(name string, a *ContainerRunArgs, env map[string]string) {
			t.Helper()
			r.resetCalls()
			r.resetDials()
			os.Remove(r.state + "/container.json")
			r.valid(&ContainerRun{}, a)
			a.fill(r.env)
			r.mkdir(a.MountDir)
			r.mkdir(filepath.Dir(a.ConfigPath))
			r.writeFile(a.ConfigPath, "cfg", 0o600)
			plan, _, err := modtest.RunBoth(t, &ContainerRun{}, r.env, a)
			// A host_ip that is no address cannot be probed: the wait ends
			// in a clear error, after docker run got it literally.
			if err != nil && (a.HostIP == "10.0.0.2" || !strings.Contains(err.Error(), "not healthy")) {
				t.Fatalf("%s: %v", name, err)
			}
			if plan == nil || plan.Summary != "create container oms" {
				t.Errorf("%s: plan %q", name, plan.Summary)
			}
			want := []string{"run", "-d", "-it", "--name", "oms", "--restart", "no", "--network", "host",
				"-v", a.ConfigPath + ":/home/admin/conf/config.yaml", "-v", a.MountDir + "/logs:/home/admin/logs",
				"-v", a.MountDir + "/store:/home/ds/store", "-v", a.MountDir + "/run:/home/ds/run"}
			if a.HTTPSCrt != "" {
				want = append(want, "-v", a.MountDir+"/cert/oms_server.crt:/etc/pki/nginx/oms_server.crt",
					"-v", a.MountDir+"/cert/oms_server.key:/etc/pki/nginx/oms_server.key")
			}
			want = append(want, "--privileged", "--pids-limit", "-1", "--ulimit", "nproc=65535:65535", "--env-file", "/dev/stdin", a.Image)
			keys := make([]string, 0, len(env))
			for k := range env {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			var envFile strings.Builder
			for _, k := range keys {
				envFile.WriteString(k + "=" + env[k] + "\n")
			}
			if got := r.readFile(r.state + "/stdin"); got != envFile.String() {
				t.Errorf("%s: env file %q, want %q", name, got, envFile.String())
			}
			got := r.argsOf("docker", "run")
			if len(got) != 1 || !reflect.DeepEqual(got[0], want) {
				t.Fatalf("%s: docker run got\n%q\nwant\n%q", name, got, want)
			}
			if err == nil && len(r.host.dialed()) == 0 {
				t.Errorf("%s: healthy without a probe", name)
			}
			r.httpDialled(net.JoinHostPort(a.HostIP, "8089"), net.JoinHostPort(a.HostIP, "8088"))
			if a.HTTPSCrt != "" && (r.readFile(a.MountDir+"/cert/oms_server.crt") != "CERT" || r.readFile(a.MountDir+"/cert/oms_server.key") != "KEY") {
				t.Errorf("%s: certificates not copied", name)
			}
			// The container docker made from that argv matches the arguments:
			// nothing to do on the next run.
			r.writeFile(r.state+"/container.json", hostileContainerJSON(t, got[0], envFile.String()), 0o644)
			plan, err = (&ContainerRun{}).Check(context.Background(), r.env, a)
			if err != nil || plan.Change {
				t.Errorf("%s: converged check %+v %v", name, plan, err)
			}
		}

		a := base()
		a.Image = v
		if strings.HasPrefix(v, "-") {
			r.refused(&ContainerRun{}, a, "image")
		} else {
			run("image", a, map[string]string{"OMS_HOST_IP": "10.0.0.2"})
		}
		a = base()
		a.MountDir, a.HTTPSCrt, a.HTTPSKey = r.root+"/mnt "+v, crt, key
		run("mount_dir", a, map[string]string{"OMS_HOST_IP": "10.0.0.2"})
		a = base()
		a.ConfigPath = r.root + "/conf " + v + "/config " + v
		run("config_path", a, map[string]string{"OMS_HOST_IP": "10.0.0.2"})
		// Environment values travel in docker's env file, which cannot
		// carry a line break: refused before any host is touched.
		a = base()
		a.HostIP = v
		if strings.ContainsAny(v, "\r\n") {
			r.refused(&ContainerRun{}, a, "host_ip")
		} else {
			run("host_ip", a, map[string]string{"OMS_HOST_IP": v})
		}
		a = base()
		a.ExtraEnv = map[string]string{"EXTRA": v}
		if strings.ContainsAny(v, "\r\n") {
			r.refused(&ContainerRun{}, a, "extra_env")
		} else {
			run("extra_env value", a, map[string]string{"OMS_HOST_IP": "10.0.0.2", "EXTRA": v})
		}
		a = base()
		a.ExtraEnv = map[string]string{v: "1"}
		if strings.ContainsAny(v, "= \n") {
			r.refused(&ContainerRun{}, a, "extra_env")
		} else {
			run("extra_env name", a, map[string]string{"OMS_HOST_IP": "10.0.0.2", v: "1"})
		}

		// A missing config.yaml is named exactly in the error docker run's
		// guard prints.
		a = base()
		a.ConfigPath = r.root + "/absent " + v + "/config.yaml"
		os.Remove(r.state + "/container.json")
		_, _, err := modtest.RunBoth(t, &ContainerRun{}, r.env, a)
		var ce *modules.CommandError
		if !errors.As(err, &ce) || ce.Stderr != "config.yaml missing: "+a.ConfigPath+" (render it first)\n" {
			t.Errorf("missing config: %v", err)
		}

		a = base()
		a.Name = v
		r.refused(&ContainerRun{}, a, "name")
	})
	r := newHostileRig(t)
	r.refused(&ContainerRun{}, &ContainerRunArgs{Image: "oms:4.2.5", MountDir: "/data/a:b"}, "mount_dir and config_path")
}

func TestHostileContainerRemove(t *testing.T) {
	hostileEach(t, func(t *testing.T, r *hostileRig, v string) {
		r.refused(&ContainerRemove{}, &ContainerRemoveArgs{Name: v}, "name")
	})
	r := newHostileRig(t)
	a := &ContainerRemoveArgs{Name: "oms-2.b_c"}
	r.valid(&ContainerRemove{}, a)
	if _, _, err := modtest.RunBoth(t, &ContainerRemove{}, r.env, a); err != nil {
		t.Fatal(err)
	}
	if got := r.argsOf("docker", "rm"); !reflect.DeepEqual(got, [][]string{{"rm", "-f", "oms-2.b_c"}}) {
		t.Errorf("docker rm got %q", got)
	}
}

func TestHostileContainerInfo(t *testing.T) {
	const cfg = "oms_meta_password: \"drc_rm_db: no\"\ndrc_rm_db: oms_rm\ndrc_cm_db: 'oms_cm'\ndrc_cm_heartbeat_db: \"oms_hb\"\n"
	hostileEach(t, func(t *testing.T, r *hostileRig, v string) {
		// A decoy a glob or a split path would also read.
		r.writeFile(r.mkdir(r.root+"/ci zz-decoy")+"/config.yaml", "drc_rm_db: decoy\n", 0o644)
		r.writeFile(r.work+"/zz-decoy", "drc_rm_db: decoy\n", 0o644)
		abs := r.mkdir(r.root+"/ci "+v) + "/config.yaml"
		for _, p := range []string{abs, v} {
			name := p
			if !filepath.IsAbs(p) {
				name = r.work + "/" + p
			}
			r.writeFile(name, cfg, 0o644)
			a := &ContainerInfoArgs{ConfigPath: p}
			r.valid(&ContainerInfo{}, a)
			plan, err := (&ContainerInfo{}).Check(context.Background(), r.env, a)
			if err != nil {
				t.Fatal(err)
			}
			var dbs []string
			for _, d := range plan.Outputs["databases"].AsValueSlice() {
				dbs = append(dbs, d.AsString())
			}
			if !reflect.DeepEqual(dbs, []string{"oms_rm", "oms_cm", "oms_hb"}) || !plan.Outputs["running"].True() {
				t.Errorf("config_path %q: databases %q, outputs %v", p, dbs, plan.Outputs)
			}
		}
		r.refused(&ContainerInfo{}, &ContainerInfoArgs{Name: v}, "name")
	})
}

func TestHostileOMSStatus(t *testing.T) {
	hostileEach(t, func(t *testing.T, r *hostileRig, v string) {
		r.writeFile(r.state+"/status", "oms_console RUNNING pid 1\n", 0o644)
		a := &OMSStatusArgs{HostIP: v}
		r.valid(&OMSStatus{}, a)
		plan, err := (&OMSStatus{}).Check(context.Background(), r.env, a)
		if err != nil {
			t.Fatal(err)
		}
		if plan.Outputs["programs"].AsBigFloat().String() != "1" {
			t.Errorf("outputs %v", plan.Outputs)
		}
		// host_ip is only dialled (nothing answers here), never put in a command.
		r.httpDialled(net.JoinHostPort(v, "8088"), net.JoinHostPort(v, "8089"))
		if plan.Outputs["healthy"].True() {
			t.Errorf("healthy with nothing answering: %v", plan.Outputs)
		}
		for _, c := range r.local.Commands() {
			if strings.Contains(c.Script+strings.Join(c.Argv, " "), v) {
				t.Errorf("host_ip reached a command: %q %q", c.Argv, c.Script)
			}
		}
		r.refused(&OMSStatus{}, &OMSStatusArgs{Container: v}, "container")
	})
}

func TestHostileSupervisorRestart(t *testing.T) {
	srv := dkHealthServer(t, true)
	no := false
	hostileEach(t, func(t *testing.T, r *hostileRig, v string) {
		// programs: one argument each, or refused when supervisorctl would split them.
		if strings.ContainsAny(v, " \t\n") {
			r.refused(&SupervisorRestart{}, &SupervisorRestartArgs{Programs: []string{v}}, "programs")
		} else {
			r.host.to = srv.Listener.Addr().String()
			a := &SupervisorRestartArgs{Programs: []string{v, "oms_console"}, InitConfig: &no, Timeout: "5"}
			r.writeFile(r.state+"/status", v+"   RUNNING   pid 12, uptime 0:00:01\noms_console RUNNING pid 13\noms_drc_cm RUNNING pid 10\n", 0o644)
			r.valid(&SupervisorRestart{}, a)
			if _, _, err := modtest.RunBoth(t, &SupervisorRestart{}, r.env, a); err != nil {
				t.Fatal(err)
			}
			if got := r.argsOf("docker", "exec"); len(got) == 0 || !reflect.DeepEqual(got[0], []string{"exec", "oms", "supervisorctl", "restart", v, "oms_console"}) {
				t.Errorf("docker exec got %q", got)
			}
			r.host.to = ""
		}
		// host_ip is only dialled.
		r.writeFile(r.state+"/status", "oms_console RUNNING pid 13\noms_drc_cm RUNNING pid 10\n", 0o644)
		r.host.to = srv.Listener.Addr().String()
		r.resetDials()
		a := &SupervisorRestartArgs{HostIP: v, Programs: []string{"oms_console"}, InitConfig: &no, Timeout: "0.01"}
		r.valid(&SupervisorRestart{}, a)
		_, res, err := modtest.RunBoth(t, &SupervisorRestart{}, r.env, a)
		if err != nil && !strings.Contains(err.Error(), "not healthy") || err == nil && (res == nil || len(r.host.dialed()) == 0) {
			t.Errorf("host_ip: %+v %v", res, err)
		}
		r.httpDialled(net.JoinHostPort(v, "8089"), net.JoinHostPort(v, "8088"))
		r.host.to = ""
		// mount_dir only names the logs shown on failure, absolute and relative.
		r.writeFile(r.state+"/status", "oms_console FATAL Exited too quickly\n", 0o644)
		for _, mount := range []string{r.root + "/sm " + v, v} {
			logs := mount + "/logs"
			if !filepath.IsAbs(mount) {
				logs = r.work + "/" + logs
			}
			// The real name; an older init log beside it is not the one shown.
			r.writeFile(r.mkdir(logs)+"/docker_init.log.2026-01-01.09:00:00", "OLD\n", 0o644)
			os.Chtimes(logs+"/docker_init.log.2026-01-01.09:00:00", time.Now().Add(-time.Hour), time.Now().Add(-time.Hour))
			r.writeFile(logs+"/docker_init.log.2026-01-01.10:00:00", "INIT LOG of "+v+" END\n", 0o644)
			a := &SupervisorRestartArgs{MountDir: mount, Programs: []string{"oms_console"}, InitConfig: &no, Timeout: "0.01"}
			r.valid(&SupervisorRestart{}, a)
			_, err := (&SupervisorRestart{}).Apply(context.Background(), r.env, a, &modules.Plan{})
			want := "\n--- " + mount + "/logs/docker_init.log.2026-01-01.10:00:00 (last 20 lines):\nINIT LOG of " + v + " END\n"
			if err == nil || !strings.Contains(err.Error()+"\n", want) {
				t.Errorf("mount_dir %q: error lacks %q:\n%v", mount, want, err)
			}
		}
		r.refused(&SupervisorRestart{}, &SupervisorRestartArgs{Container: v}, "container")
	})
}

// ---- modules that only dial ----

func TestHostileOnlyDial(t *testing.T) {
	body := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("before " + r.URL.Query().Get("v") + " after"))
	}))
	t.Cleanup(body.Close)
	hostileEach(t, func(t *testing.T, r *hostileRig, v string) {
		// wait_for: the host and port are dialled as given...
		a := &modules.WaitForArgs{Host: v, Port: 1}
		r.valid(&modules.WaitFor{}, a)
		plan, err := (&modules.WaitFor{}).Check(context.Background(), r.env, a)
		if err != nil || !plan.Unknown {
			t.Errorf("wait_for: %+v %v", plan, err)
		}
		if got := r.host.dialed(); !reflect.DeepEqual(got, []string{net.JoinHostPort(v, "1")}) {
			t.Errorf("wait_for dialled %q", got)
		}
		// ...and the body is compared as given.
		r.host.to = body.Listener.Addr().String()
		a = &modules.WaitForArgs{URL: "http://oms.example:8089/health?v=" + url.QueryEscape(v), Body: v}
		r.valid(&modules.WaitFor{}, a)
		if plan, err := (&modules.WaitFor{}).Check(context.Background(), r.env, a); err != nil || plan.Unknown {
			t.Errorf("wait_for body: %+v %v", plan, err)
		}
		r.host.to = ""

		// metadb_*: MySQL spoken from here, dialled through the host.
		for _, m := range []struct {
			name string
			mod  modules.Module
			args any
		}{
			{"metadb_check", &MetadbCheck{}, &MetadbCheckArgs{Host: v, Port: 2881, User: v, Password: v, Databases: []string{"oms_rm"}, ViaHost: true}},
			{"metadb_backup", &MetadbBackup{}, &MetadbBackupArgs{Host: v, Port: 2881, User: v, Password: v, Databases: []string{"oms_rm"}, ViaHost: true}},
			{"metadb_drop", &MetadbDrop{}, &MetadbDropArgs{Host: v, Port: 2881, User: v, Password: v, Databases: []string{"oms_rm"}, ViaHost: true}},
		} {
			r.resetDials()
			r.valid(m.mod, m.args)
			if _, err := m.mod.Check(context.Background(), r.env, m.args); err == nil {
				t.Errorf("%s: reached an unreachable MetaDB", m.name)
			}
			dials := r.host.dialed()
			if len(dials) == 0 {
				t.Errorf("%s: never dialled", m.name)
			}
			for _, d := range dials {
				if d != net.JoinHostPort(v, "2881") {
					t.Errorf("%s dialled %q", m.name, d)
				}
			}
		}
		if n := len(r.local.Commands()); n != 0 {
			t.Errorf("%d command(s) ran", n)
		}
	})
}
