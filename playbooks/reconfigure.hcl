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

step "reload OMS, one node at a time" {
  hosts  = "oms"
  serial = "1"
  when   = changed("config.yaml")
  supervisor_restart {
    container = var.container_name
  }
}
