package omsconfig

import (
	"errors"
	"strings"
	"testing"
)

func TestImageVersion(t *testing.T) {
	for ref, want := range map[string]string{
		"oms:feature_4.2.5-ce":                        "4.2.5",
		"reg.example:5000/oceanbase/oms-ce:4.2.11":    "4.2.11",
		"oms:4.2.9-CE":                                "4.2.9",
		"oceanbase/oms:feature_4.1.0-ce_20240101_bp1": "4.1.0",
	} {
		v, err := ImageVersion(ref)
		if err != nil || v.String() != want {
			t.Errorf("%s: %v %v, want %s", ref, v, err, want)
		}
	}
	for _, ref := range []string{"oms", "oms:latest", "reg:5000/oms", "sha256:0123456789abcdef", "oms:1.2"} {
		if _, err := ImageVersion(ref); err == nil {
			t.Errorf("%s: no error", ref)
		}
	}
}

func TestUpgradeGate(t *testing.T) {
	v := func(s string) Version {
		x, err := ImageVersion("oms:" + s)
		if err != nil {
			t.Fatal(err)
		}
		return x
	}
	for _, tc := range []struct {
		from, to string
		want     string // "" allowed, else a piece of the refusal
	}{
		{"4.2.5", "4.2.6", ""},
		{"4.2.4", "4.2.6", ""},
		{"4.2.5", "4.2.7", ""}, // no page restricts 4.2.7: the lab's broken image stays reachable
		{"4.2.5", "4.2.9", ""},
		{"4.2.0", "4.2.9", ""},
		{"4.2.5", "4.2.5", ""},
		{"4.1.1", "4.2.5", ""},
		{"4.1.0", "4.2.5", "older than 4.1.1"},
		{"4.2.3", "4.2.6", "upgrade to V4.2.6"},
		{"4.2.5", "4.2.3", "downgrade"},
		{"4.2.6", "4.2.5", "restore.hcl"},
		{"4.1.1", "4.2.3", "upgrade to V4.2.3"},
		{"4.2.2", "4.2.3", ""},
		{"4.2.1", "4.2.10", ""},
	} {
		err := UpgradeGate(v(tc.from), v(tc.to))
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s → %s refused: %v", tc.from, tc.to, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s → %s: %v, want %q", tc.from, tc.to, err, tc.want)
		}
	}
	if err := UpgradeGate(v("4.2.6"), v("4.2.5")); !errors.Is(err, ErrDowngrade) {
		t.Errorf("downgrade not marked: %v", err)
	}
}
