package modules

// Declined is a module's refusal to go on because the operator answered no
// to its question, or no one could be asked (no terminal, check mode) and
// nothing confirms it otherwise. It is not a host's failure: the engine
// stops the run with the declined recap (exit 5), as a "no" to a step's
// confirmation does. Only read-only modules ask, so nothing was changed.
type Declined struct {
	// Reason says what was not confirmed and how to confirm it.
	Reason string
}

func (d *Declined) Error() string { return d.Reason }
