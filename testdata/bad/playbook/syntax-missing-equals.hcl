step "a" {
  shell {
    cmd "echo hi"
  }
}
