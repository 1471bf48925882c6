package main

import (
	"testing"

	"github.com/omsrun/omsrun/internal/lab"
)

func TestUplinkSentString(t *testing.T) {
	s := uplinkSent{
		ip:     lab.UplinkCounts{Host: map[string]uint64{"oms10": 1_000_000, "oms2": 1_430_000, "oms1": 542_800_000}, Other: 10_000},
		bridge: 543_300_000,
	}
	want := "IP bytes 545.2 MB (oms1 542.8 MB, oms2 1.4 MB, oms10 1.0 MB; anything else into the bridge 0.0 MB), bridge tx_bytes 543.3 MB"
	if got := s.String(); got != want {
		t.Errorf("String() =\n%s\nwant\n%s", got, want)
	}
	if s.total() != 545_230_000 {
		t.Errorf("total() = %d, want 545230000", s.total())
	}
}
