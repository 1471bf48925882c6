variable "cm_location" {
  type    = number
  default = 128
  validation {
    condition     = var.cm_location >= 0 && var.cm_location <= 127
    error_message = "cm_location must be between 0 and 127 (it becomes part of the OMS node id)."
  }
}

step "a" {
  shell {
    cmd = "echo"
  }
}
