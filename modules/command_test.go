package modules_test

import (
	"context"
	"strings"
	"testing"

	"github.com/omsrun/omsrun/modules"
	"github.com/omsrun/omsrun/modules/modtest"
)

func TestCommandGuards(t *testing.T) {
	cases := []struct {
		name       string
		args       modules.CommandArgs
		guardOut   string
		wantRun    bool
		wantInPlan string
	}{
		{name: "no guard runs", args: modules.CommandArgs{Argv: []string{"echo", "a b"}}, wantRun: true, wantInPlan: "echo 'a b'"},
		{name: "creates exists skips", args: modules.CommandArgs{Argv: []string{"touch", "/x"}, Creates: "/x"}, guardOut: "creates\n", wantInPlan: "/x exists"},
		{name: "creates missing runs", args: modules.CommandArgs{Argv: []string{"touch", "/x"}, Creates: "/x"}, wantRun: true},
		{name: "removes missing skips", args: modules.CommandArgs{Argv: []string{"rm", "/y"}, Removes: "/y"}, guardOut: "removes\n", wantInPlan: "does not exist"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := (&modtest.Host{}).On("if [", 0, tc.guardOut, "").On("", 0, "hello\n", "")
			env, _ := modtest.NewEnv(h)
			plan, res, err := modtest.RunBoth(t, &modules.Command{}, env, &tc.args)
			if err != nil {
				t.Fatal(err)
			}
			if plan.Unknown != tc.wantRun || (res != nil) != tc.wantRun {
				t.Fatalf("plan %+v, result %+v; want run=%v", plan, res, tc.wantRun)
			}
			if !strings.Contains(plan.Summary, tc.wantInPlan) {
				t.Errorf("summary %q lacks %q", plan.Summary, tc.wantInPlan)
			}
			if tc.wantRun && (!res.Changed || res.Outputs["stdout"].AsString() != "hello\n") {
				t.Errorf("result %+v", res)
			}
		})
	}
}

func TestCommandArgvQuotedAndFailureNamesCommand(t *testing.T) {
	h := (&modtest.Host{}).On("ls", 2, "", "ls: cannot access '/nope; rm -rf /': No such file or directory\n")
	env, _ := modtest.NewEnv(h)
	_, err := (&modules.Command{}).Apply(context.Background(), env, &modules.CommandArgs{Argv: []string{"ls", "/nope; rm -rf /"}}, nil)
	if err == nil {
		t.Fatal("want an error")
	}
	for _, want := range []string{"ls '/nope; rm -rf /'", "exit status 2", "No such file"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if !h.BecomeLog[0] {
		t.Error("become not passed through")
	}
}

func TestShellChdirAndStdin(t *testing.T) {
	h := (&modtest.Host{}).On("cat", 0, "x", "")
	env, _ := modtest.NewEnv(h)
	res, err := (&modules.Shell{}).Apply(context.Background(), env, &modules.ShellArgs{Cmd: "cat | wc -c", Chdir: "/tmp/a b", Stdin: "data"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := h.Commands()[0]; got != "cd '/tmp/a b' || exit; cat | wc -c" {
		t.Errorf("script %q", got)
	}
	if h.Stdin[0] != "data" || !res.Changed {
		t.Errorf("stdin %q, result %+v", h.Stdin[0], res)
	}
	if err := (&modules.Shell{}).Validate(&modules.ShellArgs{Cmd: "  "}); err == nil {
		t.Error("empty cmd accepted")
	}
}
