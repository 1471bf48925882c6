name = "oms
replicas = 2
