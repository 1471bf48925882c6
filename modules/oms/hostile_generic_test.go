package oms

// Hostile values through the generic modules added for the TSDB and the VIP
// (template, file, fetch, container), on the same rig as hostile_test.go:
// every value must reach the remote program as exactly the bytes given, or
// be refused by Validate.

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/zclconf/go-cty/cty"

	"github.com/omsrun/omsrun/modules"
	"github.com/omsrun/omsrun/modules/modtest"
)

func TestHostileTemplate(t *testing.T) {
	hostileEach(t, func(t *testing.T, r *hostileRig, v string) {
		src := r.root + "/t.tpl"
		r.writeFile(src, "value=${v}\n$${x}\n", 0o644)
		hostileDirEnd(t, r, v, func(name string) (string, error) {
			a := &modules.TemplateArgs{Src: src, Dest: name, Vars: cty.ObjectVal(map[string]cty.Value{"v": cty.StringVal(v)})}
			r.valid(&modules.Template{}, a)
			_, _, err := modtest.RunBoth(t, &modules.Template{}, r.env, a)
			// A template's literal "$${x}" and a value holding ${…} both stay text.
			return "value=" + v + "\n${x}\n", err
		})
		r.resetCalls()
		dest := r.mkdir(r.root+"/d "+v) + "/owned"
		a := &modules.TemplateArgs{Src: src, Dest: dest, Owner: &v, Vars: cty.ObjectVal(map[string]cty.Value{"v": cty.StringVal(v)})}
		if _, _, err := modtest.RunBoth(t, &modules.Template{}, r.env, a); err != nil {
			t.Fatal(err)
		}
		if got := r.argsOf("chown", ""); !reflect.DeepEqual(got, [][]string{{"--", v, dest}}) {
			t.Errorf("chown got %q", got)
		}
		r.refused(&modules.Template{}, &modules.TemplateArgs{Src: src, Dest: "/x", Mode: &v, Vars: a.Vars}, "mode")
		r.refused(&modules.Template{}, &modules.TemplateArgs{Src: src + v, Dest: "/x"}, "src")
	})
}

func TestHostileFile(t *testing.T) {
	hostileEach(t, func(t *testing.T, r *hostileRig, v string) {
		dir := r.root + "/dir " + v
		mode := "0750"
		if _, _, err := modtest.RunBoth(t, &modules.File{}, r.env, &modules.FileArgs{Path: dir, State: "directory", Mode: &mode}); err != nil {
			t.Fatal(err)
		}
		if fi, err := os.Stat(dir); err != nil || !fi.IsDir() || fi.Mode().Perm() != 0o750 {
			t.Fatalf("%q: %v %v", dir, fi, err)
		}
		link := r.root + "/link " + v
		if _, _, err := modtest.RunBoth(t, &modules.File{}, r.env, &modules.FileArgs{Path: link, State: "link", Src: &v}); err != nil {
			t.Fatal(err)
		}
		if got, err := os.Readlink(link); err != nil || got != v {
			t.Errorf("link %q → %q (%v), want %q", link, got, err, v)
		}
		// Read back: the link's target as given, so a second run changes nothing.
		if p, err := (&modules.File{}).Check(context.Background(), r.env, &modules.FileArgs{Path: link, State: "link", Src: &v}); err != nil || p.Change {
			t.Errorf("link not converged: %+v %v", p, err)
		}
		r.resetCalls()
		if _, _, err := modtest.RunBoth(t, &modules.File{}, r.env, &modules.FileArgs{Path: dir, State: "directory", Owner: &v}); err != nil {
			t.Fatal(err)
		}
		if got := r.argsOf("chown", ""); !reflect.DeepEqual(got, [][]string{{"--", v, dir}}) {
			t.Errorf("chown got %q", got)
		}
		for _, p := range []string{link, dir} {
			if _, _, err := modtest.RunBoth(t, &modules.File{}, r.env, &modules.FileArgs{Path: p, State: "absent"}); err != nil {
				t.Fatal(err)
			}
			if _, err := os.Lstat(p); err == nil {
				t.Errorf("%q not removed", p)
			}
		}
		r.refused(&modules.File{}, &modules.FileArgs{Path: "/x", State: "directory", Mode: &v}, "mode")
		r.refused(&modules.File{}, &modules.FileArgs{Path: "/x", State: v}, "state")
		r.refused(&modules.File{}, &modules.FileArgs{Path: v, State: "absent"}, "path")
	})
}

