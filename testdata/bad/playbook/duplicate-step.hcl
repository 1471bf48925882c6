step "install" {
  shell {
    cmd = "echo 1"
  }
}

step "install" {
  shell {
    cmd = "echo 2"
  }
}
