# The playbook the secrets corpus is validated against.
variable "name" {
  type    = string
  default = "oms"
}

variable "oms_meta_password" {
  type      = string
  sensitive = true
  default   = ""
}

step "a" {
  shell {
    cmd = "echo ${var.name}"
  }
}
