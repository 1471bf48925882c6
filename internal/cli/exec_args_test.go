package cli

import (
	"testing"

	"github.com/zclconf/go-cty/cty"
)

// TestParseModuleArgs: -a splits words as a POSIX shell does (quotes and
// backslashes), without expanding $VAR or `cmd`.
func TestParseModuleArgs(t *testing.T) {
	cases := []struct {
		in   string
		want map[string]string
		err  bool
	}{
		{`cmd='echo a b' path=/tmp/x`, map[string]string{"cmd": "echo a b", "path": "/tmp/x"}, false},
		{`cmd="say \"hi\"" x=a\ b`, map[string]string{"cmd": `say "hi"`, "x": "a b"}, false},
		{`cmd='it'\''s' y=\$HOME`, map[string]string{"cmd": "it's", "y": "$HOME"}, false},
		{`cmd='$HOME and ` + "`id`" + `'`, map[string]string{"cmd": "$HOME and `id`"}, false},
		{`cmd='unterminated`, nil, true},
		{`novalue`, nil, true},
	}
	for _, c := range cases {
		t.Run(c.in, func(t *testing.T) {
			got, err := parseModuleArgs(c.in)
			if c.err {
				if err == nil {
					t.Fatalf("no error, got %v", got)
				}
				return
			}
			if err != nil || len(got) != len(c.want) {
				t.Fatalf("got %v, %v", got, err)
			}
			for k, v := range c.want {
				if !got[k].RawEquals(cty.StringVal(v)) {
					t.Errorf("%s = %#v, want %q", k, got[k], v)
				}
			}
		})
	}
}
