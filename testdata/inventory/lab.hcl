# The inventory the playbook tests run against: three OMS nodes in two
# regions, a MetaDB host, and defaults shared by all.
defaults {
  user     = "omsadm"
  port     = 22
  key_file = "~/.ssh/id_ed25519"
  become   = true
  vars = {
    oms_version = "4.2.5"
    region      = "cn-hangzhou"
  }
}

group "oms" {
  children = ["oms_hz", "oms_sh"]
  vars = {
    cm_port = 8088
    region  = "oms-default"
  }
}

group "oms_hz" {
  vars = { region = "cn-hangzhou" }
  host "oms1" {
    address = "10.0.0.11"
    vars    = { cm_nodes_index = 1 }
  }
  host "oms2" {
    address = "10.0.0.12"
    port    = 2222
  }
}

group "oms_sh" {
  vars = { region = "cn-shanghai" }
  host "oms3" {
    address         = "10.0.1.13"
    user            = "root"
    become          = false
    password        = "s3cret-pw"
    become_password = "s3cret-sudo"
  }
}

group "metadb" {
  host "meta1" {
    address = "10.0.2.20"
    vars = {
      mysql_port = 2881
      region     = "host-wins"
    }
  }
}
