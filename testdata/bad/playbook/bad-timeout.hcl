step "a" {
  timeout = "30 seconds"
  retries = -1
  serial  = "150%"
  shell {
    cmd = "echo"
  }
}
