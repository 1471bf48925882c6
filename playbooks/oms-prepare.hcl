# Include-only: the image, the mount folders and config.yaml on every node
# at once, and whether each node runs the config.yaml on its disk; shared by
# deploy.hcl and upgrade.hcl, which then start containers their own ways.

step "load image" {
  hosts = "oms"
  docker_load {
    file = var.image_file
    tag  = var.image
  }
}

step "mount folders" {
  hosts = "oms"
  mkdir_mounts {
    path        = var.mount_dir
    min_free_gb = var.min_free_gb
  }
}

step "config.yaml" {
  hosts = "oms"
  render_config {
    with = local.oms_config
  }
}

step "loaded config" {
  hosts = "oms"
  config_loaded {
    container   = var.container_name
    config_path = local.config_path
  }
}
