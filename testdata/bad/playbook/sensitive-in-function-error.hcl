# A function error would quote its argument; the argument is a secret.
variable "password" {
  type      = string
  sensitive = true
  default   = "Do-Not-Print-Me"
}

locals {
  pin = parseint(var.password, 10)
}

step "a" {
  shell {
    cmd = "echo ${parseint(var.password, 16)}"
  }
}
