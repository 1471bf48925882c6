package modules

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/zclconf/go-cty/cty"

	"github.com/omsrun/omsrun/internal/docker"
	"github.com/omsrun/omsrun/internal/textx"
	"github.com/omsrun/omsrun/internal/transport"
)

// Container runs any container from an image already on the host. It reads
// the running container with docker inspect and recreates it only when what
// the arguments set differs; a stopped but matching container is started.
// Environment values travel on stdin (docker run --env-file /dev/stdin),
// never in a command line, since they are often passwords.
type Container struct{}

var _ Module = (*Container)(nil)
var _ Validator = (*Container)(nil)

// ContainerArgs are the arguments of container.
type ContainerArgs struct {
	Name    string            `hcl:"name"`
	Image   string            `hcl:"image,optional"`
	State   string            `hcl:"state,optional"`
	Env     map[string]string `hcl:"env,optional"`
	Mounts  []string          `hcl:"mounts,optional"`
	Ports   []string          `hcl:"ports,optional"`
	Network string            `hcl:"network,optional"`
	CapAdd  []string          `hcl:"cap_add,optional"`
	Restart string            `hcl:"restart,optional"`
	Command []string          `hcl:"command,optional"`
	// Privileged, Ulimits, PidsLimit and TTY are what OMS's documented
	// docker run needs (container_run builds on this module).
	Privileged bool     `hcl:"privileged,optional"`
	Ulimits    []string `hcl:"ulimits,optional"`
	PidsLimit  int      `hcl:"pids_limit,optional"`
	TTY        bool     `hcl:"tty,optional"`
}

// Doc describes the module.
func (*Container) Doc() Doc {
	return Doc{
		Name:    "container",
		Summary: "Run any container (image, env, mounts, ports or host network, capabilities, restart policy, command); compared with docker inspect and recreated only on change.",
		Args: map[string]string{
			"name":       "string, required: the container's name",
			"image":      `string: image reference or ID, already on the host (load it with docker_load); required unless state = "absent"`,
			"state":      `string: "started" (default) or "absent"`,
			"env":        "map: environment variables, sent on stdin (never in a command line); values cannot hold line breaks",
			"mounts":     `list: bind mounts "/host/path:/container/path[:ro]"`,
			"ports":      `list: published ports "host_port:container_port[/udp]" or "ip:host_port:container_port"; not with network = "host"`,
			"network":    `string: "host", or a docker network name (default: docker's bridge)`,
			"cap_add":    `list: capabilities to add, e.g. ["NET_ADMIN", "NET_RAW"]`,
			"restart":    `string: "no", "always", "unless-stopped" (default) or "on-failure[:N]"`,
			"command":    "list: the command and its arguments (default: the image's)",
			"privileged": "bool: run privileged (default false)",
			"ulimits":    `list: ulimits "name=soft:hard", e.g. ["nproc=65535:65535"]`,
			"pids_limit": "number: the pids limit, -1 for unlimited (default: docker's; not compared with the running container)",
			"tty":        "bool: keep stdin open and give a terminal (docker run -it; not compared with the running container)",
		},
	}
}

// NewArgs returns empty arguments.
func (*Container) NewArgs() any { return &ContainerArgs{} }

func (a *ContainerArgs) network() string {
	if a.Network == "" {
		return "bridge"
	}
	return a.Network
}

func (a *ContainerArgs) restart() string {
	if a.Restart == "" {
		return "unless-stopped"
	}
	return a.Restart
}

