# Remove OMS from the nodes: stop and remove the container. The mount
# directory (logs, store, config.yaml) and the MetaDB databases stay unless
# purge = true, which names what it deletes and asks first (or --yes).
#
#   omsrun playbooks/uninstall.hcl -i inventory -e @vars.hcl -l oms3          # scale in: one node
#   omsrun playbooks/uninstall.hcl -i inventory -e @vars.hcl -e purge=true    # everything, data included

include "oms-variables.hcl" {}

variable "purge" {
  type        = bool
  default     = false
  description = "also delete the mount directory on the nodes and drop the OMS databases from the MetaDB"
}

step "remove container" {
  hosts = "oms"
  container_remove {
    name = var.container_name
  }
}

step "delete mount directory" {
  hosts   = "oms"
  when    = var.purge
  confirm = "purge: delete ${var.mount_dir} (OMS logs, store, run and config.yaml) for good"
  command {
    argv    = ["rm", "-rf", "--one-file-system", var.mount_dir]
    removes = var.mount_dir
  }
}

step "drop MetaDB databases" {
  hosts    = "oms"
  run_once = true
  when     = var.purge
  confirm  = "purge: drop the MetaDB databases ${join(", ", concat([local.rm_db, local.cm_db], local.hb_dbs))} on ${var.oms_meta_host}:${var.oms_meta_port} for good"
  metadb_drop {
    host      = var.oms_meta_host
    port      = var.oms_meta_port
    user      = var.oms_meta_user
    password  = var.oms_meta_password
    databases = concat([local.rm_db, local.cm_db], local.hb_dbs)
  }
}
