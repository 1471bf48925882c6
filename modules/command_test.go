package modules

import (
	"context"
	"strings"
	"testing"
)

func TestCommandGuards(t *testing.T) {
	cases := []struct {
		name       string
		args       CommandArgs
		guardOut   string
		wantRun    bool
		wantInPlan string
	}{
		{name: "no guard runs", args: CommandArgs{Argv: []string{"echo", "a b"}}, wantRun: true, wantInPlan: "echo 'a b'"},
		{name: "creates exists skips", args: CommandArgs{Argv: []string{"touch", "/x"}, Creates: "/x"}, guardOut: "creates\n", wantInPlan: "/x exists"},
		{name: "creates missing runs", args: CommandArgs{Argv: []string{"touch", "/x"}, Creates: "/x"}, wantRun: true},
		{name: "removes missing skips", args: CommandArgs{Argv: []string{"rm", "/y"}, Removes: "/y"}, guardOut: "removes\n", wantInPlan: "does not exist"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := (&dkHost{}).on("if [", 0, tc.guardOut, "").on("", 0, "hello\n", "")
			env, _ := dkEnv(h)
			plan, res, err := dkRunBoth(t, &Command{}, env, &tc.args)
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
	h := (&dkHost{}).on("ls", 2, "", "ls: cannot access '/nope; rm -rf /': No such file or directory\n")
	env, _ := dkEnv(h)
	_, err := (&Command{}).Apply(context.Background(), env, &CommandArgs{Argv: []string{"ls", "/nope; rm -rf /"}}, nil)
	if err == nil {
		t.Fatal("want an error")
	}
	for _, want := range []string{"ls '/nope; rm -rf /'", "exit status 2", "No such file"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if !h.become[0] {
		t.Error("become not passed through")
	}
}

func TestShellChdirAndStdin(t *testing.T) {
	h := (&dkHost{}).on("cat", 0, "x", "")
	env, _ := dkEnv(h)
	res, err := (&Shell{}).Apply(context.Background(), env, &ShellArgs{Cmd: "cat | wc -c", Chdir: "/tmp/a b", Stdin: "data"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := h.commands()[0]; got != "cd '/tmp/a b' || exit; cat | wc -c" {
		t.Errorf("script %q", got)
	}
	if h.stdin[0] != "data" || !res.Changed {
		t.Errorf("stdin %q, result %+v", h.stdin[0], res)
	}
	if err := (&Shell{}).Validate(&ShellArgs{Cmd: "  "}); err == nil {
		t.Error("empty cmd accepted")
	}
}
