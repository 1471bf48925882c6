package cli

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/omsrun/omsrun/internal/engine"
	"github.com/omsrun/omsrun/internal/history"
)

// record wraps sink so the run is also written to its record in the state
// folder. A record that cannot be written is a warning, never a reason not
// to run: the operator's command matters more than its log.
func (a *App) record(g *globals, l *loaded, sink engine.Sink) (engine.Sink, func()) {
	state, err := history.StateDir()
	var rec *history.Recorder
	if err == nil {
		hosts := make([]string, 0, len(l.targets))
		for _, h := range l.targets {
			hosts = append(hosts, h.Name)
		}
		rec, err = history.Start(state, sink, history.Run{Playbook: l.pb.Path, Command: l.command, Hosts: hosts, Check: g.check, Vars: l.pb.Vars, Redactor: l.redactor})
	}
	if err != nil {
		fmt.Fprintf(a.Stderr, "warning: this run is not recorded (omsrun history): %v\n", l.redactor.Scrub(err.Error()))
		return sink, func() {}
	}
	return rec, func() { rec.Close() }
}

func (a *App) historyCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "history [N]",
		Short: "list the runs made from this machine, or show run N (events, variables with secrets masked, exit code, backups)",
		Long: "Every playbook run and exec is recorded under $XDG_STATE_HOME/omsrun/runs (default ~/.local/state/omsrun):\n" +
			"its variables with secrets masked, every event as --json prints it, the duration, the exit code and\n" +
			"where its MetaDB backup went. A run without an exit code is still going, or was killed.",
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			state, err := history.StateDir()
			if err != nil {
				return invalid("%v", err)
			}
			if len(args) == 0 {
				recs, err := history.List(state)
				if err != nil {
					return err
				}
				printHistory(a.Stdout, recs)
				return nil
			}
			n, err := strconv.Atoi(args[0])
			if err != nil || n < 1 {
				return invalid("history %q: give a run number from `omsrun history`", args[0])
			}
			rec, err := history.Load(state, n)
			if err != nil {
				return invalid("%v", err)
			}
			return showRun(a.Stdout, rec)
		},
	}
}

// ending says how a run ended.
func ending(r *history.Record) string {
	if r.ExitCode == nil {
		return "no end recorded (running, or killed)"
	}
	return fmt.Sprintf("exit %d in %s", *r.ExitCode, (time.Duration(r.DurationMS) * time.Millisecond).Round(100*time.Millisecond))
}

func printHistory(w io.Writer, recs []*history.Record) {
	if len(recs) == 0 {
		fmt.Fprintln(w, "no runs recorded yet")
		return
	}
	for _, r := range recs {
		check := ""
		if r.Check {
			check = " --check"
		}
		fmt.Fprintf(w, "%4d  %s  %s%s on %d host(s): %s\n", r.Number, r.Start.Local().Format("2006-01-02 15:04:05"), r.What(), check, len(r.Hosts), ending(r))
	}
}

// showRun prints one record: the summary, the variables, the backups, then
// a line per event.
func showRun(w io.Writer, r *history.Record) error {
	fmt.Fprintf(w, "run %d: %s\nstarted %s, %s\nhosts: %s\n", r.Number, r.What(), r.Start.Local().Format(time.RFC3339), ending(r), strings.Join(r.Hosts, ", "))
	for _, b := range r.Backups {
		fmt.Fprintf(w, "MetaDB backup: %s\n", b)
	}
	names := make([]string, 0, len(r.Vars))
	for k := range r.Vars {
		names = append(names, k)
	}
	sort.Strings(names)
	fmt.Fprintln(w, "variables:")
	for _, k := range names {
		v, _ := json.Marshal(r.Vars[k])
		fmt.Fprintf(w, "  %s = %s\n", k, v)
	}
	fmt.Fprintf(w, "events (%s):\n", r.EventsFile())
	f, err := os.Open(r.EventsFile())
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<22)
	for sc.Scan() {
		var ev map[string]any
		if json.Unmarshal(sc.Bytes(), &ev) != nil {
			continue
		}
		if line := eventLine(ev); line != "" {
			fmt.Fprintf(w, "  %s\n", line)
		}
	}
	return sc.Err()
}

// eventLine is one event in a line, the way the text output would say it.
func eventLine(ev map[string]any) string {
	s := func(k string) string { return fmt.Sprint(ev[k]) }
	switch ev["type"] {
	case "run_start":
		return "start " + s("playbook")
	case "step_start":
		return "step " + s("step")
	case "host_result":
		line := "  " + s("host") + " " + s("status")
		if m, _ := ev["msg"].(string); m != "" {
			line += ": " + m
		}
		if e, _ := ev["error"].(string); e != "" {
			line += " — " + firstLineOf(e)
		}
		return line
	case "step_end", "command":
		return "" // the step's results say it; -v command logs stay in the file
	case "warning":
		return "  warning " + s("host") + ": " + s("msg")
	case "recap":
		return fmt.Sprintf("recap: exit %v, %v ms", ev["exit_code"], ev["duration_ms"])
	}
	return s("type")
}

func firstLineOf(s string) string {
	line, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	return line
}
