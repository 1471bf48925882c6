step "copy" {
  copy {
    content = "hello"
  }
}
