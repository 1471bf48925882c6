variable "password" {
  type      = string
  sensitive = true
  default   = "Do-Not-Print-Me"
}

step "a" {
  wait_for {
    port = var.password
  }
}
