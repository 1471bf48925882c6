package lab

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

func TestCountRules(t *testing.T) {
	hosts := []Host{HostAt(1), HostAt(2), {Name: "oms-x.2", Address: "10.77.0.50"}}
	want := `table inet omsrun_bench {
	counter to_oms1 { }
	counter to_oms2 { }
	counter to_oms_x_2 { }
	counter other { }
	chain out {
		type filter hook output priority 0; policy accept;
		oifname "omslab0" ip daddr 10.77.0.11 counter name "to_oms1" accept
		oifname "omslab0" ip daddr 10.77.0.12 counter name "to_oms2" accept
		oifname "omslab0" ip daddr 10.77.0.50 counter name "to_oms_x_2" accept
		oifname "omslab0" counter name "other"
	}
}
`
	got := countRules(hosts)
	if got != want {
		t.Fatalf("countRules:\n%s\nwant:\n%s", got, want)
	}
	// nft's own parser, in check mode (nothing is applied), where the
	// machine has nft and the right to ask it.
	if _, err := exec.LookPath("nft"); err != nil || os.Geteuid() != 0 {
		t.Skip("nft check mode needs nft and root")
	}
	cmd := exec.Command("nft", "-c", "-f", "-")
	cmd.Stdin = strings.NewReader(got)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("nft -c rejects the rules: %v: %s", err, out)
	}
}

// nftCounters is `nft -j list counters table inet omsrun_bench` as nft
// 1.0.6 prints it, with another table's counter added.
const nftCounters = `{"nftables": [{"metainfo": {"version": "1.0.6", "release_name": "Lester Gooch #5", "json_schema_version": 1}},
{"counter": {"family": "inet", "name": "to_oms1", "table": "omsrun_bench", "handle": 2, "packets": 9466, "bytes": 568012345}},
{"counter": {"family": "inet", "name": "to_oms2", "table": "omsrun_bench", "handle": 3, "packets": 1200, "bytes": 1512000}},
{"counter": {"family": "inet", "name": "other", "table": "omsrun_bench", "handle": 4, "packets": 3, "bytes": 240}},
{"counter": {"family": "ip", "name": "to_oms1", "table": "someone_else", "handle": 2, "packets": 1, "bytes": 7}}]}`

func TestParseCounters(t *testing.T) {
	got, err := parseCounters([]byte(nftCounters))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]uint64{"to_oms1": 568012345, "to_oms2": 1512000, "other": 240}
	if len(got) != len(want) {
		t.Fatalf("parseCounters = %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("parseCounters[%s] = %d, want %d", k, got[k], v)
		}
	}
	if _, err := parseCounters([]byte("Error: No such file or directory")); err == nil {
		t.Error("parseCounters accepted text that is not nft's JSON")
	}
}

func TestUplinkCountsSub(t *testing.T) {
	before := UplinkCounts{Host: map[string]uint64{"oms1": 100, "oms2": 10}, Other: 5}
	after := UplinkCounts{Host: map[string]uint64{"oms1": 1100, "oms2": 60}, Other: 7}
	d := after.Sub(before)
	if d.Host["oms1"] != 1000 || d.Host["oms2"] != 50 || d.Other != 2 || d.Total() != 1050 {
		t.Errorf("Sub = %+v (total %d), want oms1 1000, oms2 50, other 2, total 1050", d, d.Total())
	}
}
