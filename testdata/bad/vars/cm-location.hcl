cm_location = 128
