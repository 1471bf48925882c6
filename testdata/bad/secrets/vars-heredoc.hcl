name = "x"
oms_meta_password = <<EOT
Qb2Quebec-Ei88Fl
