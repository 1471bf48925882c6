# Include-only: the image and the mount folders on every node at once;
# shared by deploy.hcl and upgrade.hcl, which then write config.yaml and
# start containers their own ways (deploy.hcl the running nodes one at a
# time, upgrade.hcl every node at once, since every node stops first).

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
