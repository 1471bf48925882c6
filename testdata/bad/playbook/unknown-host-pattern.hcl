step "a" {
  hosts = "oms,!omz3"
  shell {
    cmd = "echo"
  }
}
