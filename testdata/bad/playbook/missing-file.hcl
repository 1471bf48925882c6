step "a" {
  copy {
    dest    = "/etc/oms.yaml"
    content = file("files/does-not-exist.yaml")
  }
}
