step "a" {
  host = "oms"
  shell {
    cmd = "echo"
  }
}
