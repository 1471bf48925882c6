package inventory

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/zclconf/go-cty/cty"
)

// ansibleCase is one inventory, as files under a folder, read by both
// ansible-inventory and omsrun. The inventory given with -i is "hosts".
type ansibleCase struct {
	name  string
	files map[string]string
	// inv is the file given with -i; "hosts" when empty.
	inv string
	// bothRefuse: Ansible and omsrun both refuse it.
	bothRefuse bool
	// refused: omsrun refuses it on purpose (README: "deliberately different");
	// the test then checks the message instead of comparing.
	refused string
}

// TestAnsibleOracle reads each inventory with ansible-inventory --list and
// with Load, and compares every variable of every host: Ansible's INI rules
// (quoting, comments, Python literals) are too subtle to get right by
// reading their description. In CI the oracle must be there (.ci/deps
// installs ansible-core); elsewhere the test is skipped without it.
func TestAnsibleOracle(t *testing.T) {
	if _, err := exec.LookPath("ansible-inventory"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("ansible-inventory is not installed; .ci/deps installs ansible-core")
		}
		t.Skip("ansible-inventory is not installed (apt-get install ansible-core)")
	}
	for _, tc := range ansibleCases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, src := range tc.files {
				p := filepath.Join(dir, name)
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			invFile := filepath.Join(dir, "hosts")
			if tc.inv != "" {
				invFile = filepath.Join(dir, tc.inv)
			}
			inv, diags := Load([]string{invFile})
			if tc.refused != "" {
				if !strings.Contains(diags.Error(), tc.refused) {
					t.Fatalf("omsrun should refuse with %q, got %v", tc.refused, diags)
				}
				return
			}
			want, ok := ansibleHostvars(t, invFile)
			if !ok || tc.bothRefuse {
				if !ok && tc.bothRefuse && diags.HasErrors() {
					return
				}
				t.Fatalf("ansible-inventory reads it: %v; omsrun: %v", ok, diags)
			}
			if diags.HasErrors() {
				t.Fatalf("ansible-inventory reads it, omsrun refuses: %v", diags)
			}
			compareWithAnsible(t, inv, want)
		})
	}
}

// ansibleHostvars runs the oracle; ok is false when it cannot parse the source.
func ansibleHostvars(t *testing.T, path string) (map[string]map[string]any, bool) {
	t.Helper()
	cmd := exec.Command("ansible-inventory", "-i", path, "--list")
	cmd.Env = append(os.Environ(), "ANSIBLE_INVENTORY_UNPARSED_FAILED=true", "ANSIBLE_INVENTORY_ENABLED=ini,yaml",
		"ANSIBLE_LOCALHOST_WARNING=false", "ANSIBLE_NOCOLOR=1", "ANSIBLE_HOME="+t.TempDir())
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Logf("ansible-inventory: %v: %s", err, stderr.String())
		return nil, false
	}
	var out map[string]struct {
		Hosts    []string                  `json:"hosts"`
		Hostvars map[string]map[string]any `json:"hostvars"`
	}
	dec := json.NewDecoder(&stdout)
	dec.UseNumber()
	if err := dec.Decode(&out); err != nil {
		t.Fatalf("ansible-inventory output: %v", err)
	}
	// A host without variables is missing from hostvars; its groups list it.
	vars := out["_meta"].Hostvars
	if vars == nil {
		vars = map[string]map[string]any{}
	}
	for _, g := range out {
		for _, h := range g.Hosts {
			if vars[h] == nil {
				vars[h] = map[string]any{}
			}
		}
	}
	return vars, true
}

