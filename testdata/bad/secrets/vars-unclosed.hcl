oms_meta_password = "Bq8Bravo-Ux22Lm
name = "x"
