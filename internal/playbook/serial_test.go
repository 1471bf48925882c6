package playbook

import (
	"strings"
	"testing"
)

func TestParseSerial(t *testing.T) {
	cases := []struct {
		in        string
		want      Serial
		batchOf10 int
		err       string
	}{
		{"1", Serial{Size: 1}, 1, ""},
		{"3", Serial{Size: 3}, 3, ""},
		{"30%", Serial{Percent: 30}, 3, ""},
		{"5%", Serial{Percent: 5}, 1, ""}, // at least one host
		{"100%", Serial{Percent: 100}, 10, ""},
		{"0", Serial{}, 0, "whole number from 1"},
		{"0%", Serial{}, 0, "whole number from 1"},
		{"101%", Serial{}, 0, "at most 100%"},
		{"03", Serial{}, 0, "got \"03\""},
		{"-1", Serial{}, 0, "whole number"},
		{"1.5", Serial{}, 0, "whole number"},
		{"%", Serial{}, 0, "whole number"},
		{"", Serial{}, 0, "whole number"},
	}
	for _, c := range cases {
		t.Run(c.in, func(t *testing.T) {
			got, err := ParseSerial(c.in)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("ParseSerial(%q) = %v, %v; want an error with %q", c.in, got, err, c.err)
				}
				return
			}
			if err != nil || got != c.want || got.String() != c.in || got.BatchSize(10) != c.batchOf10 {
				t.Fatalf("ParseSerial(%q) = %+v (%q, batch %d), %v", c.in, got, got, got.BatchSize(10), err)
			}
		})
	}
	if (Serial{}).IsSet() || (Serial{}).String() != "" {
		t.Error("the zero Serial must mean all hosts at once")
	}
}
