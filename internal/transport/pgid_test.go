package transport

import (
	"bytes"
	"testing"
)

func TestPgidWriter(t *testing.T) {
	cases := []struct {
		name   string
		chunks []string
		pgid   int
		out    string
	}{
		{"marker then output", []string{"omsrun-pgid:1234\nhello\n"}, 1234, "hello\n"},
		{"marker split across writes", []string{"omsrun-", "pgid:77", "\nx", "y"}, 77, "xy"},
		{"sudo lecture before marker", []string{"lecture\n", "omsrun-pgid:9\nout"}, 9, "lecture\nout"},
		{"sudo failure stops the search", []string{"Sorry, try again.\n", "omsrun-pgid:9\n"}, 0, "Sorry, try again.\nomsrun-pgid:9\n"},
		{"marker-like text later is output", []string{"omsrun-pgid:5\nomsrun-pgid:6\n"}, 5, "omsrun-pgid:6\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var buf bytes.Buffer
			w := newPgidWriter(&buf)
			for _, ch := range c.chunks {
				if _, err := w.Write([]byte(ch)); err != nil {
					t.Fatal(err)
				}
			}
			if w.pgid() != c.pgid || buf.String() != c.out {
				t.Fatalf("pgid %d out %q, want %d %q", w.pgid(), buf.String(), c.pgid, c.out)
			}
		})
	}
}
