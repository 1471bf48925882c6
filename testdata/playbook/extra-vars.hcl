# Values come from -e (see extra-vars.hcl.args): strings as they are,
# other types parsed as HCL, and a var file.
variable "name" {
  type = string
}

variable "replicas" {
  type = number
}

variable "ports" {
  type = list(number)
}

variable "tags" {
  type    = map(string)
  default = {}
}

variable "debug" {
  type    = bool
  default = false
}

variable "token" {
  type      = string
  sensitive = true
}

step "show" {
  hosts = "metadb"
  when  = !var.debug
  shell {
    cmd = format("%s x%d %s %s %s", var.name, var.replicas, jsonencode(var.ports), jsonencode(var.tags), var.token)
  }
}
