# Change OMS's configuration on every node, then reload the OMS services one
# node at a time, each healthy again before the next, so the VIP keeps
# answering: the seed's "edit config.yaml, --init-config-file, supervisorctl
# restart" on each node, done for you.
#
#   omsrun playbooks/reconfigure.hcl -i inventory -e @vars.hcl -e cm_location=101 --check --diff
#   omsrun playbooks/reconfigure.hcl -i inventory -e @vars.hcl -e cm_location=101

include "oms-variables.hcl" {}

step "config.yaml" {
  hosts = "oms"
  render_config {
    with = local.oms_config
  }
}

# Whether each node runs the config.yaml on its disk is read from the node
# (the hash recorded at its last healthy (re)load), so a reconfigure that was
# interrupted or failed halfway reloads the nodes it did not reach on the
# next run, even though config.yaml itself no longer changes.
step "loaded config" {
  hosts = "oms"
  config_loaded {
    container   = var.container_name
    config_path = local.config_path
  }
}

step "reload OMS, one node at a time" {
  hosts  = "oms"
  serial = "1"
  when   = steps["loaded config"][host.name].stale || changed("config.yaml")
  supervisor_restart {
    container   = var.container_name
    mount_dir   = var.mount_dir
    config_path = local.config_path
    # With omsrun's keepalived (vip.hcl) the holder hands the VIP over first.
    vip      = local.vip
    vip_port = var.vip_health_port
  }
}
