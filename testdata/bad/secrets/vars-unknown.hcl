some_api_token = "Ev5Echo-Rk55Wb"
nmae = "x"
