replicas = "three"
ports    = ["http", 443]
