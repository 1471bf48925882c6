// Command bench measures omsrun on the lab against the references issue 6
// names — the SSH floor (internal/bench/floor), `ssh host docker load` by
// hand, the raw wire — and prints one table in which every figure is a
// ratio taken in the same run, with the reference's absolute value beside
// it. `make bench` runs it after building bin/omsrun and ensuring the lab;
// docs/PERFORMANCE.md explains the figures.
//
// The failover part measures omsrun's own keepalived VIP (vip.hcl) and
// fails the bench when a failover takes more than 5 s.
//
// The scale part rebuilds the lab with up to 100 sshd-only hosts and puts
// the default lab back afterwards, so nobody else may use the lab while it
// runs (-parts leaves it out).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/omsrun/omsrun/internal/lab"
)

// bench holds what every part needs: the binaries, the lab's facts and the
// rows printed at the end.
type bench struct {
	repo      string
	omsrun    string
	floor     string
	omslab    string
	cache     string
	tmp       string
	runs      int
	scaleRuns int
	imageMB   int
	imageRuns int
	// failoverRuns is how many times the failover part kills OMS on the VIP holder.
	failoverRuns int
	// scaleInPlace runs the scale part on the lab as it is, without
	// rebuilding it: for trying the part out on the default lab.
	scaleInPlace bool
	// uplinkRef runs the uplink part's slow reference (ssh docker load to
	// every host, ~2.5 min at 100 Mbit/s); off while iterating on omsrun's rows.
	uplinkRef  bool
	scale      []int
	key        string
	knownHosts string
	inventory  string
	hosts      []lab.Host
	rows       []row
	notes      []string
}

func main() {
	if err := mainErr(); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func mainErr() error {
	parts := flag.String("parts", "steps,image,deploy,failover,scale,upgrade,uplink", "which parts to run, comma-separated: steps image deploy failover scale upgrade uplink")
	b := &bench{}
	flag.IntVar(&b.runs, "runs", 9, "timed runs of omsrun and of the floor for the per-step figure (interleaved; median)")
	flag.IntVar(&b.scaleRuns, "scale-runs", 3, "timed runs of each at every host count of the scale part")
	flag.IntVar(&b.imageMB, "image-mb", 1024, "MiB of incompressible filler in the stand-in image of the distribution part")
	flag.BoolVar(&b.scaleInPlace, "scale-in-place", false, "run the scale part on the lab as it is (counts up to its host count) instead of rebuilding it with sshd-only hosts")
	flag.IntVar(&b.failoverRuns, "failover-runs", 3, "OMS kills on the VIP holder of the failover part (each must be within 5 s)")
	flag.BoolVar(&b.uplinkRef, "uplink-ref", true, "run the uplink part's reference, ssh docker load to every host through the shaped link (-uplink-ref=false leaves out its row)")
	flag.IntVar(&b.imageRuns, "image-runs", 2, "transfers of the image by hand and by omsrun each (a second pair runs in the opposite order)")
	scale := flag.String("scale", "10,50,100", "host counts of the scale part")
	flag.StringVar(&b.cache, "cache", "/var/tmp/omsrun-bench", "where the floor program and the large stand-in image are kept between runs")
	flag.StringVar(&b.omsrun, "omsrun", "bin/omsrun", "the omsrun binary to measure (make bench builds it)")
	flag.Parse()
	for _, s := range strings.Split(*scale, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 || n > lab.MaxHosts {
			return fmt.Errorf("-scale %q: want host counts from 1 to %d", *scale, lab.MaxHosts)
		}
		b.scale = append(b.scale, n)
	}
	want := map[string]bool{}
	for _, p := range strings.Split(*parts, ",") {
		switch p = strings.TrimSpace(p); p {
		case "steps", "image", "deploy", "failover", "scale", "upgrade", "uplink":
			want[p] = true
		default:
			return fmt.Errorf("-parts: unknown part %q", p)
		}
	}
	if os.Geteuid() != 0 {
		return errors.New("the bench drives the lab and needs root")
	}
	var err error
	if b.repo, err = os.Getwd(); err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(b.repo, "go.mod")); err != nil {
		return errors.New("run the bench from the repository root (make bench)")
	}
	if b.omsrun, err = filepath.Abs(b.omsrun); err != nil {
		return err
	}
	if _, err := os.Stat(b.omsrun); err != nil {
		return fmt.Errorf("omsrun binary: %w (make build)", err)
	}
	if err := os.MkdirAll(b.cache, 0o755); err != nil {
		return err
	}
	if b.tmp, err = os.MkdirTemp("", "omsrun-bench-"); err != nil {
		return err
	}
	defer os.RemoveAll(b.tmp)
	if b.floor, err = b.buildTool("./internal/bench/floor"); err != nil {
		return err
	}
	if err := b.loadLab(); err != nil {
		return err
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	start := time.Now()
	logf("omsrun %s, %d lab hosts, %s", b.omsrun, len(b.hosts), time.Now().UTC().Format(time.RFC3339))
	var errs []error
	for _, p := range []struct {
		name string
		fn   func(context.Context) error
	}{{"steps", b.steps}, {"image", b.image}, {"deploy", b.deploy}, {"failover", b.failover}, {"scale", b.scaleAll}, {"upgrade", b.upgrade}, {"uplink", b.uplink}} {
		if !want[p.name] || ctx.Err() != nil {
			continue
		}
		logf("== %s", p.name)
		before := carrierChanges(b.hosts)
		err := p.fn(ctx)
		// The lab is shared: a test elsewhere that cuts a host's link while a
		// part runs makes that part's figures (or failure) meaningless.
		if after := carrierChanges(b.hosts); p.name != "scale" {
			for name, n := range after {
				if n != before[name] {
					b.note("Part %s: the link of %s went down and up %d time(s) meanwhile (something else used the lab); its figures are not trustworthy.", p.name, name, (n-before[name]+1)/2)
				}
			}
		}
		if err != nil {
			logf("%s: %v", p.name, err)
			errs = append(errs, fmt.Errorf("%s: %w", p.name, err))
		}
	}
	b.print(os.Stdout, time.Since(start))
	return errors.Join(errs...)
}

// buildTool compiles a command of the repository into the cache, so that it
// is never timed with `go run`'s compile.
func (b *bench) buildTool(pkg string) (string, error) {
	out := filepath.Join(b.cache, filepath.Base(pkg))
	cmd := exec.Command("go", "build", "-trimpath", "-o", out, pkg)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if msg, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build %s: %w\n%s", pkg, err, msg)
	}
	return out, nil
}

