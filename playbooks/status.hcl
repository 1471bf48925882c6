# One line per OMS node: container state, image, supervisor programs and the
# health of 8088 and 8089, then whether config.yaml still matches what
# deploy.hcl would write. Read-only: safe to run at any time.
#
#   omsrun playbooks/status.hcl -i inventory -e @vars.hcl

variable "container_name" {
  type    = string
  default = "oms"
}

step "status" {
  hosts = "oms"
  oms_status {
    container = var.container_name
    host_ip   = host.address
  }
}

step "notice" {
  hosts    = "oms"
  run_once = true
  note {
    text = "OMS high availability (HA) stays off until you enable it in the OMS console (System Parameters > HA configuration)."
  }
}
