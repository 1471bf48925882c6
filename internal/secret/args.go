package secret

import (
	"path"
	"regexp"
	"slices"
	"strings"
)

// client is what MaskArgs knows of a command-line client that takes a
// password in a short flag whose name says nothing of it (mysql's -p,
// redis-cli's -a). Only these well-known clients are listed: -p is a port
// to ssh and docker (`ssh -p 22`, `docker run -p 8088:8088`), and a record
// that hides those hides what a reader needs.
type client struct {
	flag     string // the short flag whose value is a password
	attached bool   // the value may follow the flag in its word (-pVALUE)
	separate bool   // the value may be the next word (-p VALUE)
	// runs: the first word that is not an option or an option's value is
	// a command of its own, whose flags are its own again (`sshpass -p X
	// ssh -p 22`); valued are the other flags that take the next word.
	runs   bool
	valued []string
	// userAt: a word user:password@host gives a password (mysqlsh's URI).
	userAt bool
}

// mysqlClient: the MySQL protocol's clients take -pVALUE only; a bare -p
// asks at a prompt and the next word is a database, not a password.
var mysqlClient = client{flag: "-p", attached: true}

// clients are the clients MaskArgs knows, by their program's base name.
var clients = map[string]client{
	"mysql":         mysqlClient,
	"mysqldump":     mysqlClient,
	"mysqladmin":    mysqlClient,
	"mariadb":       mysqlClient,
	"mariadb-dump":  mysqlClient,
	"mariadb-admin": mysqlClient,
	"obclient":      mysqlClient,
	"mysqlsh":       {flag: "-p", attached: true, userAt: true},
	"sshpass":       {flag: "-p", attached: true, separate: true, runs: true, valued: []string{"-f", "-d", "-P"}},
	"redis-cli":     {flag: "-a", separate: true},
}

// userAt is mysqlsh's user:password@host; the first group is kept.
var userAt = regexp.MustCompile(`^([^\s:@/'"]+:)[^\s@]+(@\S*)$`)

// after says what the word after a command line's word w is.
type after int

const (
	word        after = iota // a word of its own
	secretValue              // the value of a flag that gives a password
	flagValue                // the value of another flag (kept, and no command)
)

// MaskArgs returns a command line's words with every secret value masked, for
// a record of what ran: key=value and "key: value" words whose key
// IsSecretName (MaskKeyLines), the word after a flag that names a secret
// (`--password X`), the password a well-known client takes in a short flag
// (`mysql -pX`, `sshpass -p X`, `redis-cli -a X`), and the same inside a
// word that is itself a command (`sh -c 'mysql -pX'`).
func MaskArgs(words []string) []string {
	out := make([]string, len(words))
	var c *client // the client these words are arguments of, nil for none
	next := word
	for i, w := range words {
		switch {
		case next == secretValue:
			out[i] = Mask
		case strings.ContainsAny(w, " \t\n"):
			out[i] = strings.Join(MaskArgs(strings.Fields(w)), " ")
		case c != nil && c.attached && len(w) > len(c.flag) && strings.HasPrefix(w, c.flag):
			out[i] = c.flag + Mask
		case c != nil && c.userAt && userAt.MatchString(w):
			out[i] = userAt.ReplaceAllString(w, "${1}"+Mask+"${2}")
		default:
			out[i] = MaskKeyLines(w)
		}
		c, next = follow(c, w, next != word)
	}
	return out
}

// follow returns the client the word after w belongs to and what that
// word is; isValue says w is a flag's value.
func follow(c *client, w string, isValue bool) (*client, after) {
	switch {
	case endsCommand(w):
		return nil, word
	case isValue:
		return c, word
	case strings.HasPrefix(w, "-"):
		switch {
		case !strings.Contains(w, "=") && IsSecretName(strings.TrimLeft(w, "-")):
			return c, secretValue
		case c != nil && c.separate && w == c.flag:
			return c, secretValue
		case c != nil && slices.Contains(c.valued, w):
			return c, flagValue
		}
		return c, word
	}
	if k, ok := clients[programName(w)]; ok {
		return &k, word
	}
	if c != nil && c.runs {
		return nil, word
	}
	return c, word
}

// endsCommand says a shell command ends with w (`mysql -pX; ssh -p 22`).
func endsCommand(w string) bool {
	return strings.HasSuffix(w, ";") || strings.HasSuffix(w, "&") || strings.HasSuffix(w, "|")
}

// programName is the base name of the program a word would run, with
// what can stand before it in a command taken off: a module's key
// (cmd=mysql), quotes and an opening subshell ('mysql, $(mysql).
func programName(w string) string {
	if k, v, ok := strings.Cut(w, "="); ok && !strings.ContainsAny(k, `'"$( `) {
		w = v
	}
	w = strings.TrimLeft(w, "'\"$(`")
	return path.Base(strings.TrimRight(w, "'\")`"))
}
