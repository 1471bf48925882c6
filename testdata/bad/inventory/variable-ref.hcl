host "web1" {
  address = var.web_address
}
