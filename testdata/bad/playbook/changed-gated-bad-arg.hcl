# The second step runs only after the first changed something; validation
# must still decode its module block and find the wrong argument.
step "render" {
  copy {
    dest    = "/etc/oms.yaml"
    content = "x"
  }
}

step "restart" {
  when = changed("render")
  shell {
    command = "docker restart oms"
  }
}
