# Deploy OMS Community Edition on every host of the `oms` group, behind a VIP.
# The seed guide's multi-node flow, in one run: checks first, then image,
# mount folders and config.yaml on every node at once; new containers (one
# first, then the rest) and a rolling restart of nodes whose config changed.
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

# preflight and check MetaDB, shared with reconfigure.hcl
include "oms-checks.hcl" {}

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

# A first deployment starts one new node alone until it is healthy: it
# creates the MetaDB schema, and fresh nodes initialising an empty MetaDB at
# the same moment race on it (the guide starts nodes one after another, obd
# sleeps 60 s after each). Then every other new node starts at once; they
# find the schema made. Sorted names pick the first, so a re-run after an
# interruption picks the same one. (HCL evaluates both sides of &&, hence
# try() for a run with no new node.)
step "container (first new node)" {
  hosts = "oms"
  when  = !steps["read existing deployment"][host.name].exists && host.name == try(sort([for name, o in steps["read existing deployment"] : name if !o.exists])[0], "")
  container_run {
    with = local.oms_container
  }
}

# Only once the first new node is up: when it failed, the rest stay as
# they are rather than racing on the schema.
step "container (other new nodes)" {
  hosts = "oms"
  when = (!steps["read existing deployment"][host.name].exists &&
    host.name != try(sort([for name, o in steps["read existing deployment"] : name if !o.exists])[0], "") &&
    can(steps["container (first new node)"][try(sort([for name, o in steps["read existing deployment"] : name if !o.exists])[0], "")].action))
  container_run {
    with = local.oms_container
  }
}

# Nodes that already run are replaced one at a time (an upgrade to a new
# image), each healthy and back in the balancer before the next, so the VIP
# always has nodes to send traffic to.
step "container (rolling)" {
  hosts  = "oms"
  serial = "1"
  when   = steps["read existing deployment"][host.name].exists
  container_run {
    with   = local.oms_container
    settle = var.balancer_settle
  }
}

# A node that already ran keeps its container when only config.yaml changed:
# reload it in place, one node at a time, so the VIP always has healthy nodes.
# "Changed" is read from the node (the config it last loaded, see
# config_loaded), so a run interrupted before a node's reload reloads it next time.
step "reload changed config" {
  hosts  = "oms"
  serial = "1"
  when   = (steps["loaded config"][host.name].stale || changed("config.yaml")) && !changed("container (first new node)") && !changed("container (other new nodes)") && !changed("container (rolling)")
  supervisor_restart {
    container    = var.container_name
    mount_dir    = var.mount_dir
    config_path  = local.config_path
    vip          = local.vip
    vip_port     = var.vip_health_port
    restore_from = try(steps["config.yaml"][host.name].backup, "")
    timeout      = var.health_timeout
    settle       = var.balancer_settle
    health_port  = local.nginx_port
    cm_port      = local.cm_port
  }
}

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

step "VIP answers on 8089" {
  hosts    = "oms"
  run_once = true
  wait_for {
    url     = "${replace(trimsuffix(var.cm_url, "/"), ":${local.cm_port}", ":${local.nginx_port}")}/oms/health"
    via     = "controller"
    timeout = var.vip_timeout
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
