# Deploy OMS Community Edition on every host of the `oms` group, behind a VIP.
# The seed guide's multi-node flow, in one run: checks first, then image and
# mount folders on every node at once; config.yaml and new containers on the
# new nodes (one first, then the rest); then, on the nodes that already ran,
# a changed config.yaml or container the first node alone until it is
# healthy, then the others one at a time (oms-rollout.hcl, as reconfigure.hcl).
#
#   omsrun playbooks/deploy.hcl -i inventory -e @vars.hcl --check --diff
#   omsrun playbooks/deploy.hcl -i inventory -e @vars.hcl

include "oms-variables.hcl" {}

locals {
  # oms-rollout.hcl: a running node whose container differs is replaced.
  replace_containers = true
}

include "oms-read.hcl" {}

# A new image on a running node is an upgrade, and the documented upgrade
# stops every node first: upgrade.hcl does it. Refused here on every node
# (run_once), before any check or change, as is a re-run while an upgrade
# is in progress: a scale-out must not start a new node on another version.
step "not an upgrade" {
  hosts = "oms"
  upgrade_check {
    name       = var.container_name
    mount_dir  = var.mount_dir
    image      = var.image
    image_file = var.image_file
    mode       = "deploy"
  }
}

step "refuse an upgrade" {
  hosts    = "oms"
  run_once = true
  assert {
    that    = length([for name, o in steps["not an upgrade"] : name if o.refusal != ""]) == 0
    message = join("\n", [for name, o in steps["not an upgrade"] : "${name}: ${o.refusal}" if o.refusal != ""])
  }
}

# preflight, check MetaDB and registered nodes, shared with reconfigure.hcl
# and upgrade.hcl
include "oms-checks.hcl" {}

# image, mount folders; shared with upgrade.hcl
include "oms-prepare.hcl" {}

# The new nodes' config.yaml, all at once: they run nothing yet. The nodes
# that run OMS get theirs in oms-rollout.hcl, the first node first.
step "config.yaml" {
  hosts = "oms"
  when  = !steps["read existing deployment"][host.name].exists
  render_config {
    with = local.oms_config
  }
}

# A run stopped while a node was starting left it running but never seen
# healthy (no record of the config it loaded). Its first start may still be
# creating the MetaDB schema: wait for it, as that run would have, before
# another node starts and races it (issue #14's interruption matrix found
# this). Changes nothing else.
step "container (started by an interrupted run)" {
  hosts = "oms"
  when  = steps["read existing deployment"][host.name].exists
  container_run {
    with            = local.oms_container
    only_unfinished = true
  }
}

# A first deployment starts one new node alone until it is healthy: it
# creates the MetaDB schema, and fresh nodes initialising an empty MetaDB at
# the same moment race on it (the guide starts nodes one after another, obd
# sleeps 60 s after each). Then every other new node starts at once; they
# find the schema made. Sorted names pick the first, so a re-run after an
# interruption picks the same one. (HCL evaluates both sides of &&, hence
# try() for a run with no new node.)
step "container (first new node)" {
  hosts = "oms"
  when  = !steps["read existing deployment"][host.name].exists && host.name == try(sort([for name, o in steps["read existing deployment"] : name if !o.exists])[0], "")
  container_run {
    with = local.oms_container
  }
}

# Only once the first new node is up: when it failed, the rest stay as
# they are rather than racing on the schema.
step "container (other new nodes)" {
  hosts = "oms"
  when = (!steps["read existing deployment"][host.name].exists &&
    host.name != try(sort([for name, o in steps["read existing deployment"] : name if !o.exists])[0], "") &&
    can(steps["container (first new node)"][try(sort([for name, o in steps["read existing deployment"] : name if !o.exists])[0], "")].action))
  container_run {
    with = local.oms_container
  }
}

# since when each node is healthy, for the rollout's restarts (oms-balancer.hcl)
include "oms-balancer.hcl" {}

# The nodes that already ran: config.yaml and its reload, or a container
# that differs from the one asked for (mounts, certificate; never the image:
# that is upgrade.hcl) replaced, the first node alone until it is healthy,
# then the others one at a time, each back in the balancer before the next;
# a node that fails gets its previous config.yaml back and stops the
# rollout; shared with reconfigure.hcl
include "oms-rollout.hcl" {}

# the VIP answers on 8088 and 8089; shared with upgrade.hcl and restore.hcl
include "oms-vip-checks.hcl" {}

# OMS's /oms/health answer names no node (docs/oms-facts.md H3), so through a
# load balancer a VIP mapped to a single node passes the checks above too.
step "VIP reaches every node?" {
  hosts    = "oms"
  run_once = true
  note {
    text = "the VIP answers, but OMS's health answer does not say which node sent it: make sure the load balancer sends to every node (omsrun's own VIP, vip.hcl, needs no such check)"
  }
}
