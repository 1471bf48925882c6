package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// row is one line of the result table. Ratio is omsrun over the reference
// in the direction the target is stated in.
type row struct {
	Part    string
	Measure string
	Omsrun  string
	Ref     string // the reference's absolute value, beside the ratio
	Ratio   string
	Target  string
	Verdict string // "ok", "MISSED", or "" when there is no target
}

func (b *bench) add(r row) {
	b.rows = append(b.rows, r)
	logf("%s %s: omsrun %s | reference %s | %s %s %s", r.Part, r.Measure, r.Omsrun, r.Ref, r.Ratio, r.Target, r.Verdict)
}

func (b *bench) note(format string, args ...any) {
	b.notes = append(b.notes, fmt.Sprintf(format, args...))
}

// verdict says whether ok holds, for a row with a target.
func verdict(ok bool) string {
	if ok {
		return "ok"
	}
	return "MISSED"
}

// print writes the table as Markdown, so it can go into docs/PERFORMANCE.md as is.
func (b *bench) print(w io.Writer, took time.Duration) {
	host, _ := os.Hostname()
	fmt.Fprintf(w, "\nomsrun bench, %s, host %s, %s; bench took %s\n\n",
		time.Now().UTC().Format("2006-01-02 15:04 UTC"), host, machine(), took.Round(time.Second))
	cols := []string{"part", "measure", "omsrun", "reference", "ratio", "target", ""}
	cells := [][]string{cols}
	for _, r := range b.rows {
		cells = append(cells, []string{r.Part, r.Measure, r.Omsrun, r.Ref, r.Ratio, r.Target, r.Verdict})
	}
	width := make([]int, len(cols))
	for _, c := range cells {
		for i, s := range c {
			width[i] = max(width[i], len(s))
		}
	}
	for i, c := range cells {
		var sb strings.Builder
		sb.WriteString("|")
		for j, s := range c {
			fmt.Fprintf(&sb, " %-*s |", width[j], s)
		}
		fmt.Fprintln(w, sb.String())
		if i == 0 {
			sb.Reset()
			sb.WriteString("|")
			for j := range c {
				sb.WriteString(strings.Repeat("-", width[j]+2) + "|")
			}
			fmt.Fprintln(w, sb.String())
		}
	}
	if len(b.notes) > 0 {
		fmt.Fprintln(w)
		for _, n := range b.notes {
			fmt.Fprintln(w, n)
		}
	}
}

// machine describes the CPU count and model and the load, so figures from
// different machines are not compared blindly.
func machine() string {
	model := "?"
	if data, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
	}
	load, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(load))
	if len(f) > 0 {
		return fmt.Sprintf("%d CPUs (%s), load %s", numCPU(), model, f[0])
	}
	return fmt.Sprintf("%d CPUs (%s)", numCPU(), model)
}

func ms(d time.Duration) string { return fmt.Sprintf("%.0f ms", float64(d.Microseconds())/1000) }

func secs(d time.Duration) string { return fmt.Sprintf("%.2f s", d.Seconds()) }

func mb(n int64) string { return fmt.Sprintf("%.1f MB", float64(n)/1e6) }

func rateMB(bytes int64, d time.Duration) float64 { return float64(bytes) / d.Seconds() / 1e6 }

func ratio(x float64) string { return fmt.Sprintf("%.2f×", x) }

// ratio3 is for byte ratios, where the third decimal is a measurement.
func ratio3(x float64) string { return fmt.Sprintf("%.3f×", x) }
