package main

import (
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/omsrun/omsrun/internal/lab/image"
)

// The uplink parts (issue 19) measure image distribution with the control
// machine's link shaped like the field's: a bastion or a VPN at uplinkMbit.
// Only the controller's side is shaped (a qdisc on the lab bridge), so what
// the hosts send each other stays at full speed.
const uplinkMbit = 100

// upgradeBaseMB and upgradeAppMB shape the upgrade's two versions: a shared
// base and a changed application layer, about 512 MB together.
const upgradeBaseMB, upgradeAppMB = 480, 32

// upgradeImages writes the two versions into the cache once.
func (b *bench) upgradeImages() (v1, v2 string, r1, r2 image.Result, err error) {
	bin := filepath.Join(b.cache, "oms-standin")
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", bin, "./internal/lab/standin")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", "", r1, r2, fmt.Errorf("build the stand-in: %w\n%s", err, out)
	}
	write := func(version string) (string, image.Result, error) {
		file := filepath.Join(b.cache, fmt.Sprintf("upgrade-%s-%d+%dmb.tar.gz", version, upgradeBaseMB, upgradeAppMB))
		if res, err := image.Inspect(file); err == nil && len(res.LayerBytes) > 0 {
			return file, res, nil
		}
		logf("  writing the %s upgrade image to %s (once)", version, file)
		spec, err := image.Standin(image.StandinOptions{Binary: bin, Version: "bench-" + version,
			RepoTag: "omsrun-bench/oms:" + version, BaseMB: upgradeBaseMB, AppMB: upgradeAppMB})
		if err != nil {
			return "", image.Result{}, err
		}
		res, err := image.WriteFile(file, spec)
		return file, res, err
	}
	if v1, r1, err = write("v1"); err != nil {
		return
	}
	v2, r2, err = write("v2")
	return
}

// upgrade is the v1 → v2 upgrade through the shaped uplink: omsrun sends
// the layers each host lacks, the reference sends v2's archive by hand.
func (b *bench) upgrade(ctx context.Context) error {
	v1, v2, r1, r2, err := b.upgradeImages()
	if err != nil {
		return err
	}
	old := map[string]bool{}
	for _, d := range r1.DiffIDs {
		old[d] = true
	}
	var changed int64
	for i, d := range r2.DiffIDs {
		if !old[d] {
			changed += r2.LayerBytes[i]
		}
	}
	n := int64(len(b.hosts))
	rm := func(ids ...string) string {
		return "docker rmi -f " + strings.Join(ids, " ") + " >/dev/null 2>&1; true"
	}
	defer onHosts(context.Background(), b.hosts, rm(r1.ID, r2.ID))
	if err := onHosts(ctx, b.hosts, rm(r1.ID, r2.ID)); err != nil {
		return err
	}
	logf("  v1 to every host, unshaped")
	if _, _, err := b.omsrunLoad(ctx, v1); err != nil {
		return fmt.Errorf("load v1: %w", err)
	}
	var oms, hand transfer
	var omsTx, handTx uplinkSent
	err = b.shaped(func(m meter) error {
		var err error
		omsTx, err = m.measure(func() error {
			t, _, err := b.omsrunLoad(ctx, v2)
			oms = t
			return err
		})
		if err != nil {
			return fmt.Errorf("omsrun docker_load v2: %w", err)
		}
		logf("  omsrun v1 → v2: %s; %s", secs(oms.Wall), omsTx)
		if err := onHosts(ctx, b.hosts, "docker image inspect "+r2.ID+" >/dev/null"); err != nil {
			return fmt.Errorf("v2 is not on every host after omsrun: %w", err)
		}
		if err := onHosts(ctx, b.hosts, rm(r2.ID)); err != nil {
			return err
		}
		handTx, err = m.measure(func() error {
			t, err := b.sshAll(ctx, v2, "docker load")
			hand = t
			return err
		})
		if err != nil {
			return fmt.Errorf("ssh docker load v2: %w", err)
		}
		logf("  ssh docker load v2: %s; %s", secs(hand.Wall), handTx)
		return nil
	})
	if err != nil {
		return err
	}
	// The goal is one copy of the changed layers through the uplink, all
	// bytes counted: the nodes relay one partial archive. What else
	// crosses it is the relay's program, placed gzipped on each node for
	// the transfer, a fixed cost per node; the second row shows the bytes
	// without it, to say how much of a miss it explains.
	bins, what, err := placedSize(b.repo, b.omsrun)
	if err != nil {
		return err
	}
	bins *= n
	sent := omsTx.total()
	r := float64(sent) / float64(changed)
	b.add(row{Part: "U", Measure: fmt.Sprintf("upgrade v1→v2, %d hosts, %d Mbit/s uplink: IP bytes to the hosts vs the changed layers once", n, uplinkMbit),
		Omsrun: mb(sent), Ref: mb(changed), Ratio: ratio3(r), Target: "≤ 1.10×", Verdict: verdict(r <= 1.1)})
	b.add(row{Part: "U", Measure: fmt.Sprintf("upgrade: the same less %s placed on each node (%d × %s gzipped)", what, n, mb(bins/n)),
		Omsrun: mb(sent - bins), Ref: mb(changed), Ratio: ratio3(float64(sent-bins) / float64(changed))})
	b.add(row{Part: "U", Measure: "upgrade v1→v2: time vs ssh docker load of v2's whole archive",
		Omsrun: secs(oms.Wall), Ref: fmt.Sprintf("%s (%s to the hosts)", secs(hand.Wall), mb(handTx.total())),
		Ratio: ratio(float64(oms.Wall) / float64(hand.Wall))})
	b.note("Part U: v2 is %s (%s of it in layers v1 lacks). Upgrade by omsrun: %s. By ssh docker load: %s.",
		mb(r2.Size), mb(changed), omsTx, handTx)
	return nil
}

