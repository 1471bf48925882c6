package lab

import "testing"

func TestShapingQdisc(t *testing.T) {
	for out, want := range map[string]string{
		"":                                  "",
		"qdisc noqueue 0: root refcnt 2 \n": "",
		"qdisc tbf 8001: root refcnt 2 rate 100Mbit burst 64Kb lat 50ms \n": "qdisc tbf 8001: root refcnt 2 rate 100Mbit burst 64Kb lat 50ms",
		"qdisc netem 8002: root refcnt 2 limit 1000 delay 20ms\n":           "qdisc netem 8002: root refcnt 2 limit 1000 delay 20ms",
	} {
		if got := shapingQdisc(out); got != want {
			t.Errorf("shapingQdisc(%q) = %q, want %q", out, got, want)
		}
	}
}
