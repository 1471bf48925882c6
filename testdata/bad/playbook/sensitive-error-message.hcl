variable "password" {
  type      = string
  sensitive = true
  default   = "short"
  validation {
    condition     = length(var.password) >= 8
    error_message = "The password ${var.password} is too short."
  }
}

step "a" {
  shell {
    cmd = "echo"
  }
}
