step "a" {
  shell = "echo hi"
}
