group "web" {
  host "web1" {
    address = "10.0.0.1"
  }
}
group "db" {
  host "web1" {
    address = "10.0.0.9"
  }
}
