package oms

import (
	"strings"
	"testing"

	"github.com/omsrun/omsrun/internal/metadb"
)

// TestLastOfRegion: scaling in is refused for the only node registered in
// its resource group (its region), before anything changes, with the
// remedy; a node with a peer in its group, or no row, goes ahead.
func TestLastOfRegion(t *testing.T) {
	rows := []metadb.HostRow{{IP: "10.0.0.11", Group: "1"}, {IP: "10.0.0.12", Group: "1"}, {IP: "10.0.0.13", Group: "2"}}
	for _, tc := range []struct {
		name, remove string
		refused      bool
	}{
		{"a region keeps a node", "10.0.0.12", false},
		{"the region's last node", "10.0.0.13", true},
		{"already deleted", "10.0.0.14", false},
		{"nothing to remove", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := lastOfRegion(rows, tc.remove, "oms_cm")
			if (err != nil) != tc.refused {
				t.Fatalf("refused: %v, want %v", err, tc.refused)
			}
			if err == nil {
				return
			}
			for _, want := range []string{tc.remove + " is the last node of its region", "oms_cm.host", "(2)", "Nothing was changed",
				"add a node to it first", "run deploy.hcl, then scale " + tc.remove + " in", "Remove a node and reduce the number of regions"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("no %q in: %v", want, err)
				}
			}
		})
	}
	// One region: its last node is the cluster's last.
	if err := lastOfRegion(rows[:1], "10.0.0.11", "oms_cm"); err == nil || !strings.Contains(err.Error(), "uninstall.hcl") {
		t.Errorf("the only node: %v", err)
	}
}
