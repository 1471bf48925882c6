host "web1" {
  vars = ["a", "b"]
}
