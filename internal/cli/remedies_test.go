package cli

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestRemediesWorkAsPrinted: every remedy a message proposes for input that
// needs no host is followed here exactly as printed — the words the message
// says, parsed out of it — and must make that message go away (issue #14
// point 7). docs/remedies.md lists every remedy message and where it is
// followed; the ones that need hosts are followed in e2e tests.
func TestRemediesWorkAsPrinted(t *testing.T) {
	img := tinyArchive(t)
	vars := "@../../testdata/cli/vars.hcl"
	base := []string{"validate", "../../playbooks/deploy.hcl", "-i", "../../testdata/inventory/lab.hcl", "-e", vars, "-e", "image_file=" + img}
	without := func(args []string, drop ...string) []string {
		var out []string
		for i := 0; i < len(args); i++ {
			if args[i] == "-e" && i+1 < len(args) && slices.ContainsFunc(drop, func(d string) bool { return strings.HasPrefix(args[i+1], d+"=") }) {
				i++
				continue
			}
			out = append(out, args[i])
		}
		return out
	}
	for _, tc := range []struct {
		name string
		args []string
		env  map[string]string // unset before the first run
		// remedy finds the remedy in the message; follow turns its
		// submatches into the next run's arguments (and environment).
		remedy string
		follow func(t *testing.T, args, m []string) []string
	}{
		{
			name:   "required variable: pass it with -e NAME=VALUE",
			args:   without(base, "image_file"),
			remedy: `Pass it with -e (image_file)=VALUE`,
			follow: func(_ *testing.T, args, m []string) []string { return append(args, "-e", m[1]+"="+img) },
		},
		{
			name:   "no inventory: pass -i FILE",
			args:   []string{"validate", "../../playbooks/deploy.hcl", "-e", vars, "-e", "image_file=" + img},
			remedy: `no inventory: pass (-i) FILE`,
			follow: func(_ *testing.T, args, m []string) []string {
				return append(args, m[1], "../../testdata/inventory/lab.hcl")
			},
		},
		{
			name:   "a list given bare: write lists as [\"a\", \"b\"]",
			args:   append(slices.Clone(base), "-e", "cm_nodes=10.0.0.11"),
			remedy: `write lists as (\["a", "b"\])`,
			follow: func(_ *testing.T, args, m []string) []string {
				return append(without(args, "cm_nodes"), "-e", `cm_nodes=["10.0.0.11", "10.0.0.12", "10.0.1.13"]`)
			},
		},
		{
			name:   "a secret from an unset environment variable: read -rs NAME && export NAME",
			args:   append(slices.Clone(base), "-e", "oms_meta_password=@env:OMSRUN_REMEDY_PW"),
			env:    map[string]string{"OMSRUN_REMEDY_PW": ""},
			remedy: `set it first, e\.g\. read -rs (\w+) && export (\w+)\.`,
			follow: func(t *testing.T, args, m []string) []string {
				if m[1] != m[2] {
					t.Fatalf("read and export name different variables: %v", m)
				}
				t.Setenv(m[1], "typed-at-the-prompt")
				return args
			},
		},
		{
			name:   "an empty database name: leave it unset to derive it from db_prefix",
			args:   append(slices.Clone(base), "-e", "drc_rm_db="),
			remedy: `drc_rm_db: is required \(set it, or (leave it unset) to derive it from (db_prefix)\)`,
			follow: func(_ *testing.T, args, m []string) []string {
				return append(without(args, "drc_rm_db"), "-e", m[2]+"=oms2")
			},
		},
		{
			name:   "cm_nodes without a host: leave it unset to use the inventory's addresses",
			args:   append(slices.Clone(base), "-e", `cm_nodes=["10.0.0.11"]`),
			remedy: `(leave it unset) to use the inventory's addresses`,
			follow: func(_ *testing.T, args, m []string) []string { return without(args, "cm_nodes") },
		},
		{
			name:   "a port out of range: leave it unset for OMS's default",
			args:   append(slices.Clone(base), "-e", "ghana_server_port=80"),
			remedy: `or (leave it unset) for OMS's 8090`,
			follow: func(_ *testing.T, args, m []string) []string { return without(args, "ghana_server_port") },
		},
		{
			name:   "a MetaDB user in the sys tenant: give user@tenant#cluster",
			args:   append(slices.Clone(base), "-e", "oms_meta_user=root@sys"),
			remedy: `and give (user@tenant#cluster)`,
			follow: func(_ *testing.T, args, m []string) []string {
				return append(without(args, "oms_meta_user"), "-e", "oms_meta_user="+strings.NewReplacer("user", "oms", "tenant", "oms_tenant", "cluster", "obcluster").Replace(m[1]))
			},
		},
		{
			name:   "cm_nodes beside regions: override it with -e cm_nodes=[]",
			args:   append(slices.Clone(base), "-e", "@"+regionsVars(t), "-e", `cm_nodes=["10.0.0.11", "10.0.0.12", "10.0.1.13"]`),
			remedy: `override it with -e (cm_nodes=\[\])`,
			follow: func(_ *testing.T, args, m []string) []string { return append(args, "-e", m[1]) },
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
				os.Unsetenv(k)
			}
			_, errOut, code := run(tc.args...)
			m := regexp.MustCompile(tc.remedy).FindStringSubmatch(errOut)
			if code == 0 || m == nil {
				t.Fatalf("exit %d, want a message proposing %q:\n%s", code, tc.remedy, errOut)
			}
			next := tc.follow(t, slices.Clone(tc.args), m)
			out, errOut, code := run(next...)
			if code != 0 {
				t.Fatalf("following %q: omsrun %s: exit %d\n%s%s", m[0], strings.Join(next, " "), code, out, errOut)
			}
		})
	}
}

