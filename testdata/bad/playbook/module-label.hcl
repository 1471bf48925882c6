step "a" {
  shell "x" {
    cmd = "echo"
  }
}
