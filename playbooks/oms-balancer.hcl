# Include-only: right before a rolling step, read on every node since when
# its OMS has been healthy and so by when the load balancer can have it back
# in rotation (balancer_settle after that). The step that takes the first
# node out of service waits for the other nodes' readings first
# (await_balancer = steps["healthy since"]): a node started moments ago, by
# an earlier run or by deploy's start of new nodes (which does not settle),
# is then back in rotation before another goes down. A step that restarts
# nothing waits for nothing; --check only says what it would wait.
# Shared by deploy.hcl, reconfigure.hcl and scale-in.hcl.

step "healthy since" {
  hosts = "oms"
  healthy_since {
    container   = var.container_name
    config_path = local.config_path
    settle      = var.balancer_settle
    health_port = local.nginx_port
  }
}
