# The variables the bad var files and -e arguments are checked against.
variable "name" {
  type    = string
  default = "oms"
}

variable "replicas" {
  type    = number
  default = 1
}

variable "ports" {
  type    = list(number)
  default = []
}

variable "metadb" {
  type = object({
    host = string
    port = optional(number, 2881)
  })
  default = { host = "127.0.0.1" }
}

variable "cm_location" {
  type    = number
  default = 0
  validation {
    condition     = var.cm_location >= 0 && var.cm_location <= 127
    error_message = "cm_location must be between 0 and 127."
  }
}

step "a" {
  shell {
    cmd = "echo ${var.name}"
  }
}
