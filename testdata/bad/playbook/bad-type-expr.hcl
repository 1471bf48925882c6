variable "nodes" {
  type = lsit(string)
}

step "a" {
  shell {
    cmd = "echo"
  }
}
