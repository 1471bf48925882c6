stpe "a" {
  shell {
    cmd = "echo"
  }
}
