package wizard

import (
	"errors"
	"fmt"
	"io"
	"strings"
)

// ErrInputEnded means the answers ran out before the questions did.
var ErrInputEnded = errors.New("input ended before every question was answered")

// question is one thing the wizard asks. Its key is also its flag name, so a
// flag answers the question it names and goes through the same check.
type question struct {
	key    string
	prompt string
	// def is offered in brackets and taken when the answer is empty.
	def    string
	secret bool
	// with names the flag that makes this question asked, for the
	// "is required" of a non-interactive run ("is required with --sls").
	with string
	// check validates an answer (already trimmed) and returns it normalised;
	// it sees "" when nothing was typed and there is no default.
	check func(string) (string, error)
}

// ask answers q from its flag the first time, otherwise from the input.
// In non-interactive mode a missing or wrong flag is recorded as a problem
// and "" returned, so that every problem is reported in one go.
func (w *Wizard) ask(q question) (string, error) {
	if v, ok := w.Preset[q.key]; ok && !w.used[q.key] {
		w.used[q.key] = true
		got, err := q.check(strings.TrimSpace(v))
		if err == nil {
			if !q.secret {
				fmt.Fprintf(w.Out, "%s: %s\n", q.prompt, got)
			}
			return got, nil
		}
		if !w.Interactive {
			w.problem(q.key, err)
			return "", nil
		}
		fmt.Fprintf(w.Out, "  ✗ --%s: %v\n", q.key, err)
	}
	if !w.Interactive {
		got, err := q.check(q.def)
		if err != nil {
			if q.def == "" {
				err = errors.New("is required")
				if q.with != "" {
					err = errors.New("is required with --" + q.with)
				}
			}
			w.problem(q.key, err)
			return "", nil
		}
		if !q.secret && got != "" {
			fmt.Fprintf(w.Out, "%s: %s\n", q.prompt, got)
		}
		return got, nil
	}
	for {
		if q.def != "" && !q.secret {
			fmt.Fprintf(w.Out, "%s [%s]: ", q.prompt, q.def)
		} else {
			fmt.Fprintf(w.Out, "%s: ", q.prompt)
		}
		var line string
		var err error
		if q.secret {
			line, err = w.readSecret()
		} else {
			line, err = w.readLine()
		}
		if err != nil {
			return "", err
		}
		w.typed++
		line = strings.TrimSpace(line)
		if line == "" {
			line = q.def
		}
		got, err := q.check(line)
		if err == nil {
			if got != line && !q.secret {
				// Say what the answer became (a normalised URL, a full path).
				fmt.Fprintf(w.Out, "  → %s\n", got)
			}
			return got, nil
		}
		fmt.Fprintf(w.Out, "  ✗ %v\n", err)
	}
}

// askYesNo asks a y/n question.
func (w *Wizard) askYesNo(key, prompt string, def bool) (bool, error) {
	d := "n"
	if def {
		d = "y"
	}
	got, err := w.ask(question{key: key, prompt: prompt + " (y/n)", def: d, check: parseYesNo})
	return got == "y", err
}

func parseYesNo(s string) (string, error) {
	switch strings.ToLower(s) {
	case "y", "yes", "true", "1":
		return "y", nil
	case "n", "no", "false", "0":
		return "n", nil
	}
	return "", fmt.Errorf("answer y or n, not %q", s)
}

// confirm asks the seed's "are these settings correct" question after a
// section, but only when something in it was typed: settings that all came
// from flags were already decided by whoever wrote the command line.
func (w *Wizard) confirm(typedBefore int) (bool, error) {
	if !w.Interactive || w.typed == typedBefore {
		return true, nil
	}
	for {
		fmt.Fprint(w.Out, "Are these settings correct? (y/n) [y]: ")
		line, err := w.readLine()
		if err != nil {
			return false, err
		}
		line = strings.TrimSpace(line)
		if line == "" {
			return true, nil
		}
		if yn, err := parseYesNo(line); err == nil {
			return yn == "y", nil
		}
		fmt.Fprintln(w.Out, "  ✗ answer y or n")
	}
}

// readLine reads one line a byte at a time: reading ahead into a buffer
// would swallow what the user types after this answer, and the password
// reader that may follow reads the terminal directly.
func (w *Wizard) readLine() (string, error) {
	var b strings.Builder
	var one [1]byte
	for {
		n, err := w.In.Read(one[:])
		if n == 1 {
			if one[0] == '\n' {
				return strings.TrimSuffix(b.String(), "\r"), nil
			}
			b.WriteByte(one[0])
			continue
		}
		if err == io.EOF {
			if b.Len() > 0 {
				return b.String(), nil
			}
			fmt.Fprintln(w.Out)
			return "", ErrInputEnded
		}
		if err != nil {
			return "", err
		}
	}
}

// readSecret reads a password without echo when the input is a terminal.
func (w *Wizard) readSecret() (string, error) {
	if w.ReadSecret == nil {
		s, err := w.readLine()
		if err == nil {
			fmt.Fprintln(w.Out)
		}
		return s, err
	}
	s, err := w.ReadSecret()
	fmt.Fprintln(w.Out)
	if err != nil {
		return "", err
	}
	return strings.TrimRight(s, "\r\n"), nil
}

func (w *Wizard) heading(s string) {
	fmt.Fprintf(w.Out, "\n== %s ==\n", s)
}
