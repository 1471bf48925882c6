package modules

import (
	"context"
	"fmt"
	"strings"

	"github.com/omsrun/omsrun/internal/transport"
)

// ContainerRemove stops and removes a container (uninstall). The mount
// directory and the image stay: they are data, and removing them is a
// separate, confirmed step of uninstall.hcl.
type ContainerRemove struct{}

var _ Module = (*ContainerRemove)(nil)
var _ Validator = (*ContainerRemove)(nil)

func init() { register("container_remove", func() Module { return &ContainerRemove{} }) }

// ContainerRemoveArgs are container_remove's arguments.
type ContainerRemoveArgs struct {
	Name string `hcl:"name,optional"`
}

// Doc implements Module.
func (*ContainerRemove) Doc() Doc {
	return Doc{Name: "container_remove", Summary: "Stop and remove a container; ok when it is already gone.",
		Args: map[string]string{"name": "container name (default `oms`)"}}
}

// NewArgs implements Module.
func (*ContainerRemove) NewArgs() any { return &ContainerRemoveArgs{} }

// Validate refuses a name docker would not accept.
func (*ContainerRemove) Validate(a any) error {
	return checkContainerName("name", a.(*ContainerRemoveArgs).Name)
}

func (a *ContainerRemoveArgs) name() string {
	if a.Name == "" {
		return "oms"
	}
	return a.Name
}

// Check implements Module.
func (*ContainerRemove) Check(ctx context.Context, env *Env, a any) (*Plan, error) {
	name := a.(*ContainerRemoveArgs).name()
	res, err := tryCmd(ctx, env, transport.Cmd{Argv: []string{"docker", "inspect", "--format", "{{.State.Status}}", name}})
	if err != nil {
		return nil, err
	}
	if res.ExitCode != 0 {
		if strings.Contains(string(res.Stderr), "No such") {
			return &Plan{Summary: "no container " + name}, nil
		}
		return nil, &CommandError{Cmd: "docker inspect " + name, ExitCode: res.ExitCode, Stderr: string(res.Stderr)}
	}
	return &Plan{Change: true, Summary: fmt.Sprintf("remove container %s (%s)", name, strings.TrimSpace(string(res.Stdout)))}, nil
}

// Apply implements Module.
func (*ContainerRemove) Apply(ctx context.Context, env *Env, a any, _ *Plan) (*Result, error) {
	name := a.(*ContainerRemoveArgs).name()
	if _, err := runArgv(ctx, env, "docker", "rm", "-f", name); err != nil {
		return nil, err
	}
	return &Result{Changed: true, Msg: "removed container " + name}, nil
}
