step "a" {
  hosts = "oms"
  shell {
    cmd = "echo ${host.vars.cm_nodes_index}"
  }
}
