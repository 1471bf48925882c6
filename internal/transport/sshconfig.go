package transport

import (
	"bufio"
	"io"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
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
// obtained for a key wins and IdentityFile accumulates.
func lookupSSHConfig(file, alias string) (sshConfig, error) {
	var out sshConfig
	if file == "none" {
		return out, nil
	}
	f, err := os.Open(file)
	if err != nil {
		if os.IsNotExist(err) {
			return out, nil
		}
		return out, err
	}
	defer f.Close()
	home, _ := os.UserHomeDir()
	return parseSSHConfig(f, alias, home)
}

func parseSSHConfig(r io.Reader, alias, home string) (sshConfig, error) {
	var out sshConfig
	active := true // lines before the first Host block apply to every host
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		key, val := splitConfigLine(sc.Text())
		if key == "" {
			continue
		}
		switch key {
		case "host":
			active = hostMatches(strings.Fields(val), alias)
			continue
		case "match":
			// Match needs a command/exec evaluator we do not have; ignoring its
			// block is safer than applying settings meant for other hosts.
			active = false
			continue
		}
		if !active {
			continue
		}
		switch key {
		case "hostname":
			if out.HostName == "" {
				out.HostName = strings.ReplaceAll(val, "%h", alias)
			}
		case "user":
			if out.User == "" {
				out.User = val
			}
		case "port":
			if out.Port == 0 {
				if p, err := strconv.Atoi(val); err == nil && p > 0 && p < 65536 {
					out.Port = p
				}
			}
		case "identityfile":
			out.IdentityFiles = append(out.IdentityFiles, expandHome(val, home))
		case "proxyjump":
			if out.ProxyJump == "" {
				out.ProxyJump = val
			}
		}
	}
	return out, sc.Err()
}

// splitConfigLine returns the lower-cased keyword and its value, accepting
// both "Key value" and "Key=value" and stripping comments and quotes.
func splitConfigLine(line string) (string, string) {
	line = strings.TrimSpace(line)
	if line == "" || strings.HasPrefix(line, "#") {
		return "", ""
	}
	i := strings.IndexAny(line, " \t=")
	if i < 0 {
		return strings.ToLower(line), ""
	}
	key := strings.ToLower(line[:i])
	val := strings.TrimLeft(line[i:], " \t")
	val = strings.TrimPrefix(val, "=")
	val = strings.TrimSpace(val)
	if len(val) >= 2 && val[0] == '"' && val[len(val)-1] == '"' {
		val = val[1 : len(val)-1]
	}
	return key, val
}

// hostMatches applies a Host line's patterns: any positive match selects the
// block unless a negated pattern also matches.
func hostMatches(patterns []string, alias string) bool {
	matched := false
	for _, p := range patterns {
		neg := strings.HasPrefix(p, "!")
		p = strings.TrimPrefix(p, "!")
		ok, err := path.Match(p, alias)
		if err != nil || !ok {
			continue
		}
		if neg {
			return false
		}
		matched = true
	}
	return matched
}

// expandHome resolves "~/" against the user's home directory.
func expandHome(p, home string) string {
	if strings.HasPrefix(p, "~/") && home != "" {
		return filepath.Join(home, p[2:])
	}
	return p
}
