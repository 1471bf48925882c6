// Package cli is omsrun's command line: it loads and checks everything, then
// hands a run to the engine. Exit codes are decided here and mapped in main.
package cli

import (
	"errors"
	"fmt"

	"github.com/hashicorp/hcl/v2"

	"github.com/omsrun/omsrun/internal/diag"
)

// Exit codes, documented in the README.
const (
	ExitOK          = 0
	ExitInternal    = 1
	ExitFailed      = 2
	ExitUnreachable = 3
	ExitInvalid     = 4
	ExitDeclined    = 5
	ExitUnhealthy   = 6
	ExitRunError    = 7
	ExitInterrupted = 130
)

// ExitError carries the process exit code of an error.
type ExitError struct {
	code int
	err  error
	// Printed is true when the message was already shown (diagnostics, the recap).
	Printed bool
	// Recapped is true when the run's recap, which carries the code, is out.
	Recapped bool
	// Diags are the input's problems, for --json's error event (the text
	// form went to stderr with its snippets).
	Diags []diag.Entry
}

func (e *ExitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit %d", e.code)
	}
	return e.err.Error()
}

func (e *ExitError) Unwrap() error { return e.err }

// Code is the process exit code.
func (e *ExitError) Code() int { return e.code }

func invalid(format string, args ...any) error {
	return &ExitError{code: ExitInvalid, err: fmt.Errorf(format, args...)}
}

func withCode(code int, err error, printed bool) error {
	return &ExitError{code: code, err: err, Printed: printed}
}

// recapped is the error of a run whose recap was emitted.
func recapped(code int, err error) error {
	return &ExitError{code: code, err: err, Printed: true, Recapped: true}
}

// Code maps any error to an exit code.
func Code(err error) int {
	if err == nil {
		return ExitOK
	}
	var e interface{ Code() int }
	if errors.As(err, &e) {
		return e.Code()
	}
	return ExitInternal
}

// problems shows diags to people (stderr, with snippets) and returns err as
// invalid input (exit 4) carrying them, so that under --json the error event
// on stdout says what is wrong and where, masked as the text is.
func (a *App) problems(g *globals, files map[string]*hcl.File, diags hcl.Diagnostics, err error) error {
	a.renderDiags(g, files, diags)
	return &ExitError{code: ExitInvalid, err: err, Printed: true, Diags: diag.Entries(files, diags)}
}
