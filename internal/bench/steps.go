package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/omsrun/omsrun/internal/lab"
)

// versus is one omsrun-against-the-floor comparison: the same number of
// trivial commands on the same hosts, each program a whole process timed
// from fork to reap.
type versus struct {
	Omsrun, Floor time.Duration // medians
	MaxRSS        int64         // largest over omsrun's runs
	PeakFDs       int
	Split         split // where omsrun's time went, medians
}

// versusFloor runs omsrun on playbook and the floor program with n commands
// per host, runs times each, interleaved and alternating which goes first
// so that a burst of load elsewhere on the machine hits both. One untimed
// run of each comes first: it warms the page cache and the hosts' sshd.
func (b *bench) versusFloor(ctx context.Context, hosts []lab.Host, inventory, playbook string, n, runs int, extra ...string) (versus, error) {
	var v versus
	var om, fl []time.Duration
	var splits []split
	oms := append([]string{b.omsrun, playbook, "-i", inventory, "--json"}, extra...)
	floor := []string{b.floor, "-hosts", b.addresses(hosts), "-key", b.key, "-n", strconv.Itoa(n)}
	for i := 0; i <= runs; i++ {
		first, second := oms, floor
		if i%2 == 1 {
			first, second = floor, oms
		}
		for _, argv := range [][]string{first, second} {
			isOms := argv[0] == b.omsrun
			// Open files are sampled (every 3 ms, which costs CPU the floor
			// would not pay) only in the untimed warm-up run.
			p, err := run(ctx, procOpts{SampleFDs: isOms && i == 0}, argv...)
			if err != nil {
				return v, err
			}
			if !isOms {
				if i > 0 {
					fl = append(fl, p.Wall)
				}
				continue
			}
			if err := noFailures(p.Stdout, len(hosts), n); err != nil {
				return v, err
			}
			v.MaxRSS = max(v.MaxRSS, p.MaxRSS)
			v.PeakFDs = max(v.PeakFDs, p.PeakFDs)
			if i > 0 {
				om = append(om, p.Wall)
				if s, err := splitRun(p); err == nil {
					splits = append(splits, s)
				}
			}
		}
	}
	v.Omsrun, v.Floor = median(om), median(fl)
	v.Split = medianSplit(splits)
	logf("  omsrun %v", om)
	logf("  floor  %v", fl)
	return v, nil
}

// noFailures reads omsrun's JSON recap and checks that every host ran every
// step without a failure: a fast run that skipped hosts would flatter it.
func noFailures(stdout []byte, hosts, steps int) error {
	sc := bufio.NewScanner(bytes.NewReader(stdout))
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var ev struct {
			Type  string `json:"type"`
			Hosts map[string]struct {
				Changed, OK, Failed, Unreachable, Skipped int
			} `json:"hosts"`
		}
		if json.Unmarshal(sc.Bytes(), &ev) != nil || ev.Type != "recap" {
			continue
		}
		if len(ev.Hosts) != hosts {
			return fmt.Errorf("recap lists %d hosts, want %d", len(ev.Hosts), hosts)
		}
		for name, h := range ev.Hosts {
			if h.Failed+h.Unreachable+h.Skipped > 0 || h.Changed+h.OK != steps {
				return fmt.Errorf("host %s: %+v, want %d steps done", name, h, steps)
			}
		}
		return nil
	}
	return fmt.Errorf("no recap event in omsrun's output")
}

// steps is part 1: ten `command true` steps on the default lab's hosts.
func (b *bench) steps(ctx context.Context) error {
	const n = 10
	pb, err := b.writePlaybook("steps10.hcl", n)
	if err != nil {
		return err
	}
	v, err := b.versusFloor(ctx, b.hosts, b.inventory, pb, n, b.runs)
	if err != nil {
		return err
	}
	r := float64(v.Omsrun) / float64(v.Floor)
	b.add(row{Part: "1", Measure: fmt.Sprintf("%d × command true, %d hosts (median of %d)", n, len(b.hosts), b.runs),
		Omsrun: ms(v.Omsrun), Ref: "floor " + ms(v.Floor), Ratio: ratio(r), Target: "≤ 1.50×", Verdict: verdict(r <= 1.5)})
	b.note("Part 1, omsrun's time (medians, from its JSON events): %s.", v.Split)
	return nil
}
