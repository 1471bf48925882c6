step "a" {
  shell {
    cmd = "ÿþ"
  }
}
