# Inventory written by `omsrun init`: the OMS nodes and how to log on to them.
defaults {
  user             = "admin"
  known_hosts_file = "/etc/oms/known_hosts"
  become           = true
}

group "oms" {
  host "oms1" {
    address = "10.0.0.2"
  }
  host "oms2" {
    address = "10.0.0.3"
  }
}
