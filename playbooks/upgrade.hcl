# Upgrade OMS to a new image, offline, as the OMS docs describe it for CE
# (docs/oms-facts.md U4–U10; the order differs from obd's, see U14):
#   1. refuse, before anything stops: a version gate failed (obd's 4.1.1
#      floor, the upgrade pages' source versions, a downgrade), other
#      database names or mount paths than the node runs with, or OMS high
#      availability is on; ask the operator to confirm that incremental
#      sync is near real time and forward switchover complete (--yes);
#   2. stop the old container on EVERY node (kept, not removed);
#   3. back up the MetaDB now that nothing writes to it;
#   4. start the new image with IS_UPGRADE=true: the first node alone until
#      it is healthy (it migrates the MetaDB), then all the others;
#   5. health-gate every node and the VIP; remind to turn HA back on.
# Every node gets a record (<mount_dir>/omsrun-upgrade) before its old
# container stops, so a run interrupted anywhere resumes as this upgrade,
# and any failure prints the rollback: playbooks/restore.hcl with the same
# options (the previous image, by tag, and this backup restored).
# The VIP is down from step 2 until the first new node is healthy.
#
#   omsrun playbooks/upgrade.hcl -i inventory -e @vars.hcl -e image=oms:feature_4.2.6-ce -e image_file=oms-4.2.6.tar.gz

include "oms-variables.hcl" {}

variable "prune_images" {
  type        = bool
  default     = false
  description = "after a successful upgrade, remove each node's other images of the OMS repository, keeping the new one and the one a rollback starts"
}

playbook {
  # One node's failure stops every node where it is: the rollback then
  # finds each node in a state the record describes.
  any_errors_fatal = true
}

include "oms-read.hcl" {}

step "upgrade state" {
  hosts = "oms"
  upgrade_check {
    name       = var.container_name
    mount_dir  = var.mount_dir
    image      = var.image
    image_file = var.image_file
    # The docs keep these across an upgrade (U9): a change is refused here.
    config_path = local.config_path
    databases   = { drc_rm_db = local.rm_db, drc_cm_db = local.cm_db, drc_cm_heartbeat_db = local.hb_db }
  }
}

# preflight and check MetaDB, as deploy.hcl runs them
include "oms-checks.hcl" {}

step "high availability is off" {
  hosts    = "oms"
  run_once = true
  when     = length([for name, o in steps["upgrade state"] : name if o.state != "current"]) > 0
  oms_ha_check {
    host     = var.oms_meta_host
    port     = var.oms_meta_port
    user     = var.oms_meta_user
    password = var.oms_meta_password
    rm_db    = local.rm_db
  }
}

# image, mount folders, as deploy.hcl does them
include "oms-prepare.hcl" {}

# config.yaml on every node at once: every node stops before any starts
# on the new image, so none runs on a file it did not start with.
step "config.yaml" {
  hosts = "oms"
  render_config {
    with = local.oms_config
  }
}

step "record the upgrade" {
  hosts = "oms"
  when  = steps["upgrade state"][host.name].state == "upgrade"
  upgrade_marker {
    mount_dir  = var.mount_dir
    op         = "begin"
    from_image = steps["upgrade state"][host.name].from_image
    from_id    = steps["upgrade state"][host.name].from_id
    to_image   = var.image
  }
}

# The docs' precondition that no source shows outside the console (U10):
# asked with the run's other questions, before anything changes.
step "stop every old node" {
  hosts   = "oms"
  when    = steps["upgrade state"][host.name].needs_stop
  confirm = "upgrade to ${var.image}: first make sure in the OMS console that every migration's incremental sync is near real time and every forward switchover is complete (the OMS upgrade docs; omsrun cannot see either from outside the console, and a switchover is not to be done on the new version); then OMS stops on every node (the VIP is down until the first new node is healthy)"
  container_stop {
    name            = var.container_name
    rollback_to     = steps["upgrade state"][host.name].from_image
    rollback_target = var.image
  }
}

# Only now, with every old node stopped (any_errors_fatal: a node that did
# not stop ended the run), so the dump is consistent; once per upgrade: a
# resumed upgrade whose record names a backup keeps that one, since new
# nodes may have migrated the MetaDB since.
step "back up MetaDB" {
  hosts    = "oms"
  run_once = true
  when = (length([for name, o in steps["upgrade state"] : name if o.state != "current"]) > 0 &&
  length([for name, o in steps["upgrade state"] : name if o.backup != "" && o.state != "current"]) == 0)
  metadb_backup {
    host            = var.oms_meta_host
    port            = var.oms_meta_port
    user            = var.oms_meta_user
    password        = var.oms_meta_password
    databases       = concat([local.rm_db, local.cm_db], local.hb_dbs)
    trim_heartbeat  = local.hb_dbs
    dir             = var.backup_dir
    rollback_to     = try([for name, o in steps["upgrade state"] : o.from_image if o.from_image != ""][0], "")
    rollback_target = var.image
  }
}

step "record the backup" {
  hosts = "oms"
  when  = steps["upgrade state"][host.name].state != "current" && length(try(steps["back up MetaDB"], {})) > 0
  upgrade_marker {
    mount_dir = var.mount_dir
    op        = "backup"
    backup    = try([for name, o in steps["back up MetaDB"] : o.path][0], "")
  }
}

# The first node alone (sorted names: a resumed run picks the same one): it
# migrates the MetaDB. IS_UPGRADE=true comes from the record, not from what
# the node runs now, so a node whose old container is gone still gets it.
step "new image (first node)" {
  hosts = "oms"
  when  = host.name == try(sort([for name, o in steps["upgrade state"] : name if o.state != "current"])[0], "")
  container_run {
    with            = local.oms_container
    upgrade         = true
    rollback_to     = steps["upgrade state"][host.name].from_image
    rollback_target = var.image
    rollback_backup = try([for name, o in steps["back up MetaDB"] : o.path][0], steps["upgrade state"][host.name].backup)
  }
}

step "new image (other nodes)" {
  hosts = "oms"
  when = (steps["upgrade state"][host.name].state != "current" &&
  host.name != try(sort([for name, o in steps["upgrade state"] : name if o.state != "current"])[0], ""))
  container_run {
    with            = local.oms_container
    upgrade         = true
    rollback_to     = steps["upgrade state"][host.name].from_image
    rollback_target = var.image
    rollback_backup = try([for name, o in steps["back up MetaDB"] : o.path][0], steps["upgrade state"][host.name].backup)
  }
}

# the VIP answers on 8088 and 8089
include "oms-vip-checks.hcl" {}

# Every node runs the new image and is healthy: the record becomes
# <mount_dir>/omsrun-upgrade.done, which restore.hcl can still undo.
step "upgrade done" {
  hosts = "oms"
  when  = steps["upgrade state"][host.name].state != "current"
  upgrade_marker {
    mount_dir = var.mount_dir
    op        = "finish"
  }
}

step "remove older images" {
  hosts = "oms"
  when  = var.prune_images
  image_prune {
    repository = replace(var.image, "/:[^:/]+$/", "")
    # The new image, and the previous one (this node's record, else any
    # node's): restore.hcl starts it again.
    keep = compact([var.image, steps["upgrade state"][host.name].from_image,
    try([for name, o in steps["upgrade state"] : o.from_image if o.from_image != ""][0], "")])
  }
}

step "turn HA back on" {
  hosts    = "oms"
  run_once = true
  when     = length([for name, o in steps["upgrade state"] : name if o.state != "current"]) > 0
  note {
    text = "upgrade done; if OMS high availability was on before, turn it back on in the OMS console: System Management → System Parameters → ha.config → set enable to true"
  }
}