func compareWithAnsible(t *testing.T, inv *Inventory, want map[string]map[string]any) {
	t.Helper()
	var names []string
	for _, h := range inv.Hosts {
		names = append(names, h.Name)
	}
	var wantNames []string
	for n := range want {
		wantNames = append(wantNames, n)
	}
	sort.Strings(names)
	sort.Strings(wantNames)
	if !reflect.DeepEqual(names, wantNames) {
		t.Fatalf("hosts: omsrun %v, ansible %v", names, wantNames)
	}
	for _, h := range inv.Hosts {
		got := omsrunHostvars(h)
		w := map[string]any{}
		for k, v := range want[h.Name] {
			switch ck, conn := ansibleVars[k]; {
			case conn && ck == "become":
				w[canonical[ck]] = ansibleBool(v)
			case conn:
				w[canonical[ck]] = fmt.Sprint(v)
			default:
				w[k] = normalize(v)
			}
		}
		// A connection setting Ansible leaves unset has omsrun's default.
		for k, def := range map[string]any{"ansible_host": h.Name, "ansible_port": "22", "ansible_become": false,
			"ansible_user": "", "ansible_ssh_private_key_file": "", "ansible_password": "", "ansible_become_password": ""} {
			if _, ok := w[k]; !ok {
				w[k] = def
			}
		}
		for _, k := range union(got, w) {
			if !reflect.DeepEqual(got[k], w[k]) {
				t.Errorf("host %s: %s: omsrun %#v, ansible %#v", h.Name, k, got[k], w[k])
			}
		}
	}
}

// omsrunHostvars flattens a host back into Ansible's variable names.
func omsrunHostvars(h *Host) map[string]any {
	out := map[string]any{
		"ansible_host": h.Address, "ansible_port": fmt.Sprint(h.Port), "ansible_user": h.User,
		"ansible_ssh_private_key_file": h.KeyFile, "ansible_password": h.Password.Reveal(),
		"ansible_become": h.Become, "ansible_become_password": h.BecomePassword.Reveal(),
	}
	for k, v := range h.Vars {
		v, _ = v.UnmarkDeep()
		out[k] = ctyToAny(v)
	}
	return out
}

// canonical names each connection setting by its usual Ansible variable.
var canonical = map[string]string{
	"address": "ansible_host", "port": "ansible_port", "user": "ansible_user", "key_file": "ansible_ssh_private_key_file",
	"password": "ansible_password", "become": "ansible_become", "become_password": "ansible_become_password",
}

// ansibleBool is Ansible's boolean() on a value from its JSON.
func ansibleBool(v any) any {
	switch x := v.(type) {
	case bool:
		return x
	case string:
		switch strings.ToLower(x) {
		case "y", "yes", "on", "1", "true", "t":
			return true
		}
		return false
	}
	return fmt.Sprint(v) == "1"
}

// normalize turns JSON numbers into one canonical text (1000.0 and 1e3 are
// the same number), as ctyToAny does.
func normalize(v any) any {
	switch x := v.(type) {
	case json.Number:
		f, _, err := big.ParseFloat(string(x), 10, 512, big.ToNearestEven)
		if err != nil {
			return string(x)
		}
		return "#" + f.Text('g', 20)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = normalize(e)
		}
		return out
	case map[string]any:
		out := map[string]any{}
		for k, e := range x {
			out[k] = normalize(e)
		}
		return out
	}
	return v
}

func ctyToAny(v cty.Value) any {
	if v.IsNull() {
		return nil
	}
	t := v.Type()
	switch {
	case t == cty.String:
		return v.AsString()
	case t == cty.Bool:
		return v.True()
	case t == cty.Number:
		f := new(big.Float).SetPrec(512).Set(v.AsBigFloat())
		return "#" + f.Text('g', 20)
	case t.IsObjectType() || t.IsMapType():
		out := map[string]any{}
		for it := v.ElementIterator(); it.Next(); {
			k, e := it.Element()
			out[k.AsString()] = ctyToAny(e)
		}
		return out
	case t.IsTupleType() || t.IsListType():
		out := []any{}
		for it := v.ElementIterator(); it.Next(); {
			_, e := it.Element()
			out = append(out, ctyToAny(e))
		}
		return out
	}
	return v.GoString()
}

func union(a, b map[string]any) []string {
	seen := map[string]bool{}
	var out []string
	for _, m := range []map[string]any{a, b} {
		for k := range m {
			if !seen[k] {
				seen[k] = true
				out = append(out, k)
			}
		}
	}
	sort.Strings(out)
	return out
}
