variable "image" {
  type    = string
  default = "oms:4.2.5"
}

step "a" {
  shell {
    cmd = "docker pull ${var.imgae}"
  }
}
