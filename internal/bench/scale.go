package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"time"
)

// labUp rebuilds the lab with the given LAB_* settings; an empty map gives
// the default lab (3 hosts with Docker), whatever the caller's environment.
func (b *bench) labUp(settings map[string]string) error {
	cmd := exec.Command(b.omslab, "up")
	cmd.Dir = b.repo
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "LAB_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	for k, v := range settings {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	start := time.Now()
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("omslab up %v: %w\n%s", settings, err, tail(string(out), 20))
	}
	logf("  omslab up %v: %s", settings, secs(time.Since(start)))
	return nil
}

// scaleAll is part 4: a lab of sshd-only hosts, as many as the largest
// count, and a five-step playbook on the first N of them, beside the floor.
// It puts the default lab back at the end, even when a run failed, since the
// other tests of the repository expect it.
func (b *bench) scaleAll(ctx context.Context) (err error) {
	const steps = 5
	top := slices.Max(b.scale)
	if b.scaleInPlace {
		return b.scaleCounts(ctx, top, steps)
	}
	if b.omslab, err = b.buildTool("./internal/lab/cmd/omslab"); err != nil {
		return err
	}
	// Restored even when the large lab came up only partly.
	defer func() {
		logf("  restoring the default lab")
		if rerr := b.labUp(nil); rerr != nil {
			err = errors.Join(err, fmt.Errorf("restoring the default lab: %w", rerr))
		}
		if lerr := b.loadLab(); lerr != nil {
			err = errors.Join(err, lerr)
		}
	}()
	if err := b.labUp(map[string]string{"LAB_DOCKER": "0", "LAB_HOSTS": fmt.Sprint(top)}); err != nil {
		return err
	}
	if err := b.loadLab(); err != nil {
		return err
	}
	return b.scaleCounts(ctx, top, steps)
}

// scaleCounts measures every host count on the lab as it is.
func (b *bench) scaleCounts(ctx context.Context, top, steps int) error {
	if len(b.hosts) < top {
		return fmt.Errorf("the lab has %d hosts, want %d", len(b.hosts), top)
	}
	pb, err := b.writePlaybook("steps5.hcl", steps)
	if err != nil {
		return err
	}
	// A count that fails does not keep the others from being measured.
	var errs []error
	for _, n := range b.scale {
		if ctx.Err() != nil {
			return errors.Join(append(errs, ctx.Err())...)
		}
		hosts := b.hosts[:n]
		inv, err := b.writeInventory(fmt.Sprintf("scale-%d.hcl", n), hosts)
		if err != nil {
			return err
		}
		logf("  %d hosts", n)
		v, err := b.versusFloor(ctx, hosts, inv, pb, steps, b.scaleRuns, "--forks", "100")
		if err != nil {
			logf("  %d hosts: %v", n, err)
			errs = append(errs, fmt.Errorf("%d hosts: %w", n, err))
			continue
		}
		r := float64(v.Omsrun) / float64(v.Floor)
		kind := "sshd-only"
		if b.scaleInPlace {
			kind = "lab"
		}
		b.add(row{Part: "4", Measure: fmt.Sprintf("%d × command true, %d %s hosts, --forks 100 (median of %d)", steps, n, kind, b.scaleRuns),
			Omsrun: ms(v.Omsrun), Ref: "floor " + ms(v.Floor), Ratio: ratio(r), Target: "≤ 1.50×", Verdict: verdict(r <= 1.5)})
		b.add(row{Part: "4", Measure: fmt.Sprintf("%d hosts: peak RSS, peak open fds of omsrun", n),
			Omsrun: fmt.Sprintf("%s, %d fds", mb(v.MaxRSS), v.PeakFDs), Ref: fmt.Sprintf("%d hosts", n),
			Ratio: fmt.Sprintf("%.2f fds/host", float64(v.PeakFDs)/float64(n))})
		b.note("Part 4, %d hosts, omsrun's time (medians): %s.", n, v.Split)
	}
	return errors.Join(errs...)
}
