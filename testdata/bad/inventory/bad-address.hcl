host "web1" {
  address = "exa mple.com"
}
