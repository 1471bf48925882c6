package engine

import "github.com/omsrun/omsrun/internal/transport"

// The engine's host wrappers hand out what they wrap, so a module can reach
// an optional ability of the connection (transport.Downloader) through them.
// A download bypasses the run lock's first-command hand-shake, which is why
// modules that download (fetch) run a read command first.

// Unwrap implements transport.Unwrapper.
func (l *lockedHost) Unwrap() transport.Host { return l.Host }

// Unwrap implements transport.Unwrapper.
func (v *verboseHost) Unwrap() transport.Host { return v.Host }
