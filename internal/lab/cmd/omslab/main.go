// Command omslab brings the omsrun test lab up and down and injects faults
// into it. The Makefile's lab targets call it; see docs/lab.md.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/omsrun/omsrun/internal/lab"
	"github.com/omsrun/omsrun/modules/oms"
)

const usage = `usage: omslab COMMAND [ARGS]

  up            build the lab from scratch (clearing any earlier one)
  down          tear the lab down, leaving nothing behind
  ensure        bring the lab up unless it is already up and healthy
  status        show hosts and services
  reset         return every host to bare (no containers, images, /data) and drop MetaDB databases
  images        rebuild the stand-in images (and their IDs in .lab/env) without touching the hosts
  check-clean   fail if anything of the lab is left on the machine (after down)
  exec HOST -- COMMAND...   run a shell command inside a host as root (no ssh)
  fault ACTION [HOST]       ACTION: sshd-stop sshd-start link-cut link-restore
                            docker-stop docker-start data-fill data-free
                            mariadb-stop mariadb-start
                            port-block HOST [PORT] (drop TCP to PORT, default
                            docker_load's relay port) port-unblock HOST

environment: LAB_HOSTS (3), LAB_DOCKER (1), LAB_IMAGE_MB (0), LAB_DATA_MB (3072),
             LAB_REGIONS (1; 2 adds a host and a second VIP, 10.77.0.200, for region 2)
`

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "omslab:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) == 0 {
		fmt.Fprint(os.Stderr, usage)
		return errors.New("no command")
	}
	if os.Geteuid() != 0 {
		return errors.New("the lab needs root (namespaces, mounts, links)")
	}
	repo, err := lab.RepoRoot()
	if err != nil {
		return err
	}
	opts, err := lab.OptionsFromEnv(repo)
	if err != nil {
		return err
	}
	ctx := context.Background()
	switch args[0] {
	case "up", "down", "ensure", "reset", "images":
		// Two `make e2e` at once must not build the lab twice over each other.
		unlock, err := lab.Lock()
		if err != nil {
			return err
		}
		defer unlock()
	}
	switch args[0] {
	case "up":
		return lab.Up(opts, os.Stdout)
	case "down":
		start := time.Now()
		if err := lab.Down(repo, os.Stdout); err != nil {
			return err
		}
		fmt.Printf("lab down in %.1fs\n", time.Since(start).Seconds())
		return nil
	case "ensure":
		if lab.Healthy(opts) {
			fmt.Println("lab is up and healthy")
			return nil
		}
		return lab.Up(opts, os.Stdout)
	case "status":
		checks, err := lab.Status(repo)
		if err != nil {
			return err
		}
		if !lab.PrintStatus(os.Stdout, checks) {
			return errors.New("lab is not healthy")
		}
		return nil
	case "reset":
		hosts, docker, err := current(repo)
		if err != nil {
			return err
		}
		start := time.Now()
		if err := lab.Reset(ctx, hosts, docker); err != nil {
			return err
		}
		fmt.Printf("%d hosts bare in %.1fs\n", len(hosts), time.Since(start).Seconds())
		return nil
	case "check-clean":
		left := lab.Leftovers()
		for _, l := range left {
			fmt.Println("left behind:", l)
		}
		if len(left) > 0 {
			return fmt.Errorf("%d things of the lab are left on the machine", len(left))
		}
		fmt.Println("nothing of the lab is left")
		return nil
	case "images":
		return lab.RefreshImages(opts)
	case "exec":
		return execCmd(ctx, repo, args[1:])
	case "fault":
		return fault(ctx, repo, args[1:])
	}
	fmt.Fprint(os.Stderr, usage)
	return fmt.Errorf("unknown command %q", args[0])
}

func execCmd(ctx context.Context, repo string, args []string) error {
	if len(args) < 2 {
		return errors.New("usage: omslab exec HOST -- COMMAND...")
	}
	h, err := findHost(repo, args[0])
	if err != nil {
		return err
	}
	rest := args[1:]
	if rest[0] == "--" {
		rest = rest[1:]
	}
	cmd, err := lab.HostCommand(ctx, h, strings.Join(rest, " "))
	if err != nil {
		return err
	}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	return cmd.Run()
}

func fault(ctx context.Context, repo string, args []string) error {
	if len(args) == 0 {
		return errors.New("usage: omslab fault ACTION [HOST]")
	}
	switch args[0] {
	case "mariadb-stop":
		return lab.StopMariaDB()
	case "mariadb-start":
		return lab.StartMariaDB()
	}
	if len(args) < 2 {
		return fmt.Errorf("fault %s needs a HOST", args[0])
	}
	h, err := findHost(repo, args[1])
	if err != nil {
		return err
	}
	switch args[0] {
	case "sshd-stop":
		return lab.StopSSHD(ctx, h)
	case "sshd-start":
		return lab.StartSSHD(ctx, h)
	case "link-cut":
		return lab.CutLink(h)
	case "link-restore":
		return lab.RestoreLink(h)
	case "docker-stop":
		return lab.StopDocker(ctx, h)
	case "docker-start":
		return lab.StartDocker(ctx, h)
	case "data-fill":
		return lab.FillData(ctx, h, 0)
	case "data-free":
		return lab.FreeData(ctx, h)
	case "port-block":
		// The relay's port unless another is given: the fault exists to
		// make docker_load's relay fall back.
		port := oms.DefaultRelayPort
		if len(args) > 2 {
			if port, err = strconv.Atoi(args[2]); err != nil || port < 1 || port > 65535 {
				return fmt.Errorf("port-block: %q is not a TCP port", args[2])
			}
		}
		return lab.BlockPort(ctx, h, port)
	case "port-unblock":
		return lab.UnblockPorts(ctx, h)
	}
	return fmt.Errorf("unknown fault %q", args[0])
}

// current returns the hosts of the running lab, from .lab/env.
func current(repo string) ([]lab.Host, bool, error) {
	env, err := lab.ReadEnv(filepath.Join(repo, ".lab", lab.EnvFile))
	if err != nil {
		return nil, false, fmt.Errorf("lab is not up (run make lab-up): %w", err)
	}
	var hosts []lab.Host
	for i := range len(strings.Fields(env["LAB_HOSTS"])) {
		hosts = append(hosts, lab.HostAt(i+1))
	}
	return hosts, env["LAB_DOCKER"] == "1", nil
}

func findHost(repo, name string) (lab.Host, error) {
	hosts, _, err := current(repo)
	if err != nil {
		return lab.Host{}, err
	}
	for _, h := range hosts {
		if h.Name == name || h.Address == name {
			return h, nil
		}
	}
	return lab.Host{}, fmt.Errorf("no lab host %q", name)
}
