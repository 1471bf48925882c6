host "a" {
  address = "10.0.0.1"
}
host "b" {
  address = "10.0.0.1"
}
