host "web1" {
  adress = "10.0.0.1"
}