// loadLab reads the running lab's facts from .lab/env.
func (b *bench) loadLab() error {
	env, err := lab.ReadEnv(filepath.Join(b.repo, ".lab", lab.EnvFile))
	if err != nil {
		return fmt.Errorf("the lab is not up (make lab-up): %w", err)
	}
	n, err := strconv.Atoi(env["LAB_HOST_COUNT"])
	if err != nil || n < 1 {
		return fmt.Errorf(".lab/env: LAB_HOST_COUNT=%q", env["LAB_HOST_COUNT"])
	}
	b.hosts = lab.Hosts(n)
	b.key, b.knownHosts, b.inventory = env["LAB_KEY"], env["LAB_KNOWN_HOSTS"], env["LAB_INVENTORY_HCL"]
	return nil
}

func (b *bench) addresses(hosts []lab.Host) string {
	out := make([]string, len(hosts))
	for i, h := range hosts {
		out[i] = h.Address
	}
	return strings.Join(out, ",")
}

// vethBytes sums rx+tx of the hosts' links, read on the controller side.
func vethBytes(hosts []lab.Host) (uint64, error) {
	var total uint64
	for _, h := range hosts {
		n, err := lab.VethBytes(h)
		if err != nil {
			return 0, err
		}
		total += n
	}
	return total, nil
}

// carrierChanges reads every host veth's carrier_changes counter, which
// moves when anything cuts or restores the host's link.
func carrierChanges(hosts []lab.Host) map[string]int {
	out := map[string]int{}
	for _, h := range hosts {
		data, err := os.ReadFile(filepath.Join("/sys/class/net", h.Veth(), "carrier_changes"))
		if err != nil {
			continue
		}
		if n, err := strconv.Atoi(strings.TrimSpace(string(data))); err == nil {
			out[h.Name] = n
		}
	}
	return out
}

// writePlaybook writes a playbook of n `command true` steps.
func (b *bench) writePlaybook(name string, n int) (string, error) {
	var sb strings.Builder
	sb.WriteString("# omsrun bench: trivial steps, to measure per-step overhead\n")
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&sb, "step \"s%d\" {\n  command { argv = [\"true\"] }\n}\n", i)
	}
	file := filepath.Join(b.tmp, name)
	return file, os.WriteFile(file, []byte(sb.String()), 0o644)
}

// writeInventory writes an HCL inventory of the given lab hosts.
func (b *bench) writeInventory(name string, hosts []lab.Host) (string, error) {
	var sb strings.Builder
	fmt.Fprintf(&sb, "defaults {\n  user = \"root\"\n  key_file = %q\n  known_hosts_file = %q\n}\n\ngroup \"bench\" {\n", b.key, b.knownHosts)
	for _, h := range hosts {
		fmt.Fprintf(&sb, "  host %q { address = %q }\n", h.Name, h.Address)
	}
	sb.WriteString("}\n")
	file := filepath.Join(b.tmp, name)
	return file, os.WriteFile(file, []byte(sb.String()), 0o644)
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s  %s\n", time.Now().UTC().Format("15:04:05"), fmt.Sprintf(format, args...))
}
