playbook {
  max_fail_percentage = 150
  any_erors_fatal     = true
}

step "a" {
  shell {
    cmd = "echo"
  }
}
