package e2e

import (
	"time"
)

// matrixOp is one operation of the interruption matrix: the state the lab
// is put in before it, and the run that is interrupted and then re-run.
type matrixOp struct {
	// hosts is how many lab hosts the run's inventory lists.
	hosts int
	// setup puts the lab in the state before the run.
	setup func(m *matrix)
	// args are the playbook and its own arguments; the lab's vars, -v and
	// --json are added.
	args []string
	// statusArgs are the extra arguments status.hcl needs to judge the result.
	statusArgs []string
	// running starts what every node's OMS must report it runs with after
	// the uninterrupted run (GET /oms/config, see runningConfig); "" checks nothing.
	running string
}

// matrixStartup is the stand-in's start-up delay in the matrix: short, so
// the whole CI subset fits in its budget, but long enough that a kill can
// land while a node is starting.
const matrixStartup = time.Second

// matrixOps are the operations by name (the first column of matrixRows).
var matrixOps = map[string]matrixOp{
	"deploy": {
		hosts: 3,
		setup: func(m *matrix) { m.bare() },
		args:  []string{"playbooks/deploy.hcl"},
	},
	"reconfigure": {
		hosts:      3,
		setup:      func(m *matrix) { m.cluster(3) },
		args:       []string{"playbooks/reconfigure.hcl", "-e", "cm_location=101"},
		statusArgs: []string{"-e", "cm_location=101"},
		running:    "cm_location=101 ",
	},
	"scale-out": {
		hosts: 3,
		setup: func(m *matrix) { m.cluster(2) },
		args:  []string{"playbooks/deploy.hcl"},
	},
	"upgrade": {
		hosts: 3,
		setup: func(m *matrix) { m.upgradeFromV1() },
		// --yes: the question of docs/oms-facts.md U10, asked before any step.
		args:       []string{"playbooks/upgrade.hcl", "-e", "@" + matrixUpgradeVars, "--yes"},
		statusArgs: []string{"-e", "@" + matrixUpgradeVars},
	},
	"uninstall": {
		hosts: 3,
		setup: func(m *matrix) { m.cluster(3) },
		args:  []string{"playbooks/uninstall.hcl", "-e", "purge=true", "--yes"},
	},
}
