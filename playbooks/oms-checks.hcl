# Include-only: the checks deploy.hcl, reconfigure.hcl and upgrade.hcl run
# before anything on a node is changed, written once so they cannot drift.
# The including playbook declares "read existing deployment" (container_info)
# first, and includes oms-variables.hcl.

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
    image          = var.image
    metadb_user    = var.oms_meta_user
    ports          = local.oms_ports
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
    databases = concat([local.rm_db, local.cm_db], local.hb_dbs)
    # Re-running on a cluster omsrun deployed finds its own databases: that is fine.
    existing_deployment = length([for name, o in steps["read existing deployment"] : name if o.exists && contains(o.databases, local.rm_db)]) > 0
    allow_existing      = var.allow_existing_databases
    # The databases the running nodes' config.yaml names: others need a confirmation.
    running_databases     = distinct(flatten([for name, o in steps["read existing deployment"] : o.databases if o.exists]))
    allow_database_change = var.allow_database_change
  }
}

# A node OMS still counts as its own (its row in the CM database's host
# table) that the inventory no longer has is a scale-in half done: deploy
# or reconfigure would drop it from the others' cm_nodes, and upgrade would
# leave it on the old image against the upgraded MetaDB, while its container
# may still run behind the VIP. Stopped here, before anything changes,
# naming scale-in.hcl, which does the documented steps in order.
step "registered nodes" {
  hosts    = "oms"
  run_once = true
  cm_host {
    with = local.cm_host_rows
    hint = "scale it in first (its container, then its row, then the others' cm_nodes)"
  }
}
