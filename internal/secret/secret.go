// Package secret marks sensitive values and scrubs them from anything printed.
// Redaction happens at the output edge, by value, so a secret echoed back by a
// remote command is hidden too.
package secret

import (
	"encoding/json"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/zclconf/go-cty/cty"
)

// Mark is the cty mark carried by sensitive values.
const Mark = "sensitive"

// Mask replaces a secret wherever it would be shown.
const Mask = "********"

// Redactor holds the secret values of one run and removes them from text.
type Redactor struct {
	mu     sync.RWMutex
	values []string
}

// NewRedactor returns an empty redactor.
func NewRedactor() *Redactor { return &Redactor{} }

// Add registers secret values; values shorter than 3 bytes are ignored because
// scrubbing them would mangle ordinary text.
func (r *Redactor) Add(vals ...string) {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	var all []string
	for _, v := range vals {
		all = append(all, quotedForms(v)...)
	}
	for _, v := range all {
		if len(v) < 3 {
			continue
		}
		dup := false
		for _, have := range r.values {
			if have == v {
				dup = true
				break
			}
		}
		if !dup {
			r.values = append(r.values, v)
		}
	}
	// Longest first, so a secret that contains another is replaced whole.
	sort.Slice(r.values, func(i, j int) bool { return len(r.values[i]) > len(r.values[j]) })
}

// quotedForms returns v and the forms it takes inside a JSON string and a Go
// %q string, where quotes, backslashes, <, >, & and control characters are
// escaped: output is scrubbed after encoding, so those forms must match too.
func quotedForms(v string) []string {
	forms := []string{v}
	if b, err := json.Marshal(v); err == nil {
		if j := string(b[1 : len(b)-1]); j != v {
			forms = append(forms, j)
		}
	}
	if q := strconv.Quote(v); q[1:len(q)-1] != v {
		forms = append(forms, q[1:len(q)-1])
	}
	return forms
}

// AddValue registers every marked string found inside v.
func (r *Redactor) AddValue(v cty.Value) {
	if r == nil {
		return
	}
	_ = cty.Walk(v, func(_ cty.Path, x cty.Value) (bool, error) {
		if x.HasMark(Mark) {
			u, _ := x.Unmark()
			if u.IsKnown() && !u.IsNull() && u.Type() == cty.String {
				r.Add(u.AsString())
			}
		}
		return true, nil
	})
}

// Scrub returns s with every registered secret replaced by Mask.
func (r *Redactor) Scrub(s string) string {
	if r == nil {
		return s
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	for _, v := range r.values {
		if strings.Contains(s, v) {
			s = strings.ReplaceAll(s, v, Mask)
		}
	}
	return s
}

// String is a secret string that prints as Mask.
type String string

// String implements fmt.Stringer so %v and %s never show the value.
func (String) String() string { return Mask }

// GoString hides the value from %#v as well.
func (String) GoString() string { return Mask }

// Reveal returns the value for the one place that must use it.
func (s String) Reveal() string { return string(s) }
