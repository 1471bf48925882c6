package output

import (
	"testing"

	"github.com/fatih/color"
)

// TestPaintAsColor: paint writes what color.Color writes, coloured or not.
func TestPaintAsColor(t *testing.T) {
	for _, attrs := range [][]color.Attribute{{color.FgGreen}, {color.FgRed, color.Bold}, {color.FgMagenta, color.Bold}, {color.Faint}, {color.Bold}} {
		for _, on := range []bool{true, false} {
			c := color.New(attrs...)
			if on {
				c.EnableColor()
			} else {
				c.DisableColor()
			}
			p := newPaint(on, attrs...)
			for _, tc := range []struct{ got, want string }{
				{p.Sprint("warning:"), c.Sprint("warning:")},
				{p.Sprint(""), c.Sprint("")},
				{p.Sprint("a", 1, 2, "b"), c.Sprint("a", 1, 2, "b")},
				{p.Sprintf("%-11s", "changed"), c.Sprintf("%-11s", "changed")},
				{p.Sprintf("ok=%-3d", 7), c.Sprintf("ok=%-3d", 7)},
			} {
				if tc.got != tc.want {
					t.Errorf("%v on=%v: got %q, want %q", attrs, on, tc.got, tc.want)
				}
			}
			if on && p.pre == "" {
				t.Errorf("%v: no escape sequence", attrs)
			}
		}
	}
}
