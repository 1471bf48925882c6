variable "x" {
  type    = string
  default = "y"
}
