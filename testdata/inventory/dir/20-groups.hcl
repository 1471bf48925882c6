# A directory is the union of its files: this one adds a group around the
# INI file's hosts and a host of its own.
group "cluster" {
  children = ["oms"]
  vars     = { cluster_name = "lab" }
}

host "oms3" {
  address = "127.0.0.1"
  port    = 2203
}
