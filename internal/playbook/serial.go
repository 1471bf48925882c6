package playbook

import (
	"fmt"
	"strconv"
	"strings"
)

// Serial is a step's rollout batch, parsed once when the step is decoded:
// Size hosts at a time, or Percent of the step's hosts at a time. The zero
// value runs every host at once.
type Serial struct {
	Size    int
	Percent int
}

// ParseSerial reads a batch size ("3") or a share of the hosts ("30%").
func ParseSerial(s string) (Serial, error) {
	num, pct := strings.CutSuffix(s, "%")
	n, err := strconv.Atoi(num)
	if err != nil || n < 1 || num != strconv.Itoa(n) {
		return Serial{}, fmt.Errorf("serial is a batch size (a whole number from 1) or a share of the hosts (\"1%%\" to \"100%%\"); got %q", s)
	}
	if !pct {
		return Serial{Size: n}, nil
	}
	if n > 100 {
		return Serial{}, fmt.Errorf("a serial percentage is at most 100%%; got %q", s)
	}
	return Serial{Percent: n}, nil
}

// IsSet reports whether the step runs in batches.
func (s Serial) IsSet() bool { return s.Size > 0 || s.Percent > 0 }

// BatchSize is how many of total hosts run at once (at least one).
func (s Serial) BatchSize(total int) int {
	switch {
	case s.Size > 0:
		return s.Size
	case s.Percent > 0:
		return max(1, total*s.Percent/100)
	}
	return max(1, total)
}

// String writes the serial as a playbook gives it: "", "3" or "30%".
func (s Serial) String() string {
	switch {
	case s.Size > 0:
		return strconv.Itoa(s.Size)
	case s.Percent > 0:
		return strconv.Itoa(s.Percent) + "%"
	}
	return ""
}
