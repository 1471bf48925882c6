step "read existing deployment" {
  shell { cmd = "true" }
}

step "start" {
  when  = !steps["read existing deploymnt"][host.name].exists
  shell { cmd = "echo ${steps.after[host.name].stdout}" }
}

step "after" {
  shell { cmd = "true" }
}
