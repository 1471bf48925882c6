package oms

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/omsrun/omsrun/internal/probe"
	"github.com/omsrun/omsrun/modules"
)

// relayProbe checks docker_load's relay port on a peer. Nothing listens
// there outside a transfer, so a refusal means the path is open; anything
// else only warns, since docker_load then sends that node the image from
// the control machine.
func relayProbe(ctx context.Context, env *modules.Env, dial probe.DialFunc, addr string, wg *sync.WaitGroup, slots chan struct{}) {
	wg.Add(1)
	go func() {
		defer wg.Done()
		slots <- struct{}{}
		defer func() { <-slots }()
		if err := probe.TCP(ctx, dial, addr, 5*time.Second); err != nil && !strings.Contains(err.Error(), "refused") {
			env.Report.Warn(fmt.Sprintf("relay port %s not reachable from this host (%v): docker_load will send the image from the control machine instead", addr, err))
		}
	}()
}
