package oms

import (
	"context"
	"fmt"

	"github.com/zclconf/go-cty/cty"

	"github.com/omsrun/omsrun/internal/docker"
	"github.com/omsrun/omsrun/internal/transport"
	"github.com/omsrun/omsrun/modules"
)

// ContainerStop stops a container and keeps it, as obd's offline upgrade
// keeps the old one (docs/oms-facts.md U8): the upgrade stops every old
// node before the backup. A failure names the rollback when the step
// belongs to an upgrade (rollback_to).
type ContainerStop struct{}

var _ modules.Module = (*ContainerStop)(nil)
var _ modules.Validator = (*ContainerStop)(nil)
var _ modules.Advisor = (*ContainerStop)(nil)

// FailureAdvice implements modules.Advisor: a stop that belongs to an
// upgrade names the rollback, whatever failed (the engine adds it when the
// node went unreachable).
func (*ContainerStop) FailureAdvice(a any) string {
	args := a.(*ContainerStopArgs)
	if args.RollbackTo == "" {
		return ""
	}
	return rollbackAdvice(upgradeRecord{From: args.RollbackTo, To: args.RollbackTarget})
}

// ContainerStopArgs are container_stop's arguments.
type ContainerStopArgs struct {
	Name string `hcl:"name,optional"`
	// RollbackTo and RollbackTarget name the upgrade this stop belongs to,
	// for the advice a failure prints.
	RollbackTo     string `hcl:"rollback_to,optional"`
	RollbackTarget string `hcl:"rollback_target,optional"`
}

// Doc implements modules.Module.
func (*ContainerStop) Doc() modules.Doc {
	return modules.Doc{Name: "container_stop", Summary: "Stop a container and keep it (docker stop); ok when it is stopped or absent.",
		Args: map[string]string{
			"name":            containerNameDoc,
			"rollback_to":     "the image an upgrade came from: a failure prints how to roll back to it",
			"rollback_target": "the image that upgrade goes to",
		}}
}

// NewArgs implements modules.Module.
func (*ContainerStop) NewArgs() any { return &ContainerStopArgs{} }

// Validate implements modules.Validator.
func (*ContainerStop) Validate(a any) error {
	return docker.CheckContainerName("name", a.(*ContainerStopArgs).Name)
}

// Check implements modules.Module.
func (*ContainerStop) Check(ctx context.Context, env *modules.Env, a any) (*modules.Plan, error) {
	args := a.(*ContainerStopArgs)
	args.Name = containerName(args.Name)
	// Absent (docker says no such container) is stopped too: nothing to
	// do. Docker failing to answer is not: the upgrade would back up the
	// MetaDB while this node may still write to it.
	res, err := env.Try(ctx, transport.Cmd{Script: containerInspect(args.Name)})
	if err != nil {
		return nil, err
	}
	st, err := parseContainerState(args.Name, string(res.Stdout))
	if err != nil {
		return nil, err
	}
	out := map[string]cty.Value{"stopped": cty.True}
	if !st.running {
		return &modules.Plan{Summary: "container " + args.Name + " not running", Outputs: out}, nil
	}
	return &modules.Plan{Change: true, Summary: "stop container " + args.Name, Outputs: out}, nil
}

// Apply implements modules.Module.
func (m *ContainerStop) Apply(ctx context.Context, env *modules.Env, a any, plan *modules.Plan) (*modules.Result, error) {
	args := a.(*ContainerStopArgs)
	if plan.Change {
		env.Report.Phase("docker stop " + args.Name)
		if _, err := env.RunArgv(ctx, "docker", "stop", args.Name); err != nil {
			if advice := m.FailureAdvice(args); advice != "" {
				return nil, fmt.Errorf("%w\n%s", err, advice)
			}
			return nil, err
		}
	}
	return &modules.Result{Changed: plan.Change, Msg: plan.Summary, Outputs: plan.Outputs}, nil
}
