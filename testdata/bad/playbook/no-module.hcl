step "a" {
  hosts = "all"
}
