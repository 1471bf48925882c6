package oms

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/omsrun/omsrun/internal/transport/transporttest"
	"github.com/omsrun/omsrun/modules/modtest"
)

func TestMkdirMounts(t *testing.T) {
	const (
		dfSmall = "tmpfs 4194304 1024 4193280 1% /data\n"
		dfBig   = "/dev/sda1 209715200 1024 209714176 1% /\n"
		dkSmall = "/var/lib/docker tmpfs 4194304 1024 4193280 1% /var/lib/docker\n"
		dkSame  = "/data/docker tmpfs 4194304 1024 4193280 1% /data\n"
	)
	dir := "directory|755|root|root|0|0\n"
	cases := []struct {
		name      string
		args      MkdirMountsArgs
		stats     string
		df, dk    string
		wantPlan  string
		wantApply string
		wantErr   string
		wantWarns int
	}{
		{
			name:  "bare host: creates all, warns twice",
			args:  MkdirMountsArgs{Path: "/data/oms", Mode: "0750", Owner: "admin"},
			stats: "missing\nmissing\nmissing\nmissing\n", df: dfSmall, dk: dkSmall,
			wantPlan:  "create /data/oms, /data/oms/logs, /data/oms/store, /data/oms/run",
			wantApply: "mkdir -p -- /data/oms /data/oms/logs /data/oms/store /data/oms/run && chmod 0750 -- /data/oms /data/oms/logs /data/oms/store /data/oms/run && chown admin -- ",
			wantWarns: 2,
		},
		{
			name:  "converged, same filesystem warns once",
			args:  MkdirMountsArgs{Path: "/data/oms", Mode: "755", Owner: "0:root"},
			stats: dir + dir + dir + dir, df: dfSmall, dk: dkSame,
			wantPlan: "in place", wantWarns: 1,
		},
		{
			name:  "one missing, one wrong mode, big disk, threshold off",
			args:  MkdirMountsArgs{Path: "/data/oms", Mode: "0755", MinFreeGB: new(float64)},
			stats: dir + "directory|700|root|root|0|0\n" + dir + "missing\n", df: dfSmall, dk: dkSmall,
			wantPlan:  "create /data/oms/run; chmod 0755 /data/oms/logs, /data/oms/run",
			wantApply: "mkdir -p -- /data/oms/run && chmod 0755 -- /data/oms/logs /data/oms/run",
		},
		{
			name:  "mount dir is a file",
			args:  MkdirMountsArgs{Path: "/data/oms"},
			stats: "regular file|644|root|root|0|0\nmissing\nmissing\nmissing\n", df: dfBig,
			wantErr: "/data/oms exists and is a regular file",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := (&modtest.Host{}).On("stat -L", 0, tc.stats+mountsSep+"\n"+tc.df+mountsSep+"\n"+tc.dk, "").On("mkdir -p", 0, "", "").On("chmod", 0, "", "")
			env, rep := modtest.NewEnv(h)
			if err := (&MkdirMounts{}).Validate(&tc.args); err != nil {
				t.Fatal(err)
			}
			plan, res, err := modtest.RunBoth(t, &MkdirMounts{}, env, &tc.args)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(plan.Summary, tc.wantPlan) {
				t.Errorf("plan %q lacks %q", plan.Summary, tc.wantPlan)
			}
			if tc.wantApply != "" {
				if res == nil || !h.Ran(tc.wantApply) {
					t.Errorf("commands %q lack %q", h.Commands(), tc.wantApply)
				}
			} else if res != nil {
				t.Errorf("converged host changed: %+v", res)
			}
			if len(rep.Warns) != tc.wantWarns {
				t.Errorf("warnings %q, want %d", rep.Warns, tc.wantWarns)
			}
		})
	}
}

func TestMkdirMountsValidate(t *testing.T) {
	for name, a := range map[string]MkdirMountsArgs{
		"relative": {Path: "data/oms"},
		"root":     {Path: "/"},
		"mode":     {Path: "/data/oms", Mode: "rwx"},
		"escape":   {Path: "/data/oms", Subdirs: []string{"../etc"}},
	} {
		if err := (&MkdirMounts{}).Validate(&a); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// TestMkdirMountsRealScriptOddPath runs the real read and create scripts on
// the local machine with a path full of shell metacharacters.
func TestMkdirMountsRealScriptOddPath(t *testing.T) {
	local := transporttest.NewLocal(t)
	odd := filepath.Join(local.Dir, "o m's \"$(touch pwned)\"; `id` \n x")
	env, _ := modtest.NewEnv(&modtest.Host{Fallback: local})
	env.Become = false
	args := &MkdirMountsArgs{Path: odd, Mode: "0705"}
	if err := (&MkdirMounts{}).Validate(args); err != nil {
		t.Fatal(err)
	}
	plan, res, err := modtest.RunBoth(t, &MkdirMounts{}, env, args)
	if err != nil || !plan.Change || res == nil {
		t.Fatalf("plan %+v result %+v err %v", plan, res, err)
	}
	for _, d := range []string{odd, odd + "/logs", odd + "/store", odd + "/run"} {
		st, err := os.Stat(d)
		if err != nil || !st.IsDir() || st.Mode().Perm() != 0o705 {
			t.Errorf("%q: %v %v", d, st, err)
		}
	}
	if _, err := os.Stat(filepath.Join(local.Dir, "pwned")); err == nil {
		t.Error("a $(…) in the path was executed")
	}
	plan, err = (&MkdirMounts{}).Check(context.Background(), env, args)
	if err != nil || plan.Change {
		t.Errorf("second check: %+v %v", plan, err)
	}
}
