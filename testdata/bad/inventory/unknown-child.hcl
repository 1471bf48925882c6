group "web" {
  host "web1" {}
}
group "app" {
  children = ["web", "wbe"]
}
