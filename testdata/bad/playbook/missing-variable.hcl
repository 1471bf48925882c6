variable "metadb_password" {
  type      = string
  sensitive = true
}

step "a" {
  shell {
    cmd = "echo"
  }
}
