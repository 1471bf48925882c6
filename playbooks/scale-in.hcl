# Scale in: take one OMS node out of a running cluster, in the documented
# order (docs/oms-facts.md S2): no migration component may still run on it
# (asked, naming the node: only the OMS console shows them) → its container
# stopped and removed → its row deleted from the CM database's `host`
# table → cm_nodes rewritten on the remaining nodes and reloaded as
# reconfigure.hcl does it (oms-rollout.hcl): the first node alone until it
# is healthy, then the others one at a time, each back in the balancer
# before the next, a failed node put back on its previous config.yaml.
#
# Run it with the inventory you have AFTER taking the node out of it,
# naming the node by the address in its host row (deploy.hcl names it when
# it finds a registered node the inventory no longer has):
#
#   omsrun playbooks/scale-in.hcl -i inventory -e @vars.hcl -e remove_node=10.0.0.13
#
# The removed node is reached at that address with the connection settings
# of the oms group's hosts (the inventory's defaults). When it cannot be
# reached, its row is deleted anyway and the run says its container may
# still be running there.

include "oms-variables.hcl" {}

include "oms-read.hcl" {}

locals {
  # oms-rollout.hcl: reload only; the container stays as it is.
  replace_containers = false
}

# Any failure stops the run: the removed node is in no other step's hosts,
# so without this its container would go even when a check failed.
playbook {
  any_errors_fatal = true
}

variable "remove_node" {
  type        = string
  default     = ""
  description = "the address of the node to scale in (the ip of its row in the CM database's host table), already taken out of the inventory"
}

# The node leaving: not in the inventory any more.
host "removed_node" {
  address = var.remove_node
  like    = "oms"
}

# The CM database named by this run's variables must be the one the running
# nodes' config.yaml names: with another db_prefix, say, the row below would
# be deleted from another cluster's host table. Refused (or asked at a
# terminal) before anything changes, as in deploy.hcl (oms-checks.hcl).
step "check MetaDB" {
  hosts    = "oms"
  run_once = true
  metadb_check {
    host                  = var.oms_meta_host
    port                  = var.oms_meta_port
    user                  = var.oms_meta_user
    password              = var.oms_meta_password
    databases             = concat([local.rm_db, local.cm_db], local.hb_dbs)
    existing_deployment   = length([for name, o in steps["read existing deployment"] : name if o.exists && contains(o.databases, local.rm_db)]) > 0
    running_databases     = distinct(flatten([for name, o in steps["read existing deployment"] : o.databases if o.exists]))
    allow_database_change = var.allow_database_change
  }
}

# Which nodes OMS counts as its own. Without remove_node this lists the
# registered nodes the inventory no longer has and stops, naming the command.
step "registered nodes" {
  hosts    = "oms"
  run_once = true
  cm_host {
    with   = local.cm_host_rows
    remove = var.remove_node
    hint   = "name the node to scale in"
    # Read only here: the row goes after the container.
    keep = true
  }
}

# The rollout below reloads every node whose config.yaml differs: without a
# node to scale in (every registered node is in the inventory, or the step
# above stopped the run) this is reconfigure.hcl's work, not scale-in's, so
# the run stops here before anything changes.
step "node to scale in" {
  hosts    = "oms"
  run_once = true
  assert {
    that    = var.remove_node != ""
    message = "nothing to scale in: remove_node is not set and every node registered in ${local.cm_db}.host (${join(", ", distinct(flatten([for name, o in steps["registered nodes"] : o.registered])))}) is in the inventory; name the node leaving with -e remove_node=ADDRESS, the address in its host row, after taking it out of the inventory (to change the configuration of the nodes you have, run reconfigure.hcl)"
  }
}

# since when each remaining node is healthy: the removal and the reloads
# below wait until the balancer can have them in rotation
include "oms-balancer.hcl" {}

step "remove the node's container" {
  hosts   = "removed_node"
  confirm = "scale in ${var.remove_node}: first make sure in the OMS console that no migration component (Store, Incr-Sync, Full-Import) still runs on ${var.remove_node} — omsrun cannot see them from outside; then its container ${var.container_name} is stopped and removed (its ${var.mount_dir} stays), its row deleted from ${local.cm_db}.host, and the other nodes get the new cm_nodes and are reloaded one at a time"
  container_remove {
    name           = var.container_name
    await_balancer = try(steps["healthy since"], {})
  }
}

step "delete the node's host row" {
  hosts    = "oms"
  run_once = true
  when     = var.remove_node != ""
  cm_host {
    with   = local.cm_host_rows
    remove = var.remove_node
  }
}

step "container may still run" {
  hosts    = "oms"
  run_once = true
  when     = var.remove_node != "" && !can(steps["remove the node's container"][var.remove_node].reached)
  note {
    text = "${var.remove_node} could not be reached: its row is deleted from ${local.cm_db}.host, but its container ${var.container_name} may still be running there; remove it when the node is back (docker rm -f ${var.container_name})"
  }
}

# The remaining nodes: cm_nodes without the node, as reconfigure.hcl
# changes a running cluster (oms-rollout.hcl): the first node that runs OMS
# alone (config.yaml, reload, healthy), the others one at a time only then;
# a node that fails gets its previous config.yaml back and is reloaded on
# it, and the nodes after it keep what they run. Only nodes that run OMS: a
# new node in the inventory (a replacement) gets its config.yaml when
# deploy.hcl starts it. Whether a node runs its config.yaml is read from the
# node, so a scale-in interrupted after the removal reloads on re-run the
# nodes it did not reach.
include "oms-rollout.hcl" {}

# The VIP on both ports, from the nodes that run OMS (a replacement in the
# inventory has no container yet).
step "VIP answers on 8088" {
  hosts = "oms"
  when  = var.remove_node != "" && steps["read existing deployment"][host.name].exists
  oms_cm_ready {
    url       = var.cm_url
    container = var.container_name
    timeout   = var.vip_timeout
  }
}

# With regions, each region's VIP, from the first host of that region (as
# oms-vip-checks.hcl): one run_once host would check one region's only.
step "VIP answers on 8089" {
  hosts    = "oms"
  run_once = length(var.regions) == 0
  when     = var.remove_node != "" && (length(var.regions) == 0 || host.name == try(local.region_hosts[0].name, ""))
  wait_for {
    url     = "${replace(trimsuffix(var.cm_url, "/"), ":8088", ":8089")}/oms/health"
    via     = "controller"
    timeout = var.vip_timeout
  }
}
