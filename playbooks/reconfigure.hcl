# Change OMS's configuration on every node, then reload the OMS services one
# node at a time, each healthy again before the next, so the VIP keeps
# answering: the seed's "edit config.yaml, --init-config-file, supervisorctl
# restart" on each node, done for you.
#
# Safe by construction:
#   - deploy's checks first (preflight, MetaDB), before anything is rewritten;
#   - the first node of the oms group alone first (config.yaml, reload,
#     healthy), the others only then;
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

step "config.yaml, first node" {
  hosts = "oms"
  when  = host.name == hosts.oms[0].name
  render_config {
    with = local.oms_config
  }
}

step "loaded config, first node" {
  hosts = "oms"
  when  = host.name == hosts.oms[0].name
  config_loaded {
    container   = var.container_name
    config_path = local.config_path
  }
}

step "reload OMS, first node" {
  hosts = "oms"
  when  = host.name == hosts.oms[0].name && (try(steps["loaded config, first node"][host.name].stale, false) || changed("config.yaml, first node"))
  supervisor_restart {
    with         = local.reload
    restore_from = try(steps["config.yaml, first node"][host.name].backup, "")
  }
}

step "config.yaml" {
  hosts = "oms"
  when  = host.name != hosts.oms[0].name
  render_config {
    with = local.oms_config
  }
}

step "loaded config" {
  hosts = "oms"
  when  = host.name != hosts.oms[0].name
  config_loaded {
    container   = var.container_name
    config_path = local.config_path
  }
}

step "reload OMS, one node at a time" {
  hosts  = "oms"
  serial = "1"
  when   = host.name != hosts.oms[0].name && (try(steps["loaded config"][host.name].stale, false) || changed("config.yaml"))
  supervisor_restart {
    with         = local.reload
    restore_from = try(steps["config.yaml"][host.name].backup, "")
  }
}
