grup "web" {
  host "web1" {}
}
