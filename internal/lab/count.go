package lab

import (
	"encoding/json"
	"fmt"
	"os/exec"
	"strings"
)

// The bench counts what crosses the control machine's link with nftables
// counters in the controller's output hook, one per lab host, rather than
// with the bridge's tx_bytes: the output hook sees each IP packet once, as
// TCP built it (a large GSO packet with one set of headers), before the
// shaping qdisc splits it into segments. The bridge counts a segment's
// headers again each time tbf splits a packet, and how many it splits
// moves from run to run (0.1–2.3 % of the archive, docs/PERFORMANCE.md).
// Like the shaping, the counters belong to the bench only: it always
// removes them, Down removes them too, and check-clean reports them.

// countTable is the nftables table (family inet, in the controller's
// namespace) that holds the bench's counters.
const countTable = "omsrun_bench"

// otherCounter counts whatever else the controller sends into the bridge
// (another address, IPv6): it should stay near zero.
const otherCounter = "other"

// counterName is host h's counter: nftables identifiers are letters,
// digits and underscores, so anything else in a host's name becomes "_".
func counterName(h Host) string {
	return "to_" + strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' {
			return r
		}
		return '_'
	}, h.Name)
}

// countRules is the nft script that creates the table: one named counter
// per host, matched on the bridge and the host's address, and one for the
// rest. A host's rule accepts, which ends only this chain (the packet goes
// on through any other base chain), so that "other" does not count it again.
func countRules(hosts []Host) string {
	var b strings.Builder
	fmt.Fprintf(&b, "table inet %s {\n", countTable)
	for _, h := range hosts {
		fmt.Fprintf(&b, "\tcounter %s { }\n", counterName(h))
	}
	fmt.Fprintf(&b, "\tcounter %s { }\n", otherCounter)
	b.WriteString("\tchain out {\n\t\ttype filter hook output priority 0; policy accept;\n")
	for _, h := range hosts {
		fmt.Fprintf(&b, "\t\toifname %q ip daddr %s counter name %q accept\n", Bridge, h.Address, counterName(h))
	}
	fmt.Fprintf(&b, "\t\toifname %q counter name %q\n", Bridge, otherCounter)
	b.WriteString("\t}\n}\n")
	return b.String()
}

// UplinkCounts are the IP bytes the controller has sent into the bridge
// since the counters were made: per host name, and to anything else.
type UplinkCounts struct {
	Host  map[string]uint64
	Other uint64
}

// Total is the IP bytes sent to the lab's hosts.
func (c UplinkCounts) Total() uint64 {
	var n uint64
	for _, v := range c.Host {
		n += v
	}
	return n
}

// Sub is c less an earlier reading.
func (c UplinkCounts) Sub(earlier UplinkCounts) UplinkCounts {
	d := UplinkCounts{Host: map[string]uint64{}, Other: c.Other - earlier.Other}
	for h, v := range c.Host {
		d.Host[h] = v - earlier.Host[h]
	}
	return d
}

// UplinkCounter reads the counters CountUplink made.
type UplinkCounter struct{ hosts []Host }

// CountUplink makes the counters for hosts (replacing any left from an
// interrupted bench). The returned function removes them; call it on
// every path out.
func CountUplink(hosts []Host) (*UplinkCounter, func() error, error) {
	if err := UncountUplink(); err != nil {
		return nil, nil, err
	}
	cmd := exec.Command("nft", "-f", "-")
	cmd.Stdin = strings.NewReader(countRules(hosts))
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, nil, fmt.Errorf("nft -f (the bench's uplink counters): %w: %s", err, strings.TrimSpace(string(out)))
	}
	return &UplinkCounter{hosts: hosts}, UncountUplink, nil
}

// Read returns the counters' values now.
func (c *UplinkCounter) Read() (UplinkCounts, error) {
	out, err := exec.Command("nft", "-j", "list", "counters", "table", "inet", countTable).Output()
	if err != nil {
		return UplinkCounts{}, fmt.Errorf("nft -j list counters table inet %s: %w", countTable, err)
	}
	byName, err := parseCounters(out)
	if err != nil {
		return UplinkCounts{}, err
	}
	counts := UplinkCounts{Host: map[string]uint64{}}
	for _, h := range c.hosts {
		v, ok := byName[counterName(h)]
		if !ok {
			return UplinkCounts{}, fmt.Errorf("nft: no counter %s for host %s in table inet %s", counterName(h), h.Name, countTable)
		}
		counts.Host[h.Name] = v
	}
	counts.Other = byName[otherCounter]
	return counts, nil
}

// parseCounters reads the bytes of each counter of the bench's table from
// `nft -j list counters` output.
func parseCounters(out []byte) (map[string]uint64, error) {
	var doc struct {
		Nftables []struct {
			Counter *struct {
				Table string `json:"table"`
				Name  string `json:"name"`
				Bytes uint64 `json:"bytes"`
			} `json:"counter"`
		} `json:"nftables"`
	}
	if err := json.Unmarshal(out, &doc); err != nil {
		return nil, fmt.Errorf("nft -j list counters: %w", err)
	}
	byName := map[string]uint64{}
	for _, o := range doc.Nftables {
		if o.Counter != nil && o.Counter.Table == countTable {
			byName[o.Counter.Name] = o.Counter.Bytes
		}
	}
	return byName, nil
}

// UncountUplink removes the bench's counters, if any.
func UncountUplink() error {
	if !countTableExists() {
		return nil
	}
	if out, err := exec.Command("nft", "delete", "table", "inet", countTable).CombinedOutput(); err != nil {
		return fmt.Errorf("nft delete table inet %s: %w: %s", countTable, err, strings.TrimSpace(string(out)))
	}
	return nil
}

// countTableExists says whether the bench's table is in the controller's
// namespace (a machine without nft has none).
func countTableExists() bool {
	return exec.Command("nft", "list", "table", "inet", countTable).Run() == nil
}
