step "copy" {
  copy {
    dest = "/etc/motd"
    mode = "rw-r--r--"
  }
}
