# Include-only: the VIP answers on both ports once every node is healthy;
# shared by deploy.hcl, upgrade.hcl and restore.hcl.

# CM has no health endpoint: through the VIP its port must answer HTTP
# (any status but the balancer's own 502/503/504), and on every node
# supervisord must run oms_drc_cm.
step "VIP answers on 8088" {
  hosts = "oms"
  oms_cm_ready {
    url       = var.cm_url
    container = var.container_name
    timeout   = var.vip_timeout
  }
}

# The VIP's own ports are 8088 and 8089 (cm_url must name 8088) whatever
# ports the nodes behind it listen on (cm_server_port, nginx_server_port).
# With regions, each region's VIP, from the first host of that region.
step "VIP answers on 8089" {
  hosts    = "oms"
  run_once = length(var.regions) == 0
  when     = length(var.regions) == 0 || host.name == try(local.region_hosts[0].name, "")
  wait_for {
    url     = "${replace(trimsuffix(var.cm_url, "/"), ":8088", ":8089")}/oms/health"
    via     = "controller"
    timeout = var.vip_timeout
  }
}
