# Roll an upgrade back, as the OMS docs describe it: the previous image's
# containers again, and the MetaDB restored from the backup upgrade.hcl took
# once every old node had stopped. Everything comes from the nodes' upgrade
# records (<mount_dir>/omsrun-upgrade, or .done for a finished upgrade), so
# it takes the same options as the upgrade run it undoes; image and
# image_file are not used. Data written since the upgrade is lost with the
# restore: this is the way back from a failed or unwanted upgrade, not a
# downgrade of a cluster that has run on the new version for long. So it
# asks first, before any step, naming the databases and the dump (--yes
# answers); a failed upgrade prints this command with backup_file set.
#
#   omsrun playbooks/restore.hcl -i inventory -e @vars.hcl [-e backup_file=DUMP]

include "oms-variables.hcl" {}

variable "backup_file" {
  type        = string
  default     = ""
  description = "the MetaDB dump to restore, as a failed upgrade names it (so the question before the restore can name it); empty: the one the nodes' upgrade records name. It must be the records' dump"
}

playbook {
  any_errors_fatal = true
}

step "upgrade record" {
  hosts = "oms"
  upgrade_check {
    name      = var.container_name
    mount_dir = var.mount_dir
    mode      = "rollback"
  }
}

step "one upgrade to undo" {
  hosts    = "oms"
  run_once = true
  assert {
    that = (length(distinct([for name, o in steps["upgrade record"] : "${o.from_image} ${o.backup}"])) == 1 &&
    (var.backup_file == "" || try([for name, o in steps["upgrade record"] : o.backup][0], "") == var.backup_file))
    message = "the nodes' upgrade records ${var.backup_file == "" ? "disagree" : "disagree, or name another dump than backup_file ${var.backup_file}"}: ${join("; ", [for name, o in steps["upgrade record"] : "${name}: from ${o.from_image}, backup ${o.backup}"])}"
    ok      = "roll back to ${try([for name, o in steps["upgrade record"] : o.from_image][0], "")}"
  }
}

# Every new container stops before the MetaDB is replaced under it.
step "stop the new image" {
  hosts = "oms"
  when  = steps["upgrade record"][host.name].needs_stop
  container_stop {
    name = var.container_name
  }
}

# Without a backup the upgrade failed before any new node started: the
# MetaDB was never touched.
step "restore MetaDB" {
  hosts    = "oms"
  run_once = true
  when     = steps["upgrade record"][host.name].backup != ""
  # Asked once the records were read, before the run's first change, with
  # --yes as the answer: the restore drops what OMS wrote since the backup.
  confirm = "restore: drop the MetaDB databases ${join(", ", concat([local.rm_db, local.cm_db], local.hb_dbs))} on ${var.oms_meta_host}:${var.oms_meta_port} and load them back from ${var.backup_file != "" ? var.backup_file : "the dump the nodes' upgrade records name, if the upgrade took one (${var.mount_dir}/omsrun-upgrade)"}, taken before the upgrade: what OMS wrote to them since is lost"
  metadb_restore {
    host      = var.oms_meta_host
    port      = var.oms_meta_port
    user      = var.oms_meta_user
    password  = var.oms_meta_password
    databases = concat([local.rm_db, local.cm_db], local.hb_dbs)
    # backup_file, when given, is the records' dump (the assert above):
    # named here, validate reads it before any host is contacted.
    file = var.backup_file != "" ? var.backup_file : steps["upgrade record"][host.name].backup
  }
}

# The previous image by its tag, without IS_UPGRADE: its MetaDB is the one
# it ran on. All at once: the schema exists.
step "previous image" {
  hosts = "oms"
  container_run {
    with    = local.oms_container
    image   = steps["upgrade record"][host.name].from_image
    upgrade = false
  }
}

# the VIP answers on 8088 and 8089
include "oms-vip-checks.hcl" {}

step "rolled back" {
  hosts = "oms"
  upgrade_marker {
    mount_dir = var.mount_dir
    op        = "clear"
  }
}
