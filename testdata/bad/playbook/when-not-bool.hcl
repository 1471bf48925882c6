step "a" {
  when = host.vars.region
  shell {
    cmd = "echo"
  }
}