func TestHostileFetch(t *testing.T) {
	hostileEach(t, func(t *testing.T, r *hostileRig, v string) {
		src := r.mkdir(r.root+"/logs "+v) + "/f " + v
		r.writeFile(src, "a\nb "+v+"\n", 0o644)
		dest := r.root + "/bundle " + v
		env := *r.env
		env.HostName = "oms1"
		for _, tail := range []*int{nil, ptr(1)} {
			a := &modules.FetchArgs{Src: src, Dest: dest, Tail: tail}
			r.valid(&modules.Fetch{}, a)
			_, res, err := modtest.RunBoth(t, &modules.Fetch{}, &env, a)
			if err != nil {
				t.Fatal(err)
			}
			want := "a\nb " + v + "\n"
			if tail != nil {
				lines := strings.SplitAfter(want, "\n")
				want = lines[len(lines)-2] // the last line; SplitAfter leaves "" after it
			}
			if got := r.readFile(res.Outputs["dest"].AsString()); got != want {
				t.Errorf("tail %v: fetched %q, want %q", tail, got, want)
			}
			if filepath.Dir(res.Outputs["dest"].AsString()) != filepath.Join(dest, "oms1") {
				t.Errorf("fetched to %q", res.Outputs["dest"].AsString())
			}
		}
		r.refused(&modules.Fetch{}, &modules.FetchArgs{Src: v, Dest: dest}, "src")
	})
}

// hostileDockerStdin keeps what docker run read on stdin (the env file).
const hostileDockerStdin = `[ "$1" = run ] && cat >"$HOSTILE_STATE/stdin"
`

func TestHostileContainer(t *testing.T) {
	hostileEach(t, func(t *testing.T, r *hostileRig, v string) {
		r.writeFile(r.bin+"/docker", strings.Replace(hostileDocker, "S=$HOSTILE_STATE\n", "S=$HOSTILE_STATE\n"+hostileDockerStdin, 1), 0o755)
		r.writeFile(r.state+"/image", "sha256:feedfeedfeedfeed\n", 0o644)
		mount := r.root + "/m " + v
		env := map[string]string{"PASSWORD": v}
		a := &modules.ContainerArgs{Name: "tsdb", Image: "influxdb:1.8", Env: env, Mounts: []string{mount + ":/var/lib/influxdb"},
			Ports: []string{"8086:8086"}, CapAdd: []string{"NET_ADMIN"}, Command: []string{"influxd", v, "-" + v}}
		if strings.ContainsAny(v, ":,\r\n") {
			r.refused(&modules.Container{}, a, map[bool]string{true: "mounts", false: "env"}[strings.ContainsAny(v, ":,")])
			return
		}
		r.valid(&modules.Container{}, a)
		if _, _, err := modtest.RunBoth(t, &modules.Container{}, r.env, a); err != nil {
			t.Fatal(err)
		}
		want := []string{"run", "-d", "--name", "tsdb", "--restart", "unless-stopped", "-p", "8086:8086",
			"-v", mount + ":/var/lib/influxdb", "--cap-add", "NET_ADMIN", "--env-file", "/dev/stdin", "influxdb:1.8", "influxd", v, "-" + v}
		if got := r.argsOf("docker", "run"); len(got) != 1 || !reflect.DeepEqual(got[0], want) {
			t.Fatalf("docker run got\n%q\nwant\n%q", got, want)
		}
		if got := r.readFile(r.state + "/stdin"); got != "PASSWORD="+v+"\n" {
			t.Errorf("env file %q", got)
		}
		for _, c := range r.calls() {
			if strings.Contains(strings.Join(c.args, " "), "PASSWORD") {
				t.Errorf("the environment reached a command line: %q", c.args)
			}
		}
		r.refused(&modules.Container{}, &modules.ContainerArgs{Name: v, Image: "x"}, "name")
		r.refused(&modules.Container{}, &modules.ContainerArgs{Name: "x", Image: "x", Restart: v}, "restart")
		r.refused(&modules.Container{}, &modules.ContainerArgs{Name: "x", Image: "x", CapAdd: []string{v}}, "cap_add")
		r.refused(&modules.Container{}, &modules.ContainerArgs{Name: "x", Image: "x", Ports: []string{v}}, "ports")
	})
}

func ptr[T any](v T) *T { return &v }
