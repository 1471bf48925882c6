package oms

import (
	"context"
	"fmt"

	"github.com/omsrun/omsrun/modules"
)

// checkUnfinished finds a container running as asked that a run stopped
// before seeing healthy: it left no record of the config the container
// loaded (config_loaded infers it from the times). Finishing that run's
// work is waiting for health and recording it — never a restart.
func (m *ContainerRun) checkUnfinished(ctx context.Context, env *modules.Env, a *ContainerRunArgs, c *modules.Inspected, p *containerPlan) (*modules.Plan, error) {
	if c == nil {
		return &modules.Plan{Summary: "no container " + a.Name}, nil
	}
	p.containerID, p.oldImage = c.ID, c.Image
	if st, err := readLoaded(ctx, env, a.Name, a.ConfigPath); err != nil {
		return nil, err
	} else if st.Inferred && (p.imageID == "" || c.Image == p.imageID) {
		p.action = "confirm"
		return &modules.Plan{Change: true, Data: p, Summary: fmt.Sprintf("container %s started but never seen healthy: wait for health, record its config", a.Name)}, nil
	}
	return &modules.Plan{Summary: fmt.Sprintf("container %s %s on image %s", a.Name, c.State.Status, imageShortID(c.Image))}, nil
}
