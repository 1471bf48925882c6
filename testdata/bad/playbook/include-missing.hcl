include "shared/missing-vars.hcl" {}

step "a" {
  shell { cmd = "echo" }
}
