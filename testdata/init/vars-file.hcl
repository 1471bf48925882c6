# Variables for playbooks/deploy.hcl, written by `omsrun init`.
# MetaDB
oms_meta_host     = "10.0.0.1"
oms_meta_port     = 3306
oms_meta_user     = "oms@tenant#cluster"
oms_meta_password = "pa\"ss $${x} %%{y}"
db_prefix         = "oms"
# The databases existed when init ran, and you chose to continue with them.
allow_existing_databases = true

# CM
cm_url   = "http://10.0.0.100:8088"
cm_nodes = ["10.0.0.2", "10.0.0.3"]

# Time-series database
tsdb_enabled  = true
tsdb_service  = "INFLUXDB"
tsdb_url      = "10.0.0.5:8086"
tsdb_username = "oms"
tsdb_password = "********"

# Audit logs to SLS (the apsara_audit_sls_* keys of config.yaml)
apsara_audit_sls_endpoint        = "cn-hangzhou.log.aliyuncs.com"
apsara_audit_sls_ops_site_topic  = "oms-ops"
apsara_audit_sls_user_site_topic = "oms-user"
apsara_audit_sls_access_key      = "LTAI5tExampleKeyID"
apsara_audit_sls_access_secret   = "sls-sk-1"

# Image and nodes
image      = "oms:feature_4.2.5-ce"
image_file = "/srv/pkgs/oms 4.2.5.tar.gz"
mount_dir  = "/data/oms"
https_crt  = "/etc/oms/oms.crt"
https_key  = "/etc/oms/oms.key"
