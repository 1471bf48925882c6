step "run" {
  shell {
    cmd  = "echo"
    cdir = "/tmp"
  }
}
