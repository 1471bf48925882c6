package secret

import "strings"

// IsSecretName is the one answer to "does this name say its value is a
// secret?" for variables, config keys, wizard answers and KEY=value lines.
// Inventories, config.yaml and env files have no `sensitive` flag, so the
// name is the only hint; deciding it in one place means a value masked in one
// output is masked in every other.
//
// A name is secret when it contains password, passwd, secret, passphrase or
// access_key, ends in token (api_token, but not token_count, a number), or
// has pass, pw or pwd as a whole word (metadb_pass, tsdb_pw), or is SSHPASS or
// REDISCLI_AUTH. A name that says it holds a path or a certificate
// (key_file, ssh_private_key_file, *_path, https_key, https_crt) is not:
// its value is where a secret lives, and hiding it would hide the one thing
// a user needs to fix a wrong path.
func IsSecretName(name string) bool {
	n := strings.ToLower(name)
	n = strings.NewReplacer("-", "_", ".", "_").Replace(n)
	for _, suffix := range []string{"_file", "_path", "_dir", "_crt", "_cert"} {
		if strings.HasSuffix(n, suffix) {
			return false
		}
	}
	switch n {
	case "https_key":
		return false
	case "sshpass", "rediscli_auth":
		// The environment variables sshpass -e and redis-cli read a
		// password from.
		return true
	}
	for _, part := range []string{"password", "passwd", "secret", "passphrase", "access_key"} {
		if strings.Contains(n, part) {
			return true
		}
	}
	if strings.HasSuffix(n, "token") {
		return true
	}
	for _, word := range strings.Split(n, "_") {
		switch word {
		case "pass", "pw", "pwd":
			return true
		}
	}
	return false
}
