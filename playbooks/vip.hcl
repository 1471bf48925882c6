# omsrun's own VIP for operators without a load balancer: keepalived (VRRP)
# on every oms node, as a container (host network, NET_ADMIN and NET_RAW)
# from an image tarball. The VIP sits on one healthy node at a time: each
# node's keepalived checks its own console health (/oms/health on the nginx
# port) every second, and a node whose OMS is unhealthy gives the VIP up.
# virtual_router_id (the VIP's last number), the interface (the one holding
# the node's inventory address, found when keepalived starts) and the
# priorities (the order of the oms group) are derived; the VRRP password is
# a secret. Operators with a load balancer (F5, LVS, a cloud SLB) skip this.
#
# With regions, each region has its own VIP (its cm_url's host) and
# virtual_router_id (that VIP's last number), and a node's VRRP peers and
# priority order are its region's hosts only: each region's keepalived
# instances elect their own holder and never hear another region's adverts.
#
#   omsrun playbooks/vip.hcl -i inventory -e @vars.hcl   # needs keepalived_image_file, vip_password

include "oms-variables.hcl" {}

step "load keepalived image" {
  hosts = "oms"
  docker_load {
    file = var.keepalived_image_file
    tag  = var.keepalived_image
  }
}

step "keepalived folder" {
  hosts = "oms"
  file {
    path  = "${var.mount_dir}/keepalived"
    state = "directory"
    mode  = "0700"
  }
}

# The health check keepalived runs every second: the node's own console
# health. curl when the image has it, else wget (busybox's in small images).
step "keepalived health check" {
  hosts = "oms"
  copy {
    dest    = "${var.mount_dir}/keepalived/oms_health.sh"
    mode    = "0700"
    content = <<-EOT
      #!/bin/sh
      # omsrun vip.hcl: succeeds while this node's OMS console answers
      # /oms/health with "healthy": true, as obd checks it. With a mounted
      # certificate the console may serve only https (docs/oms-facts.md), so
      # https first without verifying the certificate, then http.
      for scheme in https http; do
        url=$scheme://127.0.0.1:${var.vip_health_port}/oms/health
        if command -v curl >/dev/null 2>&1; then
          body=$(curl -ksS -m 1 "$url" 2>/dev/null)
        else
          body=$(wget -q -T 1 --no-check-certificate -O - "$url" 2>/dev/null)
        fi
        case $body in *'"healthy":true'* | *'"healthy": true'*) exit 0 ;; esac
      done
      exit 1
    EOT
  }
}

# Unicast VRRP to the other nodes: it needs no multicast, which many clouds
# and bridges drop. nopreempt keeps the VIP where it is when a node with a
# higher priority comes back, so a recovering node never causes a move.
step "keepalived config" {
  hosts = "oms"
  copy {
    dest = "${var.mount_dir}/keepalived/keepalived.conf.in"
    mode = "0600"
    content = <<-EOT
      # omsrun vip.hcl: keepalived for the OMS VIP ${local.vip}
      global_defs {
        router_id ${host.name}
        enable_script_security
        script_user root
      }
      vrrp_script oms_health {
        script "/etc/keepalived/oms_health.sh"
        interval 1
        timeout 2
        fall 2
        rise 2
      }
      vrrp_instance oms_vip {
        state BACKUP
        nopreempt
        interface @IFACE@
        virtual_router_id ${local.vip_router_id}
        priority ${200 - lookup(zipmap([for h in local.region_hosts : h.name], range(length(local.region_hosts))), host.name, 0)}
        advert_int 1
        unicast_src_ip ${host.address}
        unicast_peer {
          ${join("\n    ", [for h in local.region_hosts : h.address if h.name != host.name])}
        }
        authentication {
          auth_type PASS
          auth_pass ${substr(var.vip_password, 0, 8)}
        }
        virtual_ipaddress {
          ${local.vip}/32 dev @IFACE@
        }
        track_script {
          oms_health
        }
      }
    EOT
  }
}

step "keepalived container" {
  hosts = "oms"
  container {
    name    = "omsrun-keepalived"
    image   = var.keepalived_image
    network = "host"
    cap_add = ["NET_ADMIN", "NET_RAW"]
    restart = "unless-stopped"
    mounts  = ["${var.mount_dir}/keepalived:/etc/keepalived"]
    env     = { NODE_ADDRESS = host.address }
    # The interface is the one holding the node's own address, found where
    # keepalived runs (names differ between hosts: eth0, ens3, bond0).
    # Each start records, beside the config, the sha256 of the one it read
    # (loaded-<sha256>): whether keepalived runs the config on disk is then
    # read on the node ("reload keepalived"), not remembered from a run.
    command = ["sh", "-c", <<-EOT
      iface=$(ip -o -f inet addr show | awk -v a="$NODE_ADDRESS" '{ split($4, p, "/"); if (p[1] == a) { print $2; exit } }')
      [ -n "$iface" ] || { echo "no interface holds $NODE_ADDRESS" >&2; exit 1; }
      cp /etc/keepalived/keepalived.conf.in /tmp/keepalived.conf.in
      sum=$(sha256sum </tmp/keepalived.conf.in | cut -d' ' -f1)
      sed "s/@IFACE@/$iface/g" /tmp/keepalived.conf.in >/tmp/keepalived.conf
      rm -f /etc/keepalived/loaded-*; : >"/etc/keepalived/loaded-$sum"
      exec keepalived -n -l -D -f /tmp/keepalived.conf
    EOT
    ]
  }
}

# keepalived reads its config only when it starts: a node whose keepalived
# has not loaded the config now on disk is restarted. Read on the node (the
# loaded-<sha256> its last start left), not from this run's changes, so a
# run that stopped between writing the config and this restart still
# converges on the next run. A container the step above (re)created or
# started in this run read the config on disk as it started, so it is left
# alone: its start script writes loaded-<sha256> moments later (the test
# here could come first and restart it, moving the VIP for nothing), and
# --check, where no container started, must predict no restart either.
# docker restart stops with SIGTERM, on which keepalived gives the VIP up;
# a new container (docker rm -f, SIGKILL) would leave it behind.
# The health check needs no restart: keepalived runs the script anew each time.
step "reload keepalived" {
  hosts = "oms"
  when  = !changed("keepalived container")
  command {
    argv    = ["docker", "restart", "omsrun-keepalived"]
    creates = "${var.mount_dir}/keepalived/loaded-${try(steps["keepalived config"][host.name].sha256, "unknown")}"
  }
}
