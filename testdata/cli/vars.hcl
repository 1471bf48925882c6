# Variables for validating the shipped playbooks against testdata/inventory/lab.hcl.
oms_meta_host     = "10.0.0.5"
oms_meta_port     = 2883
oms_meta_user     = "root@oms_tenant#obcluster"
oms_meta_password = "not-a-real-password"
cm_url            = "http://10.0.0.100:8088"
image             = "oms:feature_4.2.5-ce"
