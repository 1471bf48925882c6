// Package history keeps a record of every run on the control machine, under
// omsrun's state folder ($XDG_STATE_HOME/omsrun, ~/.local/state/omsrun by
// default): what ran, with which variables (secrets masked), every event,
// how long it took, how it ended and where the MetaDB backup went. The
// record is written while the run goes, so a run killed with SIGKILL still
// leaves what it did, only without an end.
package history

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"time"

	"github.com/omsrun/omsrun/internal/statedir"
)

// StateDir is omsrun's folder on the control machine (statedir.Dir).
func StateDir() (string, error) { return statedir.Dir() }

// Record is one run's summary (run.json); its events are beside it.
type Record struct {
	Number   int    `json:"number"`
	Playbook string `json:"playbook"`
	// Command is what an exec ran (its playbook is "exec"), secrets masked.
	Command string    `json:"command,omitempty"`
	Hosts   []string  `json:"hosts"`
	Check   bool      `json:"check"`
	Start   time.Time `json:"start"`
	// End, DurationMS and ExitCode are set when the run ends; a record
	// without them is a run that is still going or was killed.
	End        *time.Time `json:"end,omitempty"`
	DurationMS int64      `json:"duration_ms,omitempty"`
	ExitCode   *int       `json:"exit_code,omitempty"`
	// Vars are the variables' values, secrets masked (secret.IsSecretName,
	// and every value marked sensitive).
	Vars map[string]any `json:"vars"`
	// Backups are the MetaDB backup files the run wrote.
	Backups []string `json:"backups,omitempty"`
	// Dir is the record's folder (not stored).
	Dir string `json:"-"`
}

// What is what ran: the playbook, or exec and its command.
func (r *Record) What() string {
	if r.Command == "" {
		return r.Playbook
	}
	return r.Playbook + " " + r.Command
}

// EventsFile is the run's events, one JSON object a line, as --json prints them.
func (r *Record) EventsFile() string { return filepath.Join(r.Dir, "events.jsonl") }

func runsDir(state string) string { return filepath.Join(state, "runs") }

// create makes the next run's folder: one more than the highest so far,
// taken with mkdir so two runs started at once never share a number.
func create(state string) (int, string, error) {
	dir := runsDir(state)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return 0, "", err
	}
	nums, err := numbers(state)
	if err != nil {
		return 0, "", err
	}
	n := 1
	if len(nums) > 0 {
		n = nums[len(nums)-1] + 1
	}
	for ; ; n++ {
		p := filepath.Join(dir, strconv.Itoa(n))
		err := os.Mkdir(p, 0o700)
		if err == nil {
			return n, p, nil
		}
		if !errors.Is(err, os.ErrExist) {
			return 0, "", err
		}
	}
}

// numbers are the recorded runs' numbers, ascending.
func numbers(state string) ([]int, error) {
	entries, err := os.ReadDir(runsDir(state))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var nums []int
	for _, e := range entries {
		if n, err := strconv.Atoi(e.Name()); err == nil && e.IsDir() {
			nums = append(nums, n)
		}
	}
	sort.Ints(nums)
	return nums, nil
}

// List reads every run's record in the state folder, oldest first.
func List(state string) ([]*Record, error) {
	nums, err := numbers(state)
	if err != nil {
		return nil, err
	}
	var out []*Record
	for _, n := range nums {
		r, err := Load(state, n)
		if err != nil {
			continue // a run that died before writing its summary
		}
		out = append(out, r)
	}
	return out, nil
}

// Load reads run n's record.
func Load(state string, n int) (*Record, error) {
	dir := filepath.Join(runsDir(state), strconv.Itoa(n))
	b, err := os.ReadFile(filepath.Join(dir, "run.json"))
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("no run %d in %s", n, runsDir(state))
	}
	if err != nil {
		return nil, err
	}
	r := &Record{}
	if err := json.Unmarshal(b, r); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, "run.json"), err)
	}
	r.Dir = dir
	return r, nil
}

// save writes run.json beside the events, through a temporary file and a
// rename, so a reader never sees half of it.
func (r *Record) save() error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	tmp := filepath.Join(r.Dir, "run.json.tmp")
	if err := os.WriteFile(tmp, append(b, '\n'), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(r.Dir, "run.json"))
}
