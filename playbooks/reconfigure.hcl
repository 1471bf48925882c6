# Change OMS's configuration on every node, then reload the OMS services one
# node at a time, each healthy again before the next, so the VIP keeps
# answering: the seed's "edit config.yaml, --init-config-file, supervisorctl
# restart" on each node, done for you.
#
# Safe by construction:
#   - deploy's checks first (preflight, MetaDB), before anything is rewritten;
#   - the first node (by name) that runs OMS alone first (config.yaml,
#     reload, healthy), the others only then (oms-rollout.hcl, which
#     deploy.hcl shares);
#   - a node that does not come up on the new config.yaml gets its previous
#     one back and is reloaded on it, and the run stops there, showing the
#     log line that says why;
#   - whether a node runs the config.yaml on its disk is read from the node
#     (config_loaded), so a run interrupted or failed halfway reloads the
#     nodes it did not reach on the next run.
#
#   omsrun playbooks/reconfigure.hcl -i inventory -e @vars.hcl -e cm_location=101 --check --diff
#   omsrun playbooks/reconfigure.hcl -i inventory -e @vars.hcl -e cm_location=101

include "oms-variables.hcl" {}

locals {
  # oms-rollout.hcl: reload only; a container that differs is deploy.hcl's.
  replace_containers = false
}

playbook {
  # A node that fails stops the run: the nodes after it keep what they run.
  any_errors_fatal = true
}

step "read existing deployment" {
  hosts = "oms"
  container_info {
    name        = var.container_name
    config_path = local.config_path
  }
}

# preflight and check MetaDB, shared with deploy.hcl
include "oms-checks.hcl" {}

# since when each node is healthy, for the rollout's restarts (oms-balancer.hcl)
include "oms-balancer.hcl" {}

# config.yaml and its reload, the first node alone until it is healthy,
# then the others one at a time; shared with deploy.hcl
include "oms-rollout.hcl" {}
