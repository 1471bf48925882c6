step "a" {
  shell {
    cmd = "echo"
  }
  command {
    argv = ["true"]
  }
}
