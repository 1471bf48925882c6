group "a" {
  children = ["b"]
  host "h1" {}
}
group "b" {
  children = ["a"]
}
