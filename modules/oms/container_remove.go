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

// ContainerRemove stops and removes a container (uninstall). The mount
// directory and the image stay: they are data, and removing them is a
// separate, confirmed step of uninstall.hcl.
type ContainerRemove struct{}

var _ modules.Module = (*ContainerRemove)(nil)
var _ modules.Validator = (*ContainerRemove)(nil)

// ContainerRemoveArgs are container_remove's arguments.
type ContainerRemoveArgs struct {
	Name string `hcl:"name,optional"`
	// AwaitBalancer is a healthy_since step's outputs (scale-in): the
	// removal waits first until the balancer can have the other nodes back.
	AwaitBalancer cty.Value `hcl:"await_balancer,optional"`
}

// Doc implements modules.Module.
func (*ContainerRemove) Doc() modules.Doc {
	return modules.Doc{Name: "container_remove", Summary: "Stop and remove a container; ok when it is already gone.",
		Args: map[string]string{"name": "container name (default `oms`)", "await_balancer": awaitBalancerDoc}}
}

// NewArgs implements modules.Module.
func (*ContainerRemove) NewArgs() any { return &ContainerRemoveArgs{} }

// Validate refuses a name docker would not accept.
func (*ContainerRemove) Validate(a any) error {
	return docker.CheckContainerName("name", a.(*ContainerRemoveArgs).Name)
}

func (a *ContainerRemoveArgs) name() string {
	if a.Name == "" {
		return "oms"
	}
	return a.Name
}

// Check implements modules.Module.
func (*ContainerRemove) Check(ctx context.Context, env *modules.Env, a any) (*modules.Plan, error) {
	name := a.(*ContainerRemoveArgs).name()
	res, err := env.Try(ctx, transport.Cmd{Argv: []string{"docker", "inspect", "--format", "{{.State.Status}}", name}})
	if err != nil {
		return nil, err
	}
	if res.ExitCode != 0 {
		if strings.Contains(string(res.Stderr), "No such") {
			return &modules.Plan{Summary: "no container " + name, Outputs: reached}, nil
		}
		return nil, &modules.CommandError{Cmd: "docker inspect " + name, ExitCode: res.ExitCode, Stderr: string(res.Stderr)}
	}
	w, err := balancerWaitFor(a.(*ContainerRemoveArgs).AwaitBalancer, env.HostName)
	if err != nil {
		return nil, err
	}
	summary := fmt.Sprintf("remove container %s (%s)", name, strings.TrimSpace(string(res.Stdout)))
	return &modules.Plan{Change: true, Summary: joinNote(summary, w.note()), Outputs: reached}, nil
}

// Apply implements modules.Module.
func (*ContainerRemove) Apply(ctx context.Context, env *modules.Env, a any, _ *modules.Plan) (*modules.Result, error) {
	name := a.(*ContainerRemoveArgs).name()
	w, err := balancerWaitFor(a.(*ContainerRemoveArgs).AwaitBalancer, env.HostName)
	if err != nil {
		return nil, err
	}
	waited, err := w.wait(ctx, env)
	if err != nil {
		return nil, err
	}
	if _, err := env.RunArgv(ctx, "docker", "rm", "-f", name); err != nil {
		return nil, err
	}
	return &modules.Result{Changed: true, Msg: joinNote(waited, "removed container "+name), Outputs: reached}, nil
}

// reached is the output every answer carries, so a playbook can tell a node
// that could not be reached (no outputs) from one without the container.
var reached = map[string]cty.Value{"reached": cty.True}
