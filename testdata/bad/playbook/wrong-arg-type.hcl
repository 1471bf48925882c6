step "wait" {
  wait_for {
    port = "http"
  }
}
