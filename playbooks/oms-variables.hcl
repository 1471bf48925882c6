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
  default     = ""
  description = "the VIP (or domain) in front of every node's port 8088 (each region's own with regions)"
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

# --- several regions (obd's regions list; docs/oms-facts.md S5, S6) ---
# Each region names its hosts with an inventory pattern; on those hosts its
# cm_url, cm_location, cm_region and cm_is_default replace the variables of
# the same name, so each node's config.yaml is its region's. cm_nodes are
# the region's hosts, cm_region_cn defaults to cm_region, and the heartbeat
# database to <drc_cm_heartbeat_db>_<cm_location> (locals below). The
# attributes are omsconfig.RegionAttrs (a test holds them together).
variable "regions" {
  type = list(object({
    hosts               = string
    cm_url              = string
    cm_location         = number
    cm_region           = string
    cm_region_cn        = optional(string)
    cm_is_default       = optional(bool, false)
    drc_cm_heartbeat_db = optional(string)
  }))
  default         = []
  split_group     = "oms"
  split_overrides = ["cm_url", "cm_location", "cm_region", "cm_is_default", "region_hosts=hosts"]
  # A region whose hosts all left the inventory. Whether its nodes are still
  # registered in OMS only the MetaDB can say, after this check: both cases
  # are named. scale-in.hcl refuses a region's last node (cm_host.go
  # lastOfRegion), so it is not offered as the way to drop the region.
  split_no_hosts = join(" ", [
    "Region ${element.cm_region} (cm_location ${element.cm_location}) has no host left in the inventory.",
    "If its hosts left the inventory by mistake, put them back.",
    "To move the region to other hosts, add them to the inventory and to this hosts pattern beside the old ones, run deploy.hcl, then take the old ones out and scale each in (scale-in.hcl -e remove_node=ADDRESS).",
    "If OMS never ran on the region's nodes or was uninstalled from them, remove the region from regions.",
    "While its nodes are registered in OMS, removing it from regions makes deploy.hcl stop at them, and scale-in.hcl refuses a region's last node: dropping a region in use is OMS's own procedure (\"Remove a node and reduce the number of regions\" in the OMS docs' Scale down deployment), which omsrun does not automate.",
  ])
  description     = "several regions, each { hosts, cm_url, cm_location, cm_region, cm_region_cn, cm_is_default, drc_cm_heartbeat_db }; empty: one region from the top-level variables"
}

