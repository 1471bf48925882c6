package wizard

import (
	"errors"
	"fmt"
	"path"
	"strconv"
	"strings"

	"github.com/omsrun/omsrun/internal/omsconfig"
)

// keyProblem runs omsconfig.Validate — the checks render_config and
// --oms-config use — on a config holding one answer, and returns its
// problem with key. Validate tells multi-node deployments by their host
// count, so for a multi-node answer it is given two stand-in hosts; the
// problems those cause are about cm_nodes and ignored unless key is cm_nodes
// itself, in which case the real nodes are checked without stand-ins.
func keyProblem(multi bool, key string, set func(*omsconfig.Config)) error {
	c := omsconfig.Default()
	set(&c)
	var hosts []string
	if multi && key != omsconfig.KeyCMNodes {
		hosts = []string{"192.0.2.1", "192.0.2.2"}
	}
	for _, p := range omsconfig.Validate(c, hosts) {
		if p.Key == key {
			if p.Hint != "" {
				return fmt.Errorf("%s (%s)", p.Summary, p.Hint)
			}
			return errors.New(p.Summary)
		}
	}
	return nil
}

// configCheck is a question check made of keyProblem.
func configCheck(multi bool, key string, set func(*omsconfig.Config, string)) func(string) (string, error) {
	return func(s string) (string, error) {
		if err := keyProblem(multi, key, func(c *omsconfig.Config) { set(c, s) }); err != nil {
			return "", err
		}
		return s, nil
	}
}

func required(what string) func(string) (string, error) {
	return func(s string) (string, error) {
		if s == "" {
			return "", errors.New("an answer is required: " + what)
		}
		return s, nil
	}
}

func parsePort(s string) (string, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 65535 {
		return "", fmt.Errorf("%q is not a TCP port (1 to 65535)", s)
	}
	return strconv.Itoa(n), nil
}

func dbNames(prefix string) []string {
	rm, cm, hb := omsconfig.DBNamesFromPrefix(prefix)
	return []string{rm, cm, hb}
}

func checkPrefix(s string) (string, error) {
	if s == "" {
		return "", errors.New("give a prefix, e.g. oms")
	}
	rm, cm, hb := omsconfig.DBNamesFromPrefix(s)
	for _, k := range []string{omsconfig.KeyRMDB, omsconfig.KeyCMDB, omsconfig.KeyCMHeartbeatDB} {
		if err := keyProblem(false, k, func(c *omsconfig.Config) { c.RMDB, c.CMDB, c.CMHeartbeatDB = rm, cm, hb }); err != nil {
			return "", fmt.Errorf("prefix %q: %v", s, err)
		}
	}
	return s, nil
}

func checkMountDir(s string) (string, error) {
	switch {
	case s == "":
		return "", errors.New("give a directory, e.g. /data/oms")
	case !strings.HasPrefix(s, "/"):
		return "", fmt.Errorf("%q must be an absolute path on the nodes", s)
	case strings.ContainsAny(s, " \t\n:,"):
		return "", fmt.Errorf("%q contains a space, colon or comma, which docker -v cannot take", s)
	}
	c := path.Clean(s)
	if c == "/" {
		return "", errors.New("the root directory cannot be the mount directory")
	}
	return c, nil
}

// checkImage accepts a docker image reference: name[:tag] or an image ID.
func checkImage(s string) (string, error) {
	if s == "" {
		return "", errors.New("give the image name, e.g. oms:feature_4.2.5-ce")
	}
	for _, r := range s {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("._-/:@", r)
		if !ok {
			return "", fmt.Errorf("%q is not an image name (letters, digits and ._-/:@ only)", s)
		}
	}
	return s, nil
}

func checkUser(s string) (string, error) {
	if s == "" || strings.ContainsAny(s, " \t:@/") {
		return "", fmt.Errorf("%q is not a user name", s)
	}
	return s, nil
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == ';' }) {
		out = append(out, f)
	}
	return out
}

func orString(s, def string) string {
	if s != "" {
		return s
	}
	return def
}

func orDefault(n int, def string) string {
	if n != 0 {
		return strconv.Itoa(n)
	}
	return def
}
