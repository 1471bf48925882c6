defaults {
  become = "perhaps"
}
host "web1" {}
