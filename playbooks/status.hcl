# One line per OMS node: container state, image, supervisor programs, the
# health of 8088 and 8089, and whether config.yaml still matches what
# deploy.hcl would write. Read-only: safe at any time.
#
#   omsrun playbooks/status.hcl -i inventory -e @vars.hcl

include "oms-variables.hcl" {}

step "status" {
  hosts = "oms"
  oms_status {
    container = var.container_name
    host_ip   = host.address
  }
}

# "would change" here means config.yaml on that node differs from what
# deploy.hcl would write (edited by hand, or an older deploy): --diff shows how.
step "config.yaml drift" {
  hosts      = "oms"
  check_mode = true
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

step "notice" {
  hosts    = "oms"
  run_once = true
  note {
    text = "OMS high availability (HA) stays off until you enable it in the OMS console (System Parameters > HA configuration)."
  }
}
