locals {
  me = host.name
}

step "a" {
  shell {
    cmd = local.me
  }
}
