tags  = { env = "lab", team = "dba" }
token = "tok-123456"
name  = "from-var-file"  # after -e name=…, so this wins
