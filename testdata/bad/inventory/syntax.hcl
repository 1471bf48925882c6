group "web" {
  host "web1" {
    address = "10.0.0.1"
  
}
