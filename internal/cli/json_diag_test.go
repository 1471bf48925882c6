package cli

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/omsrun/omsrun/internal/diag"
)

// jsonEvent is the one event a command that ends before any recap prints
// under --json (an error), or validate's verdict.
type jsonEvent struct {
	Type        string       `json:"type"`
	ExitCode    int          `json:"exit_code"`
	Error       string       `json:"error"`
	Steps       int          `json:"steps"`
	Hosts       int          `json:"hosts"`
	Diagnostics []diag.Entry `json:"diagnostics"`
}

func oneEvent(t *testing.T, args []string, out string) jsonEvent {
	t.Helper()
	var ev jsonEvent
	if err := json.Unmarshal([]byte(strings.TrimSpace(out)), &ev); err != nil || strings.Count(strings.TrimSpace(out), "\n") > 0 {
		t.Fatalf("%q: stdout is not one JSON event (%v): %q", args, err, out)
	}
	return ev
}

// TestJSONDiagnostics: under --json, input that does not load says on
// stdout what is wrong and where (file, line, column, summary, detail), for
// a run, validate, exec and inventory alike; the secret on the line that did
// not parse is masked there as in the text on stderr. validate --json that
// passes prints one JSON event too.
func TestJSONDiagnostics(t *testing.T) {
	const dir = "../../testdata/bad/secrets"
	broken := []string{dir + "/_play.hcl", "-i", dir + "/_hosts.ini", "-e", "@" + dir + "/vars-unquoted.hcl", "--json"}
	for _, tc := range []struct {
		name string
		args []string
		file string
	}{
		{"run", broken, "vars-unquoted.hcl"},
		{"validate", append([]string{"validate"}, broken...), "vars-unquoted.hcl"},
		{"exec", []string{"exec", "--json", "-i", dir + "/inventory-words.ini", "all", "--", "true"}, "inventory-words.ini"},
		{"inventory", []string{"inventory", "--json", "-i", dir + "/inventory-words.ini"}, "inventory-words.ini"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, errOut, code := run(tc.args...)
			ev := oneEvent(t, tc.args, out)
			if code != ExitInvalid || ev.Type != "error" || ev.ExitCode != ExitInvalid {
				t.Fatalf("exit %d, event %+v", code, ev)
			}
			if len(ev.Diagnostics) == 0 {
				t.Fatalf("the error event has no diagnostics: %s", out)
			}
			d := ev.Diagnostics[0]
			if !strings.HasSuffix(d.File, tc.file) || d.Line < 1 || d.Column < 1 || d.Summary == "" || d.Severity != "error" {
				t.Errorf("diagnostic %+v does not say where in %s", d, tc.file)
			}
			for _, s := range []string{out, errOut} {
				// The secrets of vars-unquoted.hcl and inventory-words.ini.
				for _, piece := range []string{"Qx7Alpha", "Zr91Vw3k", "Hy8Hotel", "Vn88Ks"} {
					if strings.Contains(s, piece) {
						t.Errorf("the output shows %q of a secret:\n%s", piece, s)
					}
				}
			}
		})
	}
	t.Run("validate passes", func(t *testing.T) {
		args := []string{"validate", dir + "/_play.hcl", "-i", dir + "/_hosts.ini", "--json"}
		out, errOut, code := run(args...)
		ev := oneEvent(t, args, out)
		if code != 0 || ev.Type != "valid" || ev.Steps != 1 || ev.Hosts != 1 || ev.Diagnostics == nil {
			t.Fatalf("exit %d, event %+v\nstderr: %s", code, ev, errOut)
		}
	})
}
