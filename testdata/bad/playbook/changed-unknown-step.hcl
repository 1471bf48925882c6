step "render" {
  shell {
    cmd = "echo"
  }
}

step "restart" {
  when = changed("rendr")
  shell {
    cmd = "echo"
  }
}