variable "region_hosts" {
  type        = string
  default     = ""
  description = "set on each node from its region's hosts pattern (regions); not for the user"
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

# --- the InfluxDB omsrun deploys itself (tsdb.hcl) on the inventory group
# `tsdb`; deploy.hcl then finds it when tsdb_url is empty (local.tsdb_url) ---
variable "tsdb_image" {
  type        = string
  default     = "influxdb:1.8"
  description = "the InfluxDB 1.x image tsdb.hcl runs"
}
variable "tsdb_image_file" {
  type        = string
  default     = ""
  description = "that image's tarball on the control machine (docker save), as image_file is for OMS"
}
variable "tsdb_data_dir" {
  type        = string
  default     = "/data/influxdb"
  description = "InfluxDB's data folder on the tsdb host, mounted at /var/lib/influxdb"
}
variable "tsdb_port" {
  type    = number
  default = 8086
}
variable "tsdb_container_name" {
  type    = string
  default = "influxdb"
}
variable "tsdb_admin_user" {
  type        = string
  default     = "admin"
  description = "InfluxDB's admin, created first; tsdb_username is then created as OMS's user"
}
variable "tsdb_admin_password" {
  type      = string
  default   = ""
  sensitive = true
}

# --- omsrun's own VIP: keepalived (VRRP) on the oms nodes (vip.hcl) ---
variable "vip" {
  type        = string
  default     = ""
  description = "the VIP keepalived moves between healthy nodes; default: the host of cm_url"
}
variable "vip_password" {
  type        = string
  default     = ""
  sensitive   = true
  description = "VRRP password shared by the nodes (keepalived uses its first 8 characters)"
}
variable "vip_router_id" {
  type        = number
  default     = 0
  description = "VRRP virtual_router_id (1-255), unique on the network; default: the VIP's last number"
}
variable "keepalived_image" {
  type    = string
  default = "keepalived:omsrun"
}
variable "keepalived_image_file" {
  type        = string
  default     = ""
  description = "the keepalived image's tarball on the control machine (docker save)"
}
variable "vip_health_port" {
  type        = number
  default     = 8089
  description = "the console (nginx) port whose /oms/health decides which node may hold the VIP"
}

# --- audit logs to Alibaba Cloud SLS ---
# The config.yaml keys OMS reads (obd's names). They reach config.yaml only
# when set; setting any asks for all five (render_config checks them).
variable "apsara_audit_sls_access_key" {
  type        = string
  default     = ""
  sensitive   = true
  description = "the AccessKey ID that writes the audit logs to SLS; setting it turns SLS audit logs on"
}
variable "apsara_audit_sls_access_secret" {
  type        = string
  default     = ""
  sensitive   = true
  description = "that AccessKey's secret (-e apsara_audit_sls_access_secret=@env:OMS_SLS_ACCESS_SECRET keeps it out of files)"
}
variable "apsara_audit_sls_endpoint" {
  type        = string
  default     = ""
  description = "the SLS endpoint of the region, e.g. cn-hangzhou.log.aliyuncs.com (or an http(s) URL of it)"
}
variable "apsara_audit_sls_ops_site_topic" {
  type        = string
  default     = ""
  description = "the SLS topic of the operations site's audit logs"
}
variable "apsara_audit_sls_user_site_topic" {
  type        = string
  default     = ""
  description = "the SLS topic of the user site's audit logs"
}

# The sls_* variables omsrun once invented: OMS never read them. Each is
# refused with what replaces it, rather than being silently unknown.
variable "sls_enabled" {
  type    = any
  default = null
  validation {
    condition     = var.sls_enabled == null
    error_message = "sls_enabled is no longer accepted: OMS has no such key: OMS's audit logs go to the topics apsara_audit_sls_ops_site_topic and apsara_audit_sls_user_site_topic, and SLS is on when apsara_audit_sls_access_key is set."
  }
}
variable "sls_endpoint" {
  type    = any
  default = null
  validation {
    condition     = var.sls_endpoint == null
    error_message = "sls_endpoint is no longer accepted: use apsara_audit_sls_endpoint, the name OMS reads."
  }
}
variable "sls_project" {
  type    = any
  default = null
  validation {
    condition     = var.sls_project == null
    error_message = "sls_project is no longer accepted: OMS has no such key: OMS's audit logs go to the topics apsara_audit_sls_ops_site_topic and apsara_audit_sls_user_site_topic, and SLS is on when apsara_audit_sls_access_key is set."
  }
}
variable "sls_logstore" {
  type    = any
  default = null
  validation {
    condition     = var.sls_logstore == null
    error_message = "sls_logstore is no longer accepted: OMS has no such key: OMS's audit logs go to the topics apsara_audit_sls_ops_site_topic and apsara_audit_sls_user_site_topic, and SLS is on when apsara_audit_sls_access_key is set."
  }
}
variable "sls_access_key_id" {
  type    = any
  default = null
  validation {
    condition     = var.sls_access_key_id == null
    error_message = "sls_access_key_id is no longer accepted: use apsara_audit_sls_access_key, the name OMS reads."
  }
}
variable "sls_access_key_secret" {
  type    = any
  default = null
  sensitive = true
  validation {
    condition     = var.sls_access_key_secret == null
    error_message = "sls_access_key_secret is no longer accepted: use apsara_audit_sls_access_secret, the name OMS reads."
  }
}

# --- ports OMS listens on (the container uses the host's network) ---
# null leaves OMS's default; a set port is written to config.yaml.
# per_host: a host's (or its group's) inventory variable of the same name
# overrides the value there (README: "Per-host values").
variable "nginx_server_port" {
  type        = number
  per_host    = true
  default     = null
  description = "the web console's port (nginx), also where /oms/health answers, 1025 to 65535 (OMS's default 8089)"
}
variable "cm_server_port" {
  type        = number
  per_host    = true
  default     = null
  description = "the CM port, the one cm_url names, 1025 to 65535 (OMS's default 8088)"
}
variable "ghana_server_port" {
  type        = number
  per_host    = true
  default     = null
  description = "the console backend's (Ghana) port, 1025 to 65535 (OMS's default 8090)"
}
variable "supervisor_server_port" {
  type        = number
  per_host    = true
  default     = null
  description = "the DRC supervisor's port, 1025 to 65535 (OMS's default 9000)"
}
variable "sshd_server_port" {
  type        = number
  per_host    = true
  default     = null
  description = "the port of the sshd inside the container, 1025 to 65535 (OMS's default 2023)"
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
# mount_dir and container_name are per_host too (a node whose data disk is elsewhere).
variable "mount_dir" {
  type    = string
  per_host = true
  default = "/data/oms"
}
variable "config_path" {
  type    = string
  default = ""
}
variable "container_name" {
  type    = string
  per_host = true
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
  default     = ""
  description = "where MetaDB backups go on the control machine before an upgrade (empty: omsrun's state folder, $XDG_STATE_HOME/omsrun/backups or ~/.local/state/omsrun/backups)"
}
variable "allow_existing_databases" {
  type    = bool
  default = false
}
variable "allow_database_change" {
  type        = bool
  default     = false
  description = "confirms pointing a running cluster at other databases than its config.yaml names"
}

# --- waits (the real services take minutes: obd waits at least 900 s) ---
variable "health_timeout" {
  type        = string
  default     = "15m"
  description = "how long a node may take to become healthy after a start or a restart"
}
variable "vip_timeout" {
  type        = string
  default     = "5m"
  description = "how long the VIP may take to answer once every node is healthy"
}
variable "balancer_settle" {
  type        = string
  default     = "6s"
  description = "pause after each node of a rolling operation is healthy, so the load balancer takes it back: its (rise + 1) × inter ((2 + 1) × 2s); the extra inter covers a check that started just before the node was healthy"
}

locals {
  rm_db       = var.drc_rm_db != null ? var.drc_rm_db : "${var.db_prefix}_rm"
  cm_db       = var.drc_cm_db != null ? var.drc_cm_db : "${var.db_prefix}_cm"
  hb_base     = var.drc_cm_heartbeat_db != null ? var.drc_cm_heartbeat_db : "${var.db_prefix}_cm_hb"
  config_path = var.config_path != "" ? var.config_path : "${var.mount_dir}/config.yaml"

  # With regions, this host's region (region_hosts is its hosts pattern
  # here); null without regions or on a host of no region.
  region = try([for r in var.regions : r if r.hosts == var.region_hosts][0], null)
  # Every region's heartbeat database, as obd names them (omsconfig.RegionHeartbeatDB);
  # one region keeps the plain name.
  hb_dbs = length(var.regions) == 0 ? [local.hb_base] : [
    for r in var.regions : r.drc_cm_heartbeat_db != null ? r.drc_cm_heartbeat_db : "${local.hb_base}_${r.cm_location}"
  ]
  hb_db        = local.region == null ? local.hb_base : try(local.hb_dbs[index([for r in var.regions : r.cm_location], var.cm_location)], local.hb_base)
  cm_region_cn = local.region == null ? var.cm_region_cn : try(coalesce(local.region.cm_region_cn, local.region.cm_region), "")
  # This region's hosts (every host of the oms group without regions), and
  # its first one, which checks the region's VIP for all of them.
  region_hosts = length(var.regions) > 0 ? try(hosts_matching(var.region_hosts), []) : lookup(hosts, "oms", [])
  # The region's nodes with regions; else every node of the oms group
  # unless cm_nodes names them. Only var.* here (no local): a bad value is
  # then reported where the user set cm_nodes.
  cm_nodes = (length(var.regions) > 0 ? try([for h in hosts_matching(var.region_hosts) : h.address], []) :
  length(var.cm_nodes) > 0 ? var.cm_nodes : [for h in hosts.oms : h.address])
  # Every region, for the status table: name, code, VIP and nodes.
  regions_shown = [for r in var.regions : "${r.cm_region} (cm_location ${r.cm_location}${r.cm_is_default ? ", default" : ""}): ${r.cm_url} on ${try(join(" ", [for h in hosts_matching(r.hosts) : h.name]), r.hosts)}"]
  # tsdb_url, or else the first host of the tsdb group (the InfluxDB tsdb.hcl deploys).
  tsdb_hosts = [for h in lookup(hosts, "tsdb", []) : h.address]
  # The VIP is cm_url's host unless vip names it; its router id its last
  # number (51 for a VIP that is a name). regexall, not regex: a cm_url or
  # vip of another shape must not break the playbooks that never use them.
  # With regions, cm_url is this node's region's (split_overrides), so each
  # region gets its own VIP and router id; vip and vip_router_id name one
  # VIP and apply only without regions.
  vip           = var.vip != "" && length(var.regions) == 0 ? var.vip : concat(flatten(regexall("^(?:[a-z]+://)?([^:/]+)", var.cm_url)), [""])[0]
  vip_router_id = var.vip_router_id != 0 && length(var.regions) == 0 ? var.vip_router_id : parseint(concat(flatten(regexall("^[0-9]+[.][0-9]+[.][0-9]+[.]([0-9]+)$", local.vip)), ["51"])[0], 10)
  tsdb_url   = var.tsdb_url != "" ? var.tsdb_url : (length(local.tsdb_hosts) > 0 ? "${local.tsdb_hosts[0]}:${var.tsdb_port}" : "")

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
    cm_region_cn        = local.cm_region_cn
    cm_is_default       = var.cm_is_default
    cm_nodes            = local.cm_nodes
    # So that validate, before any connection, finds a host cm_nodes misses
    # (with regions, a host of the node's own region).
    deployment_hosts = local.region != null ? local.cm_nodes : [for h in hosts.oms : h.address]
    # The regions as a whole (render_config checks they differ as OMS needs).
    regions            = var.regions
    heartbeat_db_base  = local.hb_base
    top_level_cm_nodes = var.cm_nodes
    tsdb_enabled       = var.tsdb_enabled
    tsdb_service        = var.tsdb_service
    tsdb_url            = local.tsdb_url
    tsdb_username       = var.tsdb_username
    tsdb_password       = var.tsdb_password
    # In config.yaml only when set.
    apsara_audit_sls_access_key      = var.apsara_audit_sls_access_key
    apsara_audit_sls_access_secret   = var.apsara_audit_sls_access_secret
    apsara_audit_sls_endpoint        = var.apsara_audit_sls_endpoint
    apsara_audit_sls_ops_site_topic  = var.apsara_audit_sls_ops_site_topic
    apsara_audit_sls_user_site_topic = var.apsara_audit_sls_user_site_topic
    nginx_server_port                = var.nginx_server_port
    cm_server_port                   = var.cm_server_port
    ghana_server_port                = var.ghana_server_port
    supervisor_server_port           = var.supervisor_server_port
    sshd_server_port                 = var.sshd_server_port
  }

  # The CM database's host table and the nodes the inventory keeps, as
  # cm_host reads them (cm_host { with = local.cm_host_rows ... }): the
  # registered-node check of oms-checks.hcl and scale-in.hcl's two steps.
  cm_host_rows = {
    host     = var.oms_meta_host
    port     = var.oms_meta_port
    user     = var.oms_meta_user
    password = var.oms_meta_password
    database = local.cm_db
    nodes    = [for h in hosts.oms : h.address]
  }

  # supervisor_restart's arguments, shared by every reload (deploy,
  # reconfigure, scale-in): supervisor_restart { with = local.reload ... };
  # each step adds only the backup to put back if the node fails.
  reload = {
    container   = var.container_name
    mount_dir   = var.mount_dir
    config_path = local.config_path
    timeout     = var.health_timeout
    settle      = var.balancer_settle
    health_port = local.nginx_port
    cm_port     = local.cm_port
    # With omsrun's keepalived (vip.hcl) the holder hands the VIP over first.
    vip      = local.vip
    vip_port = var.vip_health_port
  }

  # The ports omsrun checks: the configured ones, or OMS's defaults.
  nginx_port = coalesce(var.nginx_server_port, 8089)
  cm_port    = coalesce(var.cm_server_port, 8088)
  oms_ports = [local.nginx_port, local.cm_port, coalesce(var.ghana_server_port, 8090),
  coalesce(var.supervisor_server_port, 9000), coalesce(var.sshd_server_port, 2023)]

  # The container as the OMS CE guide runs it (container_run { with = local.oms_container }).
  oms_container = {
    name           = var.container_name
    image          = var.image
    config_path    = local.config_path
    mount_dir      = var.mount_dir
    https_crt      = var.https_crt
    https_key      = var.https_key
    health_timeout = var.health_timeout
    health_port    = local.nginx_port
    cm_port        = local.cm_port
  }
}
