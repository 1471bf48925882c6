package inventory

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
)

// TestUnsupportedSettings: an Ansible connection setting omsrun cannot
// honour is warned about, naming the variable and the hosts; one it can
// translate (ProxyJump, a plain ssh -W ProxyCommand, UserKnownHostsFile) is
// applied. Nothing is dropped silently.
func TestUnsupportedSettings(t *testing.T) {
	for _, tc := range []struct {
		name, src string
		warn      []string // each must appear in the warnings; none means no warning
		jump      string   // h1's ProxyJump
		known     string   // h1's KnownHostsFile
	}{
		{name: "local connection", src: "h1 ansible_connection=local\n", warn: []string{"ansible_connection=local", "h1", "no local connection"}},
		{name: "ssh connection is fine", src: "h1 ansible_connection=ssh\n"},
		{name: "docker connection", src: "h1 ansible_connection=docker\n", warn: []string{"ansible_connection=docker", "SSH only"}},
		{name: "become user", src: "[g]\nh1\nh2\n[g:vars]\nansible_become_user=oms\n", warn: []string{"ansible_become_user=oms", "h1, h2", "root only"}},
		{name: "become user root", src: "h1 ansible_become_user=root\n"},
		{name: "become method", src: "h1 ansible_become_method=su\n", warn: []string{"ansible_become_method=su"}},
		{name: "host key checking off", src: "h1 ansible_host_key_checking=False\n", warn: []string{"ansible_host_key_checking=false", "always checks host keys"}},
		{name: "proxyjump option", src: "h1 ansible_ssh_common_args='-o ProxyJump=ops@bastion:2222'\n", jump: "ops@bastion:2222"},
		{name: "proxyjump -J", src: "h1 ansible_ssh_extra_args='-J bastion'\n", jump: "bastion"},
		{name: "proxycommand ssh -W", src: `h1 ansible_ssh_common_args='-o ProxyCommand="ssh -W %h:%p -q -p 2200 ops@bastion"'` + "\n", jump: "ops@bastion:2200"},
		{name: "proxycommand other", src: `h1 ansible_ssh_common_args='-o ProxyCommand="nc -X 5 -x proxy:1080 %h %p"'` + "\n",
			warn: []string{"ansible_ssh_common_args", "runs no ProxyCommand"}},
		{name: "known hosts and control options", src: "h1 ansible_ssh_common_args='-o UserKnownHostsFile=/etc/kh -o ControlMaster=auto -o ControlPersist=60s'\n", known: "/etc/kh"},
		{name: "known hosts off", src: "h1 ansible_ssh_common_args='-o UserKnownHostsFile=/dev/null -o StrictHostKeyChecking=no'\n",
			warn: []string{"UserKnownHostsFile=/dev/null", "ssh option stricthostkeychecking"}},
		{name: "other ssh argument", src: "h1 ansible_ssh_extra_args='-A'\n", warn: []string{`ssh argument "-A"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "hosts.ini")
			if err := os.WriteFile(p, []byte(tc.src), 0o644); err != nil {
				t.Fatal(err)
			}
			inv, diags := Load([]string{p})
			if diags.HasErrors() {
				t.Fatal(diags)
			}
			var warns []string
			for _, d := range diags {
				if d.Severity == hcl.DiagWarning {
					warns = append(warns, d.Summary+": "+d.Detail)
				}
			}
			all := strings.Join(warns, "\n")
			if len(tc.warn) == 0 && all != "" {
				t.Errorf("unexpected warning: %s", all)
			}
			for _, w := range tc.warn {
				if !strings.Contains(all, w) {
					t.Errorf("warnings %q lack %q", all, w)
				}
			}
			h := inv.Host("h1")
			if h.ProxyJump != tc.jump || tc.known != "" && h.KnownHostsFile != tc.known {
				t.Errorf("h1 jump %q known_hosts %q", h.ProxyJump, h.KnownHostsFile)
			}
		})
	}
}
