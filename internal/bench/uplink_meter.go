package main

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"

	"github.com/omsrun/omsrun/internal/lab"
)

// What crossed the shaped uplink is counted twice. The figure the rows use
// is the IP bytes the controller sent to the lab hosts, from nftables
// counters in its output hook (lab.CountUplink): each packet once, as TCP
// built it, retransmissions included, before the shaping splits anything,
// so it is the same from run to run for the same transfer. The bridge's
// tx_bytes is kept as a cross-check: it adds Ethernet headers and counts
// a segment's headers again whenever the tbf qdisc splits a large (GSO)
// packet, a share that moves by 0.1–2.3 % of the archive between runs.

// uplinkSent is one transfer's bytes through the uplink.
type uplinkSent struct {
	ip     lab.UplinkCounts
	bridge uint64
}

// meter reads both counters; shaped makes it.
type meter struct{ c *lab.UplinkCounter }

// shaped runs fn with the uplink shaped and counted, and always removes
// the shaping and the counters.
func (b *bench) shaped(fn func(m meter) error) error {
	c, uncount, err := lab.CountUplink(b.hosts)
	if err != nil {
		return err
	}
	defer uncount()
	undo, err := lab.ShapeUplink(uplinkMbit)
	if err != nil {
		return err
	}
	defer undo()
	return fn(meter{c})
}

// measure runs fn and returns what it sent through the uplink.
func (m meter) measure(fn func() error) (uplinkSent, error) {
	syscall.Sync()
	ip0, err := m.c.Read()
	if err != nil {
		return uplinkSent{}, err
	}
	tx0, err := bridgeTx()
	if err != nil {
		return uplinkSent{}, err
	}
	if err := fn(); err != nil {
		return uplinkSent{}, err
	}
	ip1, err := m.c.Read()
	if err != nil {
		return uplinkSent{}, err
	}
	tx1, err := bridgeTx()
	if err != nil {
		return uplinkSent{}, err
	}
	return uplinkSent{ip: ip1.Sub(ip0), bridge: tx1 - tx0}, nil
}

// total is the IP bytes sent to the lab hosts.
func (s uplinkSent) total() int64 { return int64(s.ip.Total()) }

// String is the per-host split and the cross-check, for the log and notes.
func (s uplinkSent) String() string {
	names := make([]string, 0, len(s.ip.Host))
	for h := range s.ip.Host {
		names = append(names, h)
	}
	sort.Slice(names, func(i, j int) bool { return hostLess(names[i], names[j]) })
	parts := make([]string, 0, len(names))
	for _, h := range names {
		parts = append(parts, fmt.Sprintf("%s %s", h, mb(int64(s.ip.Host[h]))))
	}
	return fmt.Sprintf("IP bytes %s (%s; anything else into the bridge %s), bridge tx_bytes %s",
		mb(s.total()), strings.Join(parts, ", "), mb(int64(s.ip.Other)), mb(int64(s.bridge)))
}

// hostLess orders oms2 before oms10.
func hostLess(a, b string) bool {
	if len(a) != len(b) {
		return len(a) < len(b)
	}
	return a < b
}

// bridgeTx is what the controller's stack has sent into the lab bridge.
func bridgeTx() (uint64, error) {
	b, err := os.ReadFile(filepath.Join("/sys/class/net", lab.Bridge, "statistics", "tx_bytes"))
	if err != nil {
		return 0, err
	}
	return strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
}
