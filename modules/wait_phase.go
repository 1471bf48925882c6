package modules

import (
	"fmt"
	"strings"
	"time"
)

// waitPrefix starts every wait's progress line (WaitPhase).
const waitPrefix = "waiting for "

// WaitPhase is the progress line of a wait: what, how long so far and the
// limit, e.g. "waiting for health 2m10s / 15m0s". Every module's wait says
// it this way, so the output can tell that the line carries its own time.
func WaitPhase(what string, start time.Time, limit time.Duration) string {
	return fmt.Sprintf("%s%s %s / %s", waitPrefix, what, time.Since(start).Round(time.Second), limit)
}

// IsWaitPhase reports whether a progress line came from WaitPhase and so
// already shows how long it has waited: the output adds no second time.
func IsWaitPhase(phase string) bool {
	return strings.HasPrefix(phase, waitPrefix) && strings.Contains(phase, " / ")
}
