host "web1" {
  address = "10.0.0.1"
  port    = 22.5
}
