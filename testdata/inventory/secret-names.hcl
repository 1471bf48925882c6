# Inventories have no `sensitive` flag: variables named like secrets
# (…password, …passwd, …_pass, …secret, …token) are marked by their name.
group "tsdb" {
  vars = { tsdb_password = "Tsdb-Secret-1", tsdb_user = "root" }
  host "tsdb1" {
    address = "10.0.3.30"
    vars    = { api_token = "tok-abcdef", client_secret = "cs-1", token_count = 3 }
  }
}
