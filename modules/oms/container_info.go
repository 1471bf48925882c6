package oms

import (
	"context"
	"fmt"
	"strings"

	"github.com/zclconf/go-cty/cty"

	"github.com/omsrun/omsrun/internal/docker"
	"github.com/omsrun/omsrun/internal/transport"
	"github.com/omsrun/omsrun/modules"
)

// ContainerInfo reads what a host already runs: whether the named container
// exists and runs, on which image, and which MetaDB databases its config.yaml
// names. It never changes anything, so it also runs in check mode, and later
// steps decide from its outputs (an existing deployment, a scale-out).
type ContainerInfo struct{}

var _ modules.Module = (*ContainerInfo)(nil)
var _ modules.ReadOnly = (*ContainerInfo)(nil)

// ReadOnly implements modules.ReadOnly: it only reads.
func (*ContainerInfo) ReadOnly() bool { return true }

var _ modules.Validator = (*ContainerInfo)(nil)

// ContainerInfoArgs are container_info's arguments.
type ContainerInfoArgs struct {
	Name       string `hcl:"name,optional"`
	ConfigPath string `hcl:"config_path,optional"`
	ImageFile  string `hcl:"image_file,optional"`
}

// Doc implements modules.Module.
func (*ContainerInfo) Doc() modules.Doc {
	return modules.Doc{Name: "container_info", Summary: "Read-only: whether a container exists and runs, its image, and the databases its config.yaml names.",
		Args: map[string]string{
			"name":        containerNameDoc,
			"config_path": "config.yaml on the host whose database names to read",
			"image_file":  "image package on the control machine; `image_differs` says whether the container runs another image",
		}}
}

// NewArgs implements modules.Module.
func (*ContainerInfo) NewArgs() any { return &ContainerInfoArgs{} }

// Validate refuses a name docker would not accept.
func (*ContainerInfo) Validate(a any) error {
	return docker.CheckContainerName("name", a.(*ContainerInfoArgs).Name)
}

const infoSep = "--omsrun-config--"

// Check implements Module: one command reads everything.
func (*ContainerInfo) Check(ctx context.Context, env *modules.Env, a any) (*modules.Plan, error) {
	args := a.(*ContainerInfoArgs)
	args.Name = containerName(args.Name)
	script := containerInspect(args.Name) + "; echo " + infoSep + "; "
	if args.ConfigPath != "" {
		// Only the database-name lines: the rest of config.yaml holds passwords
		// and has no business travelling back.
		script += fmt.Sprintf("grep -E -e '^(drc_rm_db|drc_cm_db|drc_cm_heartbeat_db):' -- %s 2>/dev/null", transport.Quote(args.ConfigPath))
	}
	script += "; true"
	res, err := env.Host.Run(ctx, transport.Cmd{Script: script, Become: env.Become})
	if err != nil {
		return nil, err
	}
	head, tail, _ := strings.Cut(string(res.Stdout), infoSep)
	st, err := parseContainerState(args.Name, head)
	if err != nil {
		return nil, err
	}
	exists, running, image := st.exists, st.running, st.image
	dbs := []cty.Value{}
	for _, line := range strings.Split(tail, "\n") {
		_, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		v = strings.Trim(strings.TrimSpace(v), `'"`)
		if v != "" {
			dbs = append(dbs, cty.StringVal(v))
		}
	}
	target := ""
	if args.ImageFile != "" {
		// The package's own manifest names the image ID, read on the control
		// machine (cached) so an upgrade is known before anything is sent.
		arch, err := archiveCache.Read(args.ImageFile)
		if err != nil {
			return nil, fmt.Errorf("image_file: %w", err)
		}
		if len(arch.Images) > 0 {
			target = arch.Images[0].ID
		}
	}
	summary := "no container " + args.Name
	switch {
	case running:
		summary = fmt.Sprintf("%s running on %.19s", args.Name, image)
	case exists:
		summary = args.Name + " exists, stopped"
	}
	return &modules.Plan{Summary: summary, Outputs: map[string]cty.Value{
		"exists":    cty.BoolVal(exists),
		"running":   cty.BoolVal(running),
		"image":     cty.StringVal(image),
		"databases": stringList(dbs),
		// An existing container on an image other than the package's: the run upgrades it.
		"image_differs": cty.BoolVal(exists && target != "" && image != target),
	}}, nil
}

// Apply implements modules.Module; Check already did all there is to do.
func (m *ContainerInfo) Apply(ctx context.Context, env *modules.Env, a any, plan *modules.Plan) (*modules.Result, error) {
	return &modules.Result{Msg: plan.Summary, Outputs: plan.Outputs}, nil
}

// stringList is cty.ListVal that also accepts an empty list.
func stringList(vals []cty.Value) cty.Value {
	if len(vals) == 0 {
		return cty.ListValEmpty(cty.String)
	}
	return cty.ListVal(vals)
}

// containerNameDoc documents the `name` argument of the modules that act on
// the OMS container; containerName gives its default.
const containerNameDoc = "container name (default `oms`)"

func containerName(name string) string {
	if name == "" {
		return "oms"
	}
	return name
}

// containerInspect is the shell that prints "RUNNING IMAGE" for a
// container: the read container_info, container_stop and upgrade_check
// start from.
func containerInspect(name string) string {
	return inspectScript("{{.State.Running}} {{.Image}}", name)
}

// inspectScript prints docker inspect's answer in format, nothing when
// docker answers that there is no such container, and inspectFailed with
// docker's words on one line for any other failure (the daemon down or not
// answering). Only docker's own "no such" means absent; with live-restore a
// container keeps running while the daemon is down, so "could not read"
// must never pass for "not running". A host without the docker command
// runs no container: absent, and preflight names the missing Docker.
func inspectScript(format, name string) string {
	return fmt.Sprintf(`if ! command -v docker >/dev/null 2>&1; then :; elif out=$(docker inspect --format %s %s 2>&1); then printf '%%s\n' "$out"; else case "$out" in *"No such"*|*"no such"*) ;; *) printf '%%s %%s\n' %s "$(printf '%%s' "$out" | tr '\n' ' ')";; esac; fi`,
		transport.Quote(format), transport.Quote(name), inspectFailed)
}

// inspectFailed starts inspectScript's answer when docker could not say.
const inspectFailed = "--omsrun-inspect-failed--"

// inspectError is inspectScript's failure: docker's message and what to do.
type inspectError struct{ name, msg string }

func (e *inspectError) Error() string {
	return fmt.Sprintf("could not read container %s: docker inspect: %s\n"+
		"the container may still be running; make sure the Docker daemon answers (e.g. systemctl start docker, then docker ps), then re-run", e.name, e.msg)
}

// inspectFailure returns the inspectError an answer of inspectScript holds, if any.
func inspectFailure(name, out string) error {
	if _, msg, failed := strings.Cut(out, inspectFailed); failed {
		return &inspectError{name: name, msg: strings.TrimSpace(msg)}
	}
	return nil
}

// containerState is containerInspect's answer.
type containerState struct {
	exists, running bool
	image           string
}

// parseContainerState reads containerInspect's answer; a docker failure
// other than "no such container" is an error naming docker's message and
// what to do.
func parseContainerState(name, out string) (containerState, error) {
	if err := inspectFailure(name, out); err != nil {
		return containerState{}, err
	}
	f := strings.Fields(out)
	if len(f) != 2 {
		return containerState{}, nil
	}
	return containerState{exists: true, running: f[0] == "true", image: f[1]}, nil
}