// TestRemedyDidYouMean: an unsupported argument's "did you mean", followed
// as printed, is accepted.
func TestRemedyDidYouMean(t *testing.T) {
	dir := t.TempDir()
	pb := filepath.Join(dir, "pb.hcl")
	write := func(arg string) {
		src := "step \"s\" {\n  wait_for {\n    with = { " + arg + " = \"http://x\" }\n  }\n}\n"
		if err := os.WriteFile(pb, []byte(src), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("urll")
	_, errOut, _ := run("validate", pb, "-i", "../../testdata/inventory/lab.hcl")
	m := regexp.MustCompile(`Did you mean "(\w+)"\?`).FindStringSubmatch(errOut)
	if m == nil {
		t.Fatalf("no did you mean:\n%s", errOut)
	}
	write(m[1])
	if out, errOut, code := run("validate", pb, "-i", "../../testdata/inventory/lab.hcl"); code != 0 {
		t.Fatalf("following did you mean %q: exit %d\n%s%s", m[1], code, out, errOut)
	}
}

// TestRemedyForABadDefault: a module refusing a variable's default says to
// set another with -e NAME=…; doing that as printed is accepted.
func TestRemedyForABadDefault(t *testing.T) {
	dir := t.TempDir()
	vars, err := os.ReadFile("../../playbooks/oms-variables.hcl")
	if err != nil {
		t.Fatal(err)
	}
	bad := strings.Replace(string(vars), "variable \"cm_location\" {\n  type    = number\n  default = 100", "variable \"cm_location\" {\n  type    = number\n  default = 300", 1)
	if bad == string(vars) {
		t.Fatal("oms-variables.hcl no longer declares cm_location as the test expects")
	}
	os.WriteFile(filepath.Join(dir, "oms-variables.hcl"), []byte(bad), 0o600)
	pb := filepath.Join(dir, "pb.hcl")
	os.WriteFile(pb, []byte("include \"oms-variables.hcl\" {}\nstep \"config.yaml\" {\n  hosts = \"oms\"\n  render_config {\n    with = local.oms_config\n  }\n}\n"), 0o600)
	args := []string{"validate", pb, "-i", "../../testdata/inventory/lab.hcl", "-e", "@../../testdata/cli/vars.hcl", "-e", "image_file=x"}
	_, errOut, code := run(args...)
	m := regexp.MustCompile(`set another with -e (cm_location)=… or in a var file`).FindStringSubmatch(errOut)
	if code != 4 || m == nil {
		t.Fatalf("exit %d, want the default's remedy:\n%s", code, errOut)
	}
	if out, errOut, code := run(append(args, "-e", m[1]+"=101")...); code != 0 {
		t.Fatalf("following -e %s=…: exit %d\n%s%s", m[1], code, out, errOut)
	}
}

// regionsVars is a var file giving testdata/inventory/lab.hcl's nodes two
// regions.
func regionsVars(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "regions.hcl")
	src := `regions = [
  { hosts = "oms1:oms2", cm_url = "http://10.0.0.100:8088", cm_location = 1, cm_region = "east", cm_is_default = true },
  { hosts = "oms3", cm_url = "http://10.0.0.200:8088", cm_location = 2, cm_region = "west" },
]
`
	if err := os.WriteFile(p, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}
