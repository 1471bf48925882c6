package lab

import (
	"fmt"
	"os/exec"
	"strings"
)

// The bench shapes the control machine's side of the lab network to look
// like the field's uplink (a bastion, a VPN). A qdisc on the bridge device
// shapes what the controller's own stack sends into the bridge; frames
// bridged between two hosts' veths never leave through the bridge device,
// so host-to-host traffic stays at full speed, as between real servers.

// ShapeUplink limits what the controller sends to the hosts to mbit Mbit/s.
// The returned function removes the limit; call it on every path out.
func ShapeUplink(mbit int) (undo func() error, err error) {
	rate := fmt.Sprintf("%dmbit", mbit)
	// A token bucket with a 64 KB burst and 50 ms of queue: close to a
	// provider's policer, without tail drops long enough to stall TCP.
	if out, err := exec.Command("tc", "qdisc", "replace", "dev", Bridge, "root", "tbf", "rate", rate, "burst", "64kb", "latency", "50ms").CombinedOutput(); err != nil {
		return nil, fmt.Errorf("tc qdisc replace dev %s root tbf rate %s: %w: %s", Bridge, rate, err, strings.TrimSpace(string(out)))
	}
	return UnshapeUplink, nil
}

// UnshapeUplink removes any qdisc ShapeUplink put on the bridge.
func UnshapeUplink() error {
	if BridgeQdisc() == "" {
		return nil
	}
	if out, err := exec.Command("tc", "qdisc", "del", "dev", Bridge, "root").CombinedOutput(); err != nil {
		return fmt.Errorf("tc qdisc del dev %s root: %w: %s", Bridge, err, strings.TrimSpace(string(out)))
	}
	return nil
}

// BridgeQdisc describes a queueing discipline set on the bridge, "" when it
// has only the kernel's default (noqueue) or does not exist.
func BridgeQdisc() string {
	out, err := exec.Command("tc", "qdisc", "show", "dev", Bridge).Output()
	if err != nil {
		return ""
	}
	return shapingQdisc(string(out))
}

// shapingQdisc picks, from `tc qdisc show` output, a qdisc other than the
// kernel's default.
func shapingQdisc(out string) string {
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if f := strings.Fields(line); len(f) > 1 && f[1] != "noqueue" {
			return strings.TrimSpace(line)
		}
	}
	return ""
}
