step "a" {
  when = hots.vars.primary
  shell {
    cmd = "echo"
  }
}
