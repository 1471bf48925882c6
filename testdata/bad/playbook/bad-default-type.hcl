variable "port" {
  type    = number
  default = "eighty"
}

step "a" {
  shell {
    cmd = "echo ${var.port}"
  }
}
