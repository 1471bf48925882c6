package modules

import "context"

// Note shows a message in a host's result line and changes nothing: reminders
// that belong in the run's output (OMS HA is off until enabled, say).
type Note struct{}

var _ Module = (*Note)(nil)
var _ ReadOnly = (*Note)(nil)

// ReadOnly implements ReadOnly: it only reads.
func (*Note) ReadOnly() bool { return true }

// NoteArgs are note's arguments.
type NoteArgs struct {
	Text string `hcl:"text"`
}

// Doc implements Module.
func (*Note) Doc() Doc {
	return Doc{Name: "note", Summary: "Show a message; touches nothing.", Args: map[string]string{"text": "the message"}}
}

// NewArgs implements Module.
func (*Note) NewArgs() any { return &NoteArgs{} }

// Check implements Module.
func (*Note) Check(_ context.Context, _ *Env, a any) (*Plan, error) {
	return &Plan{Summary: a.(*NoteArgs).Text}, nil
}

// Apply implements Module; Check already said it.
func (*Note) Apply(_ context.Context, _ *Env, a any, _ *Plan) (*Result, error) {
	return &Result{Msg: a.(*NoteArgs).Text}, nil
}
