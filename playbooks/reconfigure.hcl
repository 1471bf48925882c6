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
    path                = local.config_path
    oms_meta_host       = var.oms_meta_host
    oms_meta_port       = var.oms_meta_port
    oms_meta_user       = var.oms_meta_user
    oms_meta_password   = var.oms_meta_password
    drc_rm_db           = local.rm_db
    drc_cm_db           = local.cm_db
    drc_cm_heartbeat_db = local.hb_db
    cm_url              = var.cm_url
    cm_location         = var.cm_location
    cm_region           = var.cm_region
    cm_region_cn        = var.cm_region_cn
    cm_is_default       = var.cm_is_default
    cm_nodes            = length(var.cm_nodes) > 0 ? var.cm_nodes : [for h in hosts.oms : h.address]
    tsdb_enabled        = var.tsdb_enabled
    tsdb_service        = var.tsdb_service
    tsdb_url            = var.tsdb_url
    tsdb_username       = var.tsdb_username
    tsdb_password       = var.tsdb_password
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
