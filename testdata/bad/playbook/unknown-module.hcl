step "a" {
  shel {
    cmd = "echo"
  }
}
