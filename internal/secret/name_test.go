package secret

import "testing"

func TestIsSecretName(t *testing.T) {
	cases := []struct {
		name string
		want bool
	}{
		{"password", true},
		{"become_password", true},
		{"ansible_become_password", true},
		{"oms_meta_password", true},
		{"TSDB_PASSWORD", true},
		{"meta-password", true},
		{"tsdb_passwd", true},
		{"ansible_ssh_pass", true},
		{"metadb_pass", true},
		{"db_pw", true},
		{"db_pwd", true},
		{"client_secret", true},
		{"apsara_audit_sls_access_secret", true},
		{"api_token", true},
		{"TOKEN", true},
		{"token_count", false},
		{"access_key", true},
		{"apsara_audit_sls_access_key", true},
		{"ansible_ssh_private_key_passphrase", true},
		{"passphrase", true},
		{"SSHPASS", true},
		{"REDISCLI_AUTH", true},
		{"sshpass_path", false},

		{"key_file", false},
		{"ssh_private_key_file", false},
		{"ansible_ssh_private_key_file", false},
		{"https_key", false},
		{"https_crt", false},
		{"password_file", false},
		{"token_path", false},
		{"secret_path", false},
		{"user", false},
		{"passenger", false},
		{"compass", false},
		{"bypass_cache", false},
		{"cm_url", false},
		{"apsara_audit_sls_endpoint", false},
		{"", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := IsSecretName(c.name); got != c.want {
				t.Fatalf("IsSecretName(%q) = %v, want %v", c.name, got, c.want)
			}
		})
	}
}
