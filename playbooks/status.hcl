# One line per OMS node: container state, image, supervisor programs, the
# health of 8088 and 8089, and whether config.yaml still matches what
# deploy.hcl would write. Read-only: safe at any time, and it takes no lock.
# Exits 6 when a node is not healthy and running the intended image and
# config; the recap's last line names the nodes and why.
#
#   omsrun playbooks/status.hcl -i inventory -e @vars.hcl

include "oms-variables.hcl" {}

step "status" {
  hosts = "oms"
  oms_status {
    container  = var.container_name
    host_ip    = host.address
    image      = var.image
    nginx_port = local.nginx_port
    cm_port    = local.cm_port
    # The node holding omsrun's keepalived VIP (vip.hcl) says so.
    vip = local.vip
    # With several regions, each row names its node's region and its VIP.
    region = length(var.regions) > 0 ? "${var.cm_region} (cm_location ${var.cm_location}, ${var.cm_url})" : ""
  }
}

step "regions" {
  hosts    = "oms"
  run_once = true
  when     = length(var.regions) > 0
  note {
    text = "regions: ${join("; ", local.regions_shown)}"
  }
}

# "would change" here means config.yaml on that node differs from what
# deploy.hcl would write (edited by hand, or an older deploy): --diff shows how.
step "config.yaml drift" {
  hosts      = "oms"
  check_mode = true
  render_config {
    with = local.oms_config
  }
}

# "needs a reload" here means the OMS running on that node has not loaded the
# config.yaml on its disk (a reconfigure that stopped before reaching it):
# reconfigure.hcl or deploy.hcl reloads it.
step "loaded config" {
  hosts = "oms"
  config_loaded {
    container   = var.container_name
    config_path = local.config_path
    require     = true
  }
}

step "notice" {
  hosts    = "oms"
  run_once = true
  note {
    text = "OMS high availability (HA) stays off until you enable it in the OMS console (System Parameters > HA configuration)."
  }
}
