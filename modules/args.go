package modules

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ParseDuration accepts Go durations ("90s", "2m") and bare numbers of seconds,
// because HCL users write both.
func ParseDuration(name, s string, def time.Duration) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return def, nil
	}
	if n, err := strconv.ParseFloat(s, 64); err == nil {
		if n < 0 {
			return 0, fmt.Errorf("%s: %q must not be negative", name, s)
		}
		return time.Duration(n * float64(time.Second)), nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%s: %q is not a duration (e.g. \"90s\", \"2m\")", name, s)
	}
	if d < 0 {
		return 0, fmt.Errorf("%s: %q must not be negative", name, s)
	}
	return d, nil
}

// SleepCtx waits d or until ctx ends.
func SleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
