# Include-only: what every node already runs (container_info), read first
# by deploy.hcl and upgrade.hcl; oms-checks.hcl's MetaDB check reads it.

step "read existing deployment" {
  hosts = "oms"
  container_info {
    name        = var.container_name
    config_path = local.config_path
    image_file  = var.image_file
  }
}
