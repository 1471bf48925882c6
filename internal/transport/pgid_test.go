package transport

import (
	"bytes"
	"testing"
)

func TestPgidWriter(t *testing.T) {
	cases := []struct {
		name   string
		prompt string
		chunks []string
		pgid   int
		out    string
		asked  bool
	}{
		{"prompt then marker", "P:", []string{"P:omsrun-pgid:42\nout\n"}, 42, "out\n", true},
		{"prompt split", "omsrun-sudo-password:", []string{"omsrun-sudo", "-password:", "omsrun-pgid:8\n"}, 8, "", true},
		{"no prompt (NOPASSWD)", "P:", []string{"omsrun-pgid:9\nP:x\n"}, 9, "P:x\n", false},
		{"partial line without marker is kept", "", []string{"oops, no newline"}, 0, "oops, no newline", false},
		{"wrong password", "P:", []string{"P:Sorry, try again.\nP:\n"}, 0, "Sorry, try again.\nP:\n", true},
		{"marker then output", "", []string{"omsrun-pgid:1234\nhello\n"}, 1234, "hello\n", false},
		{"marker split across writes", "", []string{"omsrun-", "pgid:77", "\nx", "y"}, 77, "xy", false},
		{"sudo lecture before marker", "", []string{"lecture\n", "omsrun-pgid:9\nout"}, 9, "lecture\nout", false},
		{"sudo failure stops the search", "", []string{"Sorry, try again.\n", "omsrun-pgid:9\n"}, 0, "Sorry, try again.\nomsrun-pgid:9\n", false},
		{"marker-like text later is output", "", []string{"omsrun-pgid:5\nomsrun-pgid:6\n"}, 5, "omsrun-pgid:6\n", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var buf bytes.Buffer
			w := newPgidWriter(&buf)
			w.prompt = []byte(c.prompt)
			for _, ch := range c.chunks {
				if _, err := w.Write([]byte(ch)); err != nil {
					t.Fatal(err)
				}
			}
			w.flush()
			if w.pgid() != c.pgid || buf.String() != c.out {
				t.Fatalf("pgid %d out %q, want %d %q", w.pgid(), buf.String(), c.pgid, c.out)
			}
			if asked := len(w.asked) > 0; asked != c.asked {
				t.Fatalf("prompt seen %v, want %v", asked, c.asked)
			}
		})
	}
}
