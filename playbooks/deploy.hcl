# Deploy OMS Community Edition on every host of the `oms` group, behind a VIP.
# The seed guide's multi-node flow, in one run: checks first, then image,
# mount folders, config.yaml, container and health on every node at once,
# and a rolling restart of nodes whose config changed while they ran.
#
#   omsrun playbooks/deploy.hcl -i inventory -e @vars.hcl --check --diff
#   omsrun playbooks/deploy.hcl -i inventory -e @vars.hcl

include "oms-variables.hcl" {}

step "read existing deployment" {
  hosts = "oms"
  container_info {
    name        = var.container_name
    config_path = local.config_path
    image_file  = var.image_file
  }
}

step "preflight" {
  hosts = "oms"
  preflight {
    mount_dir      = var.mount_dir
    container_name = var.container_name
    min_free_gb    = var.min_free_gb
    peers          = local.cm_nodes
    metadb_host    = var.oms_meta_host
    metadb_port    = var.oms_meta_port
    tsdb_enabled   = var.tsdb_enabled
    tsdb_url       = local.tsdb_url
    tsdb_username  = var.tsdb_username
    tsdb_password  = var.tsdb_password
  }
}

step "check MetaDB" {
  hosts    = "oms"
  run_once = true
  metadb_check {
    host      = var.oms_meta_host
    port      = var.oms_meta_port
    user      = var.oms_meta_user
    password  = var.oms_meta_password
    databases = [local.rm_db, local.cm_db, local.hb_db]
    # Re-running on a cluster omsrun deployed finds its own databases: that is fine.
    existing_deployment = length([for name, o in steps["read existing deployment"] : name if o.exists && contains(o.databases, local.rm_db)]) > 0
    allow_existing      = var.allow_existing_databases
  }
}

# Before an upgrade touches any node: a dump of the three databases on the
# control machine, since the new version may migrate them.
step "back up MetaDB before upgrade" {
  hosts    = "oms"
  run_once = true
  when     = length([for name, o in steps["read existing deployment"] : name if o.image_differs]) > 0
  metadb_backup {
    host      = var.oms_meta_host
    port      = var.oms_meta_port
    user      = var.oms_meta_user
    password  = var.oms_meta_password
    databases = [local.rm_db, local.cm_db, local.hb_db]
    dir       = var.backup_dir
  }
}

step "load image" {
  hosts = "oms"
  docker_load {
    file = var.image_file
    tag  = var.image
  }
}

step "mount folders" {
  hosts = "oms"
  mkdir_mounts {
    path        = var.mount_dir
    min_free_gb = var.min_free_gb
  }
}

step "config.yaml" {
  hosts = "oms"
  render_config {
    with = local.oms_config
  }
}

step "loaded config" {
  hosts = "oms"
  config_loaded {
    container   = var.container_name
    config_path = local.config_path
  }
}

# New nodes start all at once; nodes that already run are replaced one at a
# time (an upgrade to a new image), each healthy before the next, so the VIP
# always has nodes to send traffic to.
step "container (new nodes)" {
  hosts = "oms"
  when  = !steps["read existing deployment"][host.name].exists
  container_run {
    with = local.oms_container
  }
}

step "container (rolling)" {
  hosts  = "oms"
  serial = "1"
  when   = steps["read existing deployment"][host.name].exists
  container_run {
    with = local.oms_container
  }
}

# A node that already ran keeps its container when only config.yaml changed:
# reload it in place, one node at a time, so the VIP always has healthy nodes.
# "Changed" is read from the node (the config it last loaded, see
# config_loaded), so a run interrupted before a node's reload reloads it next time.
step "reload changed config" {
  hosts  = "oms"
  serial = "1"
  when   = (steps["loaded config"][host.name].stale || changed("config.yaml")) && !changed("container (new nodes)") && !changed("container (rolling)")
  supervisor_restart {
    container    = var.container_name
    mount_dir    = var.mount_dir
    config_path  = local.config_path
    vip          = local.vip
    vip_port     = var.vip_health_port
    restore_from = try(steps["config.yaml"][host.name].backup, "")
  }
}

step "VIP answers on 8088" {
  hosts    = "oms"
  run_once = true
  wait_for {
    url     = "${trimsuffix(var.cm_url, "/")}/oms/health"
    via     = "controller"
    timeout = "60s"
  }
}

step "VIP answers on 8089" {
  hosts    = "oms"
  run_once = true
  wait_for {
    url     = "${replace(trimsuffix(var.cm_url, "/"), ":8088", ":8089")}/oms/health"
    via     = "controller"
    timeout = "60s"
  }
}

# OMS's /oms/health answer names no node (docs/oms-facts.md H3), so through a
# load balancer a VIP mapped to a single node passes the checks above too.
step "VIP reaches every node?" {
  hosts    = "oms"
  run_once = true
  note {
    text = "the VIP answers, but OMS's health answer does not say which node sent it: make sure the load balancer sends to every node (omsrun's own VIP, vip.hcl, needs no such check)"
  }
}
