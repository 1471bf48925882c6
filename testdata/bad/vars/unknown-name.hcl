nmae     = "oms"
replicas = 2
