package e2e

// The interruption matrix's table (issue #14): every operation, and the
// points where a run of it is interrupted. Adding a row is one line; an
// operation is one entry of matrixOps (matrix_ops_test.go).
//
// A point names the --json event that triggers the signal:
//   - before(step): the step's step_start — every earlier step is done;
//   - afterHost(step): the step's first host_result — the other hosts of
//     a parallel step are still in it, a rolling step stops between nodes;
//   - during(step, text): a command event (-v) of the step whose command
//     line contains text — the command has ended, the long part of the
//     step is under way on the other hosts;
//   - loading(step, host): the step's step_start, then the lab's host-th
//     host seen with its docker load reading the stream — inside the transfer;
//   - relayed(step, host): the step's first progress event for the lab's
//     host-th host, fed by a relay node — inside the relayed transfer.
//
// ci says which signals CI runs for the row (ciNone: only `make matrix`).
var matrixRows = []matrixRow{
	// deploy.hcl on bare hosts
	{"deploy", "inside load image (one host loaded)", afterHost("load image"), ciNone},
	{"deploy", "inside load image, nodes relaying (last node's first bytes)", relayed("load image", 2), ciNone},
	{"deploy", "after load image", before("mount folders"), ciNone},
	{"deploy", "after mount folders", before("config.yaml"), ciNone},
	{"deploy", "after config.yaml", before("container (first new node)"), ciKill},
	{"deploy", "inside first container start", during("container (first new node)", "docker run"), ciInt},
	{"deploy", "after first container", before("container (other new nodes)"), ciNone},
	{"deploy", "inside other container starts", during("container (other new nodes)", "docker run"), ciNone},
	{"deploy", "after all containers", before("config.yaml, first node"), ciNone},

	// reconfigure.hcl (cm_location changed) on a deployed cluster
	{"reconfigure", "after config.yaml, first node", before("loaded config, first node"), ciNone},
	{"reconfigure", "inside first reload (init-config-file)", during("reload OMS, first node", "init-config-file"), ciNone},
	{"reconfigure", "inside first reload (restart)", during("reload OMS, first node", "supervisorctl restart"), ciKill},
	{"reconfigure", "after first node", before("config.yaml, other nodes"), ciNone},
	{"reconfigure", "after config.yaml, others", before("reload OMS, one node at a time"), ciInt},
	{"reconfigure", "inside rolling reload", during("reload OMS, one node at a time", "supervisorctl restart"), ciNone},
	{"reconfigure", "between rolling reloads", afterHost("reload OMS, one node at a time"), ciNone},

	// scale-out: deploy.hcl with a third, bare host added to a 2-node cluster
	{"scale-out", "inside load image (the new node's docker load reading)", loading("load image", 2), ciNone},
	{"scale-out", "inside load image, relayed from a node (first bytes received)", relayed("load image", 2), ciNone},
	{"scale-out", "after mount folders", before("config.yaml"), ciNone},
	{"scale-out", "after config.yaml (new node)", before("container (first new node)"), ciInt},
	{"scale-out", "inside new container start", during("container (first new node)", "docker run"), ciNone},
	{"scale-out", "after new container", before("config.yaml, first node"), ciNone},
	{"scale-out", "inside rolling reload", during("reload OMS, first node", "supervisorctl restart"), ciKill},
	{"scale-out", "between rolling reloads", before("config.yaml, other nodes"), ciNone},

	// uninstall.hcl -e purge=true --yes on a deployed cluster
	{"uninstall", "inside remove container (one host done)", afterHost("remove container"), ciKill},
	{"uninstall", "after remove container", before("delete mount directory"), ciInt},
	{"uninstall", "after delete mount directory", before("drop MetaDB databases"), ciNone},

	// upgrade.hcl v1 → v2 on a deployed 3-node cluster (matrix_upgrade_test.go)
	{"upgrade", "after the records, before any stop", before("stop every old node"), ciNone},
	{"upgrade", "inside stop (one node stopped)", afterHost("stop every old node"), ciNone},
	{"upgrade", "every node stopped, no backup yet", before("back up MetaDB"), ciKill},
	{"upgrade", "backup taken, not recorded", before("record the backup"), ciNone},
	{"upgrade", "before the first new node", before("new image (first node)"), ciNone},
	{"upgrade", "inside first new node start", during("new image (first node)", "docker run"), ciInt},
	{"upgrade", "first node on v2, others stopped", before("new image (other nodes)"), ciNone},
	{"upgrade", "inside other nodes' start", during("new image (other nodes)", "docker run"), ciNone},
	{"upgrade", "every node on v2, record not finished", before("upgrade done"), ciNone},
}
