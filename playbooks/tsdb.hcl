# Deploy the time-series database the OMS guide leaves to the operator:
# InfluxDB 1.x (the only TSDB OMS CE supports) as a container on the host of
# the inventory group `tsdb`, from an image tarball, with authentication on
# and its data under tsdb_data_dir. Then its admin user, then OMS's user
# (tsdb_username) with the privileges OMS needs (docs/oms-facts.md T2).
# Passwords go over InfluxDB's HTTP API, never in a command line. A re-run
# changes nothing; a changed tsdb_password is applied.
#
# deploy.hcl then finds it: with tsdb_url empty, OMS is pointed at the first
# tsdb host on tsdb_port with tsdb_username and tsdb_password.
#
#   omsrun playbooks/tsdb.hcl -i inventory -e @vars.hcl   # needs tsdb_image_file, tsdb_admin_password
#   omsrun playbooks/deploy.hcl -i inventory -e @vars.hcl -e tsdb_enabled=true

include "oms-variables.hcl" {}

step "load InfluxDB image" {
  hosts = "tsdb"
  docker_load {
    file = var.tsdb_image_file
    tag  = var.tsdb_image
  }
}

step "InfluxDB data folder" {
  hosts = "tsdb"
  file {
    path  = var.tsdb_data_dir
    state = "directory"
    mode  = "0750"
  }
}

step "InfluxDB container" {
  hosts = "tsdb"
  container {
    name    = var.tsdb_container_name
    image   = var.tsdb_image
    network = "host"
    restart = "unless-stopped"
    mounts  = ["${var.tsdb_data_dir}:/var/lib/influxdb"]
    # InfluxDB 1.x reads INFLUXDB_<SECTION>_<KEY> over its config file, in
    # the official image and the lab's alike. Its RPC port moves off 8088,
    # which is OMS's when the TSDB shares a host with an OMS node.
    env = {
      INFLUXDB_HTTP_AUTH_ENABLED  = "true"
      INFLUXDB_HTTP_BIND_ADDRESS  = ":${var.tsdb_port}"
      INFLUXDB_BIND_ADDRESS       = "127.0.0.1:8098"
      INFLUXDB_REPORTING_DISABLED = "true"
    }
  }
}

step "InfluxDB admin user" {
  hosts = "tsdb"
  influxdb_user {
    url            = "127.0.0.1:${var.tsdb_port}"
    admin_user     = var.tsdb_admin_user
    admin_password = var.tsdb_admin_password
    user           = var.tsdb_admin_user
    password       = var.tsdb_admin_password
  }
}

# OMS creates its own database, and in InfluxDB 1.x only an admin may
# CREATE DATABASE: OMS's user is an admin (docs/oms-facts.md T2).
step "OMS user" {
  hosts = "tsdb"
  influxdb_user {
    url            = "127.0.0.1:${var.tsdb_port}"
    admin_user     = var.tsdb_admin_user
    admin_password = var.tsdb_admin_password
    user           = var.tsdb_username
    password       = var.tsdb_password
    admin          = true
  }
}
