name = "x"
oms_meta_password = Qx7Alpha Zr91Vw3k
