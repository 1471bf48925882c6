step "hello" {
  shell {
    cmd = "echo hello from ${host.name}"
  }
}
