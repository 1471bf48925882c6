# A playbook using every feature of the language, against
# testdata/inventory/lab.hcl.

variable "oms_image" {
  type        = string
  default     = "oceanbase/oms:4.2.5-ce"
  description = "The OMS image to run."
}

variable "metadb_password" {
  type      = string
  sensitive = true
  default   = "Meta-Pa55word"
}

variable "metadb" {
  type = object({
    host     = string
    port     = optional(number, 2881)
    user     = optional(string, "root@oms")
    database = optional(string)
  })
  default = { host = "10.0.2.20" }
}

variable "data_dir" {
  type    = string
  default = "/data/oms"
  validation {
    condition     = startswith(var.data_dir, "/")
    error_message = "data_dir must be an absolute path."
  }
}

variable "extra_ports" {
  type    = list(number)
  default = [8089, 9000]
}

locals {
  cm_nodes   = [for h in hosts.oms : h.address]
  cm_url     = "http://${local.cm_nodes[0]}:${local.cm_port}"
  cm_port    = 8088
  all_ports  = concat([local.cm_port], var.extra_ports)
  metadb_dsn = "${var.metadb.user}:${var.metadb_password}@tcp(${var.metadb.host}:${var.metadb.port})/"
}

playbook {
  max_fail_percentage = 34
  any_errors_fatal    = false
}

step "render config" {
  hosts   = "oms"
  timeout = "30s"
  copy {
    dest = "${var.data_dir}/config.yaml"
    content = templatefile("files/config.yaml.tmpl", {
      nodes    = local.cm_nodes
      region   = host.vars.region
      metadb   = var.metadb
      password = var.metadb_password
    })
    mode = "0600"
  }
}

step "motd" {
  hosts = ["oms_hz", "metadb"]
  copy {
    dest    = "/etc/motd"
    content = "${file("files/motd.txt")}host ${upper(host.name)} in ${join(",", host.groups)}\n"
  }
}

step "restart oms" {
  hosts         = "oms,!oms3"
  when          = changed("render config") || host.vars.region == "cn-hangzhou"
  serial        = "50%"
  retries       = 3
  delay         = 5
  until         = result.rc == 0
  ignore_errors = true
  shell {
    cmd = "docker restart oms-${host.name}"
  }
}

step "wait for cm" {
  hosts    = "oms"
  run_once = true
  timeout  = "2m"
  wait_for {
    port = local.cm_port
    host = host.address
  }
}

step "check metadb" {
  hosts = "metadb"
  command {
    argv = ["mysql", "-h", var.metadb.host, "-P", tostring(var.metadb.port), "-e", "select 1"]
  }
}