// uplink is the whole image through the shaped uplink to one host and to
// every host, against ssh docker load to every host.
func (b *bench) uplink(ctx context.Context) error {
	v1, _, r1, _, err := b.upgradeImages()
	if err != nil {
		return err
	}
	rm := "docker rmi -f " + r1.ID + " >/dev/null 2>&1; true"
	defer onHosts(context.Background(), b.hosts, rm)
	var one, all, hand transfer
	var oneTx, allTx, handTx uplinkSent
	err = b.shaped(func(m meter) error {
		measure := func(what string, t *transfer, sent *uplinkSent, fn func() (transfer, error)) error {
			if err := onHosts(ctx, b.hosts, rm); err != nil {
				return err
			}
			var err error
			*sent, err = m.measure(func() error {
				var err error
				*t, err = fn()
				return err
			})
			if err != nil {
				return fmt.Errorf("%s: %w", what, err)
			}
			logf("  %s: %s; %s", what, secs(t.Wall), *sent)
			return nil
		}
		if err := measure("omsrun, 1 host", &one, &oneTx, func() (transfer, error) {
			p, err := run(ctx, procOpts{}, b.omsrun, "exec", "-i", b.inventory, b.hosts[0].Name, "-m", "docker_load", "-a", "file="+v1)
			return transfer{Wall: p.Wall, MaxRSS: p.MaxRSS}, err
		}); err != nil {
			return err
		}
		if err := measure(fmt.Sprintf("omsrun, %d hosts", len(b.hosts)), &all, &allTx, func() (transfer, error) {
			t, _, err := b.omsrunLoad(ctx, v1)
			return t, err
		}); err != nil {
			return err
		}
		if !b.uplinkRef {
			return nil
		}
		return measure(fmt.Sprintf("ssh docker load, %d hosts", len(b.hosts)), &hand, &handTx, func() (transfer, error) { return b.sshAll(ctx, v1, "docker load") })
	})
	if err != nil {
		return err
	}
	n := len(b.hosts)
	r := float64(all.Wall) / float64(one.Wall)
	b.add(row{Part: "U", Measure: fmt.Sprintf("image %s, %d Mbit/s uplink: %d hosts vs 1 host (time)", mb(r1.Size), uplinkMbit, n),
		Omsrun: secs(all.Wall), Ref: secs(one.Wall), Ratio: ratio(r), Target: "≤ 1.25×", Verdict: verdict(r <= 1.25)})
	r = float64(allTx.total()) / float64(r1.Size)
	b.add(row{Part: "U", Measure: fmt.Sprintf("image, %d hosts: IP bytes to the hosts vs the archive", n),
		Omsrun: mb(allTx.total()), Ref: mb(r1.Size), Ratio: ratio3(r), Target: "≤ 1.05×", Verdict: verdict(r <= 1.05)})
	// Where the bytes beyond the archive go: one host's copy over SSH is
	// the floor (SSH framing, headers); each further node costs the relay's
	// program placed on it. A ratio near 1 in the second row says nothing
	// else crosses per node.
	placed, what, err := placedSize(b.repo, b.omsrun)
	if err != nil {
		return err
	}
	placed *= int64(n)
	b.add(row{Part: "U", Measure: "image, 1 host: IP bytes to the host vs the archive (one copy over SSH)",
		Omsrun: mb(oneTx.total()), Ref: mb(r1.Size), Ratio: ratio3(float64(oneTx.total()) / float64(r1.Size))})
	extra := allTx.total() - oneTx.total()
	b.add(row{Part: "U", Measure: fmt.Sprintf("image, %d hosts less 1 host vs %s placed on each node (%d × %s gzipped)", n, what, n, mb(placed/int64(n))),
		Omsrun: mb(extra), Ref: mb(placed), Ratio: ratio3(float64(extra) / float64(placed))})
	b.note("Part U: uplink bytes are the IP bytes the controller sent to the hosts (nftables counters in its output hook, per destination; the bridge's tx_bytes beside them as a cross-check). 1 host: %s. %d hosts: %s.", oneTx, n, allTx)
	if !b.uplinkRef {
		return nil
	}
	b.add(row{Part: "U", Measure: fmt.Sprintf("image, %d hosts: time vs ssh docker load by hand", n),
		Omsrun: secs(all.Wall), Ref: fmt.Sprintf("%s (%s to the hosts)", secs(hand.Wall), mb(handTx.total())),
		Ratio: ratio(float64(all.Wall) / float64(hand.Wall))})
	b.note("Part U: ssh docker load to %d hosts: %s.", n, handTx)
	return nil
}

// gzSize is the size of file gzipped at the default level, as the relay
// places omsrun's binary on each node.
func gzSize(file string) (int64, error) {
	f, err := os.Open(file)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	var n countWriter
	zw := gzip.NewWriter(&n)
	if _, err := io.Copy(zw, f); err != nil {
		return 0, err
	}
	err = zw.Close()
	return int64(n), err
}

type countWriter int64

func (c *countWriter) Write(p []byte) (int, error) { *c += countWriter(len(p)); return len(p), nil }
