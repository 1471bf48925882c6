package transport

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/kevinburke/ssh_config"
)

// sshConfig is what omsrun takes from ~/.ssh/config for one host: only the
// keys that decide where and as whom to connect.
type sshConfig struct {
	HostName      string
	User          string
	Port          int
	IdentityFiles []string
	ProxyJump     string
}

// lookupSSHConfig reads the config file (missing is fine) and returns the
// settings that apply to alias, with OpenSSH's rule that the first value
// obtained for a key wins and IdentityFile accumulates. Parsing, Host
// patterns and Include are kevinburke/ssh_config's.
func lookupSSHConfig(file, alias string) (sshConfig, error) {
	if file == "none" {
		return sshConfig{}, nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		if os.IsNotExist(err) {
			return sshConfig{}, nil
		}
		return sshConfig{}, err
	}
	home, _ := os.UserHomeDir()
	return parseSSHConfig(b, alias, home)
}

func parseSSHConfig(src []byte, alias, home string) (sshConfig, error) {
	var out sshConfig
	cfg, err := ssh_config.DecodeBytes(dropMatchBlocks(src))
	if err != nil {
		return out, err
	}
	get := func(key string) string {
		v, _ := cfg.Get(alias, key)
		return v
	}
	out.HostName = strings.ReplaceAll(get("HostName"), "%h", alias)
	out.User = get("User")
	if p, err := strconv.Atoi(get("Port")); err == nil && p > 0 && p < 65536 {
		out.Port = p
	}
	ids, _ := cfg.GetAll(alias, "IdentityFile")
	for _, id := range ids {
		out.IdentityFiles = append(out.IdentityFiles, expandHome(id, home))
	}
	out.ProxyJump = get("ProxyJump")
	return out, nil
}

// dropMatchBlocks removes the Match blocks other than `Match host` and
// `Match all`: the others need an evaluator (exec runs a command) that
// neither omsrun nor the library has, and ignoring such a block is safer
// than applying settings meant for other hosts, or than refusing the file.
func dropMatchBlocks(src []byte) []byte {
	var out bytes.Buffer
	skip := false
	for _, line := range bytes.SplitAfter(src, []byte("\n")) {
		f := strings.Fields(strings.ReplaceAll(string(line), "=", " "))
		if len(f) > 0 {
			switch strings.ToLower(f[0]) {
			case "host":
				skip = false
			case "match":
				skip = len(f) < 2 || !(strings.EqualFold(f[1], "host") || strings.EqualFold(f[1], "all"))
			}
		}
		if !skip {
			out.Write(line)
		}
	}
	return out.Bytes()
}

// expandHome resolves "~/" against the user's home directory.
func expandHome(p, home string) string {
	if strings.HasPrefix(p, "~/") && home != "" {
		return filepath.Join(home, p[2:])
	}
	return p
}
