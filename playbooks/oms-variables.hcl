# The variables every OMS playbook shares: the keys of OMS's config.yaml
# (verbatim), the image, and where things live on the nodes. One var file
# (omsrun init writes it, or -e @vars.hcl) serves deploy.hcl, reconfigure.hcl,
# upgrade.hcl, status.hcl and uninstall.hcl alike.

# --- MetaDB (the seed's config.yaml keys, verbatim) ---
variable "oms_meta_host" {
  type        = string
  description = "MetaDB address (MySQL, or an OceanBase MySQL tenant)"
}
variable "oms_meta_port" {
  type    = number
  default = 2881
}
variable "oms_meta_user" {
  type        = string
  description = "MetaDB user, e.g. root@oms_tenant#cluster for OceanBase"
}
variable "oms_meta_password" {
  type      = string
  sensitive = true
}
variable "db_prefix" {
  type        = string
  default     = "oms"
  description = "names the three databases <prefix>_rm, <prefix>_cm, <prefix>_cm_hb unless given below"
}
variable "drc_rm_db" {
  type    = string
  default = null
}
variable "drc_cm_db" {
  type    = string
  default = null
}
variable "drc_cm_heartbeat_db" {
  type    = string
  default = null
}

# --- CM ---
variable "cm_url" {
  type        = string
  description = "the VIP (or domain) in front of every node's port 8088"
}
variable "cm_location" {
  type    = number
  default = 100
}
variable "cm_region" {
  type    = string
  default = ""
}
variable "cm_region_cn" {
  type    = string
  default = ""
}
variable "cm_is_default" {
  type    = bool
  default = true
}
variable "cm_nodes" {
  type        = list(string)
  default     = []
  description = "node addresses; empty means every host of the oms group"
}

# --- time-series database ---
variable "tsdb_enabled" {
  type    = bool
  default = false
}
variable "tsdb_service" {
  type    = string
  default = "INFLUXDB"
}
variable "tsdb_url" {
  type    = string
  default = ""
}
variable "tsdb_username" {
  type    = string
  default = ""
}
variable "tsdb_password" {
  type      = string
  default   = ""
  sensitive = true
}

# --- audit logs to Alibaba Cloud SLS ---
# omsrun's keys, not the seed's: the OMS guide's interactive tool asks for SLS
# parameters, but its config.yaml table has no keys for them. They reach
# config.yaml (under these names) only when sls_enabled is true.
variable "sls_enabled" {
  type        = bool
  default     = false
  description = "write OMS's audit logs to Simple Log Service"
}
variable "sls_endpoint" {
  type        = string
  default     = ""
  description = "SLS endpoint of the project's region, e.g. cn-hangzhou.log.aliyuncs.com (or an http(s) URL of it)"
  validation {
    condition     = !var.sls_enabled || var.sls_endpoint != ""
    error_message = "sls_endpoint is required when sls_enabled is true, e.g. cn-hangzhou.log.aliyuncs.com."
  }
}
variable "sls_project" {
  type    = string
  default = ""
  validation {
    condition     = !var.sls_enabled || var.sls_project != ""
    error_message = "sls_project is required when sls_enabled is true: the SLS project the audit logs go to."
  }
  validation {
    condition     = var.sls_project == "" || can(regex("^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$", var.sls_project))
    error_message = "sls_project must be 3 to 63 lower-case letters, digits and hyphens, starting and ending with a letter or digit."
  }
}
variable "sls_logstore" {
  type    = string
  default = ""
  validation {
    condition     = !var.sls_enabled || var.sls_logstore != ""
    error_message = "sls_logstore is required when sls_enabled is true: the Logstore the audit logs go to."
  }
  validation {
    condition     = var.sls_logstore == "" || can(regex("^[a-z0-9][a-z0-9_-]{0,61}[a-z0-9]$", var.sls_logstore))
    error_message = "sls_logstore must be 2 to 63 lower-case letters, digits, hyphens and underscores, starting and ending with a letter or digit."
  }
}
variable "sls_access_key_id" {
  type    = string
  default = ""
  validation {
    condition     = !var.sls_enabled || var.sls_access_key_id != ""
    error_message = "sls_access_key_id is required when sls_enabled is true."
  }
}
variable "sls_access_key_secret" {
  type      = string
  default   = ""
  sensitive = true
  validation {
    condition     = !var.sls_enabled || var.sls_access_key_secret != ""
    error_message = "sls_access_key_secret is required when sls_enabled is true (-e sls_access_key_secret=@env:OMS_SLS_ACCESS_KEY_SECRET keeps it out of files)."
  }
}

# --- the image and the nodes ---
variable "image" {
  type        = string
  description = "image reference the container runs, e.g. oms:feature_4.2.5-ce"
}
variable "image_file" {
  type        = string
  description = "the OMS package (.tar.gz) on the control machine"
}
variable "mount_dir" {
  type    = string
  default = "/data/oms"
}
variable "config_path" {
  type    = string
  default = ""
}
variable "container_name" {
  type    = string
  default = "oms"
}
variable "https_crt" {
  type    = string
  default = ""
}
variable "https_key" {
  type    = string
  default = ""
}
variable "min_free_gb" {
  type    = number
  default = 50
}
variable "backup_dir" {
  type        = string
  default     = "omsrun-backups"
  description = "where MetaDB backups go on the control machine before an upgrade"
}
variable "allow_existing_databases" {
  type    = bool
  default = false
}

locals {
  rm_db       = var.drc_rm_db != null ? var.drc_rm_db : "${var.db_prefix}_rm"
  cm_db       = var.drc_cm_db != null ? var.drc_cm_db : "${var.db_prefix}_cm"
  hb_db       = var.drc_cm_heartbeat_db != null ? var.drc_cm_heartbeat_db : "${var.db_prefix}_cm_hb"
  config_path = var.config_path != "" ? var.config_path : "${var.mount_dir}/config.yaml"
  # Every node of the oms group unless cm_nodes names them.
  cm_nodes = length(var.cm_nodes) > 0 ? var.cm_nodes : [for h in hosts.oms : h.address]

  # config.yaml's content, shared by every playbook that writes or compares it
  # (render_config { with = local.oms_config }).
  oms_config = {
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
    cm_nodes            = local.cm_nodes
    tsdb_enabled        = var.tsdb_enabled
    tsdb_service        = var.tsdb_service
    tsdb_url            = var.tsdb_url
    tsdb_username       = var.tsdb_username
    tsdb_password       = var.tsdb_password
    # omsrun's SLS keys: in config.yaml only when sls_enabled is true.
    sls_enabled           = var.sls_enabled
    sls_endpoint          = var.sls_endpoint
    sls_project           = var.sls_project
    sls_logstore          = var.sls_logstore
    sls_access_key_id     = var.sls_access_key_id
    sls_access_key_secret = var.sls_access_key_secret
  }

  # The container as the OMS CE guide runs it (container_run { with = local.oms_container }).
  oms_container = {
    name        = var.container_name
    image       = var.image
    config_path = local.config_path
    mount_dir   = var.mount_dir
    https_crt   = var.https_crt
    https_key   = var.https_key
  }
}