var (
	envNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	capRE     = regexp.MustCompile(`^[A-Za-z_]+$`)
	restartRE = regexp.MustCompile(`^(no|always|unless-stopped|on-failure(:[0-9]+)?)$`)
	networkRE = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]*$`)
	ulimitRE  = regexp.MustCompile(`^[a-z]+=-?[0-9]+(:-?[0-9]+)?$`)
)

// Validate checks every argument before any host is touched.
func (*Container) Validate(args any) error {
	a := args.(*ContainerArgs)
	var errs []error
	add := func(format string, v ...any) { errs = append(errs, fmt.Errorf(format, v...)) }
	if a.Name == "" {
		add("name: give the container's name")
	} else if err := docker.CheckContainerName("name", a.Name); err != nil {
		errs = append(errs, err)
	}
	switch a.State {
	case "", "started":
		if a.Image == "" {
			add("image: give the image to run")
		}
	case "absent":
	default:
		add("state: %q is not started or absent", a.State)
	}
	if strings.HasPrefix(a.Image, "-") || strings.ContainsAny(a.Image, " \t\r\n\x00") {
		add("image: %q is not an image reference", a.Image)
	}
	for _, k := range slices.Sorted(maps.Keys(a.Env)) {
		if !envNameRE.MatchString(k) {
			add("env: %q is not a variable name (letters, digits and _)", k)
		}
		if strings.ContainsAny(a.Env[k], "\r\n\x00") {
			add("env: the value of %s holds a line break or NUL, which docker's env file cannot carry", k)
		}
	}
	for _, m := range a.Mounts {
		parts := strings.Split(m, ":")
		if len(parts) < 2 || len(parts) > 3 || !strings.HasPrefix(parts[0], "/") || !strings.HasPrefix(parts[1], "/") ||
			len(parts) == 3 && parts[2] != "ro" && parts[2] != "rw" || strings.ContainsAny(m, ",\x00") {
			add("mounts: %q must be /host/path:/container/path[:ro] (absolute paths without : or ,)", m)
		}
	}
	for _, p := range a.Ports {
		if _, err := parsePort(p); err != nil {
			errs = append(errs, err)
		}
	}
	if a.Network != "" && !networkRE.MatchString(a.Network) {
		add("network: %q is not a network name", a.Network)
	}
	if a.Network == "host" && len(a.Ports) > 0 {
		add("ports: not with network = \"host\": the container uses the host's ports directly")
	}
	for _, c := range a.CapAdd {
		if !capRE.MatchString(c) {
			add("cap_add: %q is not a capability such as NET_ADMIN", c)
		}
	}
	for _, u := range a.Ulimits {
		if !ulimitRE.MatchString(u) {
			add("ulimits: %q is not name=soft:hard such as nproc=65535:65535", u)
		}
	}
	if a.PidsLimit < -1 {
		add("pids_limit: %d is neither -1 (unlimited) nor a limit", a.PidsLimit)
	}
	if !restartRE.MatchString(a.restart()) {
		add("restart: %q is not no, always, unless-stopped or on-failure[:N]", a.Restart)
	}
	return errors.Join(errs...)
}

// containerRead is what Check read and decided.
type containerRead struct {
	exists, running bool
	imageID         string
	diffs           []string
}

// read inspects the container and the wanted image.
func (a *ContainerArgs) read(ctx context.Context, env *Env) (containerRead, error) {
	var r containerRead
	res, err := env.Try(ctx, transport.Cmd{Argv: []string{"docker", "inspect", "--type", "container", "--", a.Name}})
	if err != nil {
		return r, err
	}
	if res.ExitCode != 0 && !strings.Contains(strings.ToLower(string(res.Stderr)), "no such") {
		return r, fmt.Errorf("docker inspect %s: %s", a.Name, textx.TailLines(string(res.Stderr), 3))
	}
	c, err := ParseInspected(string(res.Stdout))
	if err != nil {
		return r, err
	}
	if a.State == "absent" {
		r.exists = c != nil
		return r, nil
	}
	res, err = env.Try(ctx, transport.Cmd{Argv: []string{"docker", "image", "inspect", "--format", "{{.Id}}", "--", a.Image}})
	if err != nil {
		return r, err
	}
	if res.ExitCode == 0 {
		r.imageID = strings.TrimSpace(string(res.Stdout))
	}
	if c != nil {
		r.exists, r.running = true, c.State.Running
		r.diffs = a.Differences(c, r.imageID)
	}
	return r, nil
}

// Check reads the host and says what Apply would do.
func (*Container) Check(ctx context.Context, env *Env, args any) (*Plan, error) {
	a := args.(*ContainerArgs)
	r, err := a.read(ctx, env)
	if err != nil {
		return nil, err
	}
	p := &Plan{Data: r, Summary: "container " + a.Name + " up to date"}
	switch {
	case a.State == "absent" && r.exists:
		p.Change, p.Summary = true, "would remove container "+a.Name
	case a.State == "absent":
		p.Summary = "container " + a.Name + " absent"
	case !r.exists:
		p.Change, p.Summary = true, "would create container "+a.Name+" from "+a.Image
		if r.imageID == "" {
			p.Summary += " (image not on the host yet)"
		}
	case len(r.diffs) > 0:
		p.Change, p.Summary = true, "would recreate container "+a.Name+": "+strings.Join(r.diffs, ", ")
	case !r.running:
		p.Change, p.Summary = true, "would start container "+a.Name
	}
	if env.Diff && len(r.diffs) > 0 {
		p.Diff = "container " + a.Name + ":\n  " + strings.Join(r.diffs, "\n  ") + "\n"
	}
	return p, nil
}

// Apply removes, creates, recreates or starts the container as read now.
func (*Container) Apply(ctx context.Context, env *Env, args any, plan *Plan) (*Result, error) {
	a := args.(*ContainerArgs)
	r, err := a.read(ctx, env)
	if err != nil {
		return nil, err
	}
	out := map[string]cty.Value{"name": cty.StringVal(a.Name), "image_id": cty.StringVal(r.imageID)}
	rm := func() error { _, err := env.RunArgv(ctx, "docker", "rm", "-f", "--", a.Name); return err }
	switch {
	case a.State == "absent":
		if !r.exists {
			return &Result{Msg: "container " + a.Name + " absent", Outputs: out}, nil
		}
		if err := rm(); err != nil {
			return nil, err
		}
		return &Result{Changed: true, Msg: "removed container " + a.Name, Outputs: out}, nil
	case r.imageID == "":
		return nil, fmt.Errorf("image: %s is not on %s (load it first, e.g. with docker_load)", a.Image, env.HostName)
	case r.exists && len(r.diffs) == 0 && r.running:
		return &Result{Msg: "container " + a.Name + " up to date", Outputs: out}, nil
	}
	msg := "started container " + a.Name
	if r.exists && len(r.diffs) == 0 {
		if _, err := env.RunArgv(ctx, "docker", "start", "--", a.Name); err != nil {
			return nil, err
		}
	} else {
		msg = "created container " + a.Name
		if r.exists {
			env.Report.Phase("removing the old container")
			if err := rm(); err != nil {
				return nil, err
			}
			msg = "recreated container " + a.Name + " (" + strings.Join(r.diffs, ", ") + ")"
		}
		if _, err := env.Run(ctx, a.RunCmd()); err != nil {
			return nil, err
		}
	}
	if err := a.stillRunning(ctx, env); err != nil {
		return nil, err
	}
	return &Result{Changed: true, Msg: msg, Diff: plan.Diff, Outputs: out}, nil
}

// stillRunning catches a container that exits right after starting (a bad
// command, a missing mount), with the tail of its logs.
func (a *ContainerArgs) stillRunning(ctx context.Context, env *Env) error {
	if err := SleepCtx(ctx, time.Second); err != nil {
		return err
	}
	status, err := env.RunArgv(ctx, "docker", "inspect", "--format", "{{.State.Status}} {{.State.ExitCode}}", "--", a.Name)
	if err != nil {
		return err
	}
	if st, code, _ := strings.Cut(status, " "); st == "exited" || st == "dead" {
		res, _ := env.Try(ctx, transport.Cmd{Argv: []string{"docker", "logs", "--tail", "20", "--", a.Name}})
		n, _ := strconv.Atoi(code)
		return fmt.Errorf("container %s stopped right after starting (exit code %d):\n%s", a.Name, n,
			textx.TailLines(string(res.Stdout)+string(res.Stderr), 20))
	}
	return nil
}
