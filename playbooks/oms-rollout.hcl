# Include-only: a changed config.yaml onto the nodes that already run OMS,
# the first of them alone until it is healthy on it, then the others one at
# a time; shared by deploy.hcl and reconfigure.hcl, so both change a running
# cluster the same way (issue #14).
#
# The including playbook reads "read existing deployment" (container_info)
# first and sets local.replace_containers: deploy.hcl replaces a node whose
# container differs from the one asked for (mounts, certificate) instead of
# reloading it; reconfigure.hcl only reloads.
#
# The first node is the first name, sorted, of the nodes that answered with
# a container, so a re-run after an interruption picks the same one; a node
# created by this run (deploy.hcl's new nodes) is not among them. A node
# that fails gets its previous config.yaml back and is reloaded on it
# (restore_from), and the nodes after it are not touched: they keep running
# what they ran. Whether a node runs the config.yaml on its disk is read
# from the node (config_loaded), so a run stopped halfway reloads next time
# the nodes it did not reach. Each step that takes a node out waits first
# until the balancer can have the other nodes back: the including playbook
# includes oms-balancer.hcl (step "healthy since") right before this file.
# (HCL evaluates both sides of && and ||, hence try() where a step may have
# no outputs for a host.)

step "config.yaml, first node" {
  hosts = "oms"
  when  = host.name == try(sort([for name, o in steps["read existing deployment"] : name if o.exists])[0], "")
  render_config {
    with = local.oms_config
  }
}

step "loaded config, first node" {
  hosts = "oms"
  when  = host.name == try(sort([for name, o in steps["read existing deployment"] : name if o.exists])[0], "")
  config_loaded {
    container   = var.container_name
    config_path = local.config_path
  }
}

# Refused before the first node is restarted on a changed or not yet loaded
# config.yaml, when another oms node of the inventory did not answer or
# does not serve: the restart could leave nobody behind the VIP (with two
# nodes, the only one), and the others would follow. Not held against it:
# the first node itself (it goes alone, first) and a host without an OMS
# container: no member of the running cluster (deploy.hcl creates it;
# reconfigure.hcl and scale-in.hcl leave it alone, as for the replacement
# host of a scale-in that waits for its deploy).
# Fails the first node only: the gate below then keeps the others as they
# are. Decided here once for every playbook that includes this file.
step "other nodes serving" {
  hosts = "oms"
  when = (host.name == try(sort([for name, o in steps["read existing deployment"] : name if o.exists])[0], "") &&
  (try(steps["loaded config, first node"][host.name].stale, false) || changed("config.yaml, first node")))
  assert {
    that = length([for h in hosts.oms : h.name if !(h.name == host.name ||
      !try(steps["read existing deployment"][h.name].exists, true) ||
    try(steps["healthy since"][h.name].healthy, false))]) == 0
    message = join("\n", concat([for h in hosts.oms : "${h.name} (${h.address}): ${can(steps["healthy since"][h.name]) ? "container not running or OMS not healthy" : "did not answer (or failed an earlier step)"}" if !(h.name == host.name ||
      !try(steps["read existing deployment"][h.name].exists, true) ||
      try(steps["healthy since"][h.name].healthy, false))], [
      "not restarting ${host.name} on the new config.yaml: with the node(s) above down, nobody could be left serving behind the VIP. Bring them back (start the container, or the host) and run again, or take them out of the cluster: remove them from the inventory and run scale-in.hcl -e remove_node=<address>."
    ]))
    ok = "every other oms node is serving"
  }
}

# Never the image: a new image is an upgrade (upgrade.hcl).
step "container, first node" {
  hosts = "oms"
  when  = local.replace_containers && host.name == try(sort([for name, o in steps["read existing deployment"] : name if o.exists])[0], "")
  container_run {
    with         = local.oms_container
    settle       = var.balancer_settle
    vip          = local.vip
    vip_port     = var.vip_health_port
    restore_from = try(steps["config.yaml, first node"][host.name].backup, "")
    # a re-run has no backup name: the node's last good config.yaml then
    restore      = true
    # first until the balancer can have the other nodes back (oms-balancer.hcl)
    await_balancer = try(steps["healthy since"], {})
  }
}

step "reload OMS, first node" {
  hosts = "oms"
  when = (host.name == try(sort([for name, o in steps["read existing deployment"] : name if o.exists])[0], "") &&
  (try(steps["loaded config, first node"][host.name].stale, false) || changed("config.yaml, first node")) && !changed("container, first node"))
  supervisor_restart {
    with         = local.reload
    restore_from = try(steps["config.yaml, first node"][host.name].backup, "")
    # first until the balancer can have the other nodes back (oms-balancer.hcl)
    await_balancer = try(steps["healthy since"], {})
  }
}

# The gate: the others go only when the first node went through every step
# above (a node that failed one drops out of the run and has no outputs
# here). Read-only.
step "first node done" {
  hosts = "oms"
  when  = host.name == try(sort([for name, o in steps["read existing deployment"] : name if o.exists])[0], "")
  config_loaded {
    container   = var.container_name
    config_path = local.config_path
  }
}

step "config.yaml, other nodes" {
  hosts = "oms"
  when = (try(steps["read existing deployment"][host.name].exists, false) &&
    host.name != try(sort([for name, o in steps["read existing deployment"] : name if o.exists])[0], "") &&
  can(steps["first node done"][try(sort([for name, o in steps["read existing deployment"] : name if o.exists])[0], "")]))
  render_config {
    with = local.oms_config
  }
}

step "loaded config, other nodes" {
  hosts = "oms"
  when = (try(steps["read existing deployment"][host.name].exists, false) &&
    host.name != try(sort([for name, o in steps["read existing deployment"] : name if o.exists])[0], "") &&
  can(steps["first node done"][try(sort([for name, o in steps["read existing deployment"] : name if o.exists])[0], "")]))
  config_loaded {
    container   = var.container_name
    config_path = local.config_path
  }
}

# A node that fails stops the rollout here (serial): the nodes after it have
# no outputs, so the reload below skips them too.
step "container, one node at a time" {
  hosts  = "oms"
  serial = "1"
  when   = local.replace_containers && can(steps["loaded config, other nodes"][host.name])
  container_run {
    with         = local.oms_container
    settle       = var.balancer_settle
    vip          = local.vip
    vip_port     = var.vip_health_port
    restore_from = try(steps["config.yaml, other nodes"][host.name].backup, "")
    # a re-run has no backup name: the node's last good config.yaml then
    restore      = true
    # first until the balancer can have the other nodes back (oms-balancer.hcl)
    await_balancer = try(steps["healthy since"], {})
  }
}

step "reload OMS, one node at a time" {
  hosts  = "oms"
  serial = "1"
  when = (can(steps["loaded config, other nodes"][host.name]) &&
    (!local.replace_containers || can(steps["container, one node at a time"][host.name])) &&
  (try(steps["loaded config, other nodes"][host.name].stale, false) || changed("config.yaml, other nodes")) && !changed("container, one node at a time"))
  supervisor_restart {
    with         = local.reload
    restore_from = try(steps["config.yaml, other nodes"][host.name].backup, "")
    # first until the balancer can have the other nodes back (oms-balancer.hcl)
    await_balancer = try(steps["healthy since"], {})
  }
}
