package lab

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/omsrun/omsrun/internal/lab/image"
	"github.com/omsrun/omsrun/internal/transport"
)

// Lab fact files, all under the repo's git-ignored .lab folder. EnvFile is
// written last, only once the lab is fully up: its presence means "lab up".
const (
	EnvFile          = "env"
	InventoryINI     = "inventory"
	InventoryHCL     = "inventory.hcl"
	InventoryDeploy  = "inventory-deploy.hcl"
	VarsFile         = "vars.hcl"
	KeyFile          = "id_ed25519"
	KnownHostsFile   = "known_hosts"
	DefaultImageFile = "oms.tar.gz"
	// RepoInventory is a copy of InventoryINI in the repository's own
	// inventory/ folder (git-ignored), so the design card's literal command
	// `omsrun playbooks/deploy.hcl -i inventory -e @.lab/vars.hcl` deploys the lab.
	RepoInventory = "inventory/lab.ini"
)

// Database names in vars.hcl, as in the seed's example.
const (
	RMDB        = "oms_rm"
	CMDB        = "oms_cm"
	HeartbeatDB = "oms_cm_heartbeat"
)

// hcl quotes s as an HCL string literal.
func hcl(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`, "${", "$${", "%{", "%%{")
	return `"` + r.Replace(s) + `"`
}

func writeFacts(o Options, labDir string, hosts []Host, images map[string]image.Result) error {
	abs := func(name string) string { return filepath.Join(labDir, name) }
	// The private key is copied rather than linked: ssh refuses keys whose
	// path it cannot stat with safe permissions, and .lab may be shared.
	key, err := os.ReadFile(LabKey)
	if err != nil {
		return err
	}
	if err := os.WriteFile(abs(KeyFile), key, 0o600); err != nil {
		return err
	}
	pub, err := os.ReadFile(LabKey + ".pub")
	if err != nil {
		return err
	}
	if err := os.WriteFile(abs(KeyFile+".pub"), pub, 0o644); err != nil {
		return err
	}

	var kh strings.Builder
	for _, h := range hosts {
		lines, err := hostKnownHosts(h)
		if err != nil {
			return err
		}
		kh.WriteString(lines)
	}

	var ini strings.Builder
	ini.WriteString("# omslab: the lab hosts (Ansible INI)\n[oms]\n")
	for _, h := range hosts {
		fmt.Fprintf(&ini, "%s ansible_host=%s\n", h.Name, h.Address)
	}
	// Ansible has no variable for a known_hosts file; its users pass the
	// ssh option, which is what this line does.
	fmt.Fprintf(&ini, "\n[all:vars]\nansible_user=root\nansible_ssh_private_key_file=%s\nansible_ssh_common_args='-o UserKnownHostsFile=%s'\n",
		abs(KeyFile), abs(KnownHostsFile))

	inv := func(defaults string) string {
		var b strings.Builder
		b.WriteString("# omslab: the lab hosts\ndefaults {\n" + defaults + "}\n\ngroup \"oms\" {\n")
		for _, h := range hosts {
			fmt.Fprintf(&b, "  host %q { address = %q }\n", h.Name, h.Address)
		}
		b.WriteString("}\n")
		return b.String()
	}
	rootDefaults := fmt.Sprintf("  user             = \"root\"\n  key_file         = %s\n  known_hosts_file = %s\n",
		hcl(abs(KeyFile)), hcl(abs(KnownHostsFile)))
	deployDefaults := fmt.Sprintf("  user             = %s\n  password         = %s\n  become           = true\n  become_password  = %s\n  known_hosts_file = %s\n",
		hcl(DeployUser), hcl(DeployPassword), hcl(DeployPassword), hcl(abs(KnownHostsFile)))

	var nodes []string
	for _, h := range hosts {
		nodes = append(nodes, hcl(h.Address))
	}
	vars := fmt.Sprintf(`# omslab: values for every variable of playbooks/deploy.hcl on this lab
image          = %s
image_file     = %s
mount_dir      = "/data/oms"
container_name = "oms"
min_free_gb    = 1 # the lab's /data is a small tmpfs; real nodes want 50

oms_meta_host     = %s
oms_meta_port     = %d
oms_meta_user     = %s
oms_meta_password = %s

drc_rm_db           = %s
drc_cm_db           = %s
drc_cm_heartbeat_db = %s

cm_url        = %s
cm_location   = 100
cm_region     = "cn-anhui"
cm_region_cn  = "cn-anhui"
cm_is_default = true
cm_nodes      = [%s]

tsdb_enabled  = true
tsdb_service  = "INFLUXDB"
tsdb_url      = %s
tsdb_username = %s
tsdb_password = %s

# Not set on the lab: https_crt, https_key (no SSL), db_prefix (the names above win), config_path.
`, hcl(Variants[0].RepoTag), hcl(abs(DefaultImageFile)), hcl(Controller), MetaPort, hcl(MetaUser), hcl(MetaPassword),
		hcl(RMDB), hcl(CMDB), hcl(HeartbeatDB), hcl("http://"+VIP+":8088"), strings.Join(nodes, ", "),
		hcl(fmt.Sprintf("%s:%d", Controller, TSDBPort)), hcl(TSDBUser), hcl(TSDBPassword))

	files := map[string]string{
		KnownHostsFile:  kh.String(),
		InventoryINI:    ini.String(),
		InventoryHCL:    inv(rootDefaults),
		InventoryDeploy: inv(deployDefaults),
		VarsFile:        vars,
	}
	for name, content := range files {
		if err := os.WriteFile(abs(name), []byte(content), 0o644); err != nil {
			return err
		}
	}
	if err := os.WriteFile(filepath.Join(filepath.Dir(labDir), RepoInventory), []byte(ini.String()), 0o644); err != nil {
		return err
	}
	return writeEnv(o, labDir, hosts, images)
}

// writeEnv writes .lab/env: KEY='value' lines, sourceable by sh and parsed
// by labtest.
func writeEnv(o Options, labDir string, hosts []Host, images map[string]image.Result) error {
	var b strings.Builder
	set := func(k, v string) { fmt.Fprintf(&b, "%s=%s\n", k, transport.Quote(v)) }
	b.WriteString("# omslab: facts of the running lab (written last by lab-up, removed by lab-down)\n")
	set("LAB_DIR", labDir)
	set("LAB_STATE", StateDir)
	set("LAB_SUBNET", Subnet)
	set("LAB_CONTROLLER", Controller)
	set("LAB_BRIDGE", Bridge)
	set("LAB_DOCKER", map[bool]string{true: "1", false: "0"}[o.Docker])
	var names []string
	for _, h := range hosts {
		names = append(names, h.Name)
	}
	set("LAB_HOSTS", strings.Join(names, " "))
	set("LAB_HOST_COUNT", strconv.Itoa(len(hosts)))
	for _, h := range hosts {
		set(fmt.Sprintf("LAB_HOST_%d", h.Index), h.Address)
		set(fmt.Sprintf("LAB_HOST_%d_NAME", h.Index), h.Name)
	}
	set("LAB_VIP", VIP)
	set("LAB_CM_URL", "http://"+VIP+":8088")
	set("LAB_META_HOST", Controller)
	set("LAB_META_PORT", strconv.Itoa(MetaPort))
	set("LAB_META_USER", MetaUser)
	set("LAB_META_PASSWORD", MetaPassword)
	set("LAB_TSDB_URL", TSDBURL)
	set("LAB_TSDB_USER", TSDBUser)
	set("LAB_TSDB_PASSWORD", TSDBPassword)
	set("LAB_KEY", filepath.Join(labDir, KeyFile))
	set("LAB_KNOWN_HOSTS", filepath.Join(labDir, KnownHostsFile))
	set("LAB_INVENTORY", filepath.Join(labDir, InventoryINI))
	set("LAB_INVENTORY_HCL", filepath.Join(labDir, InventoryHCL))
	set("LAB_INVENTORY_DEPLOY", filepath.Join(labDir, InventoryDeploy))
	set("LAB_VARS", filepath.Join(labDir, VarsFile))
	set("LAB_DEPLOY_USER", DeployUser)
	set("LAB_DEPLOY_PASSWORD", DeployPassword)
	set("LAB_IMAGE", Variants[0].RepoTag)
	set("LAB_IMAGE_FILE", filepath.Join(labDir, DefaultImageFile))
	set("LAB_IMAGE_ID", images["v1"].ID)
	set("LAB_IMAGE_MB", strconv.Itoa(o.ImageMB))
	for _, v := range Variants {
		k := "LAB_IMAGE_" + strings.ToUpper(strings.ReplaceAll(v.Name, "-", "_"))
		set(k, v.RepoTag)
		set(k+"_FILE", ImageFile(labDir, v.Name))
		set(k+"_ID", images[v.Name].ID)
	}
	for _, d := range DebianImages {
		k := "LAB_" + strings.ToUpper(d.Name) + "_IMAGE"
		set(k, d.RepoTag)
		set(k+"_FILE", DebianImageFile(labDir, d.Name))
		set(k+"_ID", images[d.Name].ID)
	}
	set("LAB_KEEPALIVED_VIP", KeepalivedVIP)
	// Only a two-region lab names its regions, so the default lab's facts
	// stay as they were.
	if o.Regions > 1 {
		set("LAB_REGIONS", strconv.Itoa(o.Regions))
		for i, hs := range RegionHosts(hosts, o.Regions) {
			var names []string
			for _, h := range hs {
				names = append(names, h.Name)
			}
			set(fmt.Sprintf("LAB_REGION_%d_HOSTS", i+1), strings.Join(names, " "))
		}
		set("LAB_VIP_2", VIP2)
		set("LAB_CM_URL_2", "http://"+VIP2+":8088")
	}
	tmp := filepath.Join(labDir, EnvFile+".tmp")
	if err := os.WriteFile(tmp, []byte(b.String()), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(labDir, EnvFile))
}

// labRegions is the number of regions of the lab whose facts are env.
func labRegions(env map[string]string) int {
	if env["LAB_REGIONS"] == "2" {
		return 2
	}
	return 1
}

// ReadEnv parses a .lab/env file written by writeEnv.
func ReadEnv(file string) (map[string]string, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	env := map[string]string{}
	for _, line := range strings.Split(string(data), "\n") {
		k, v, ok := strings.Cut(line, "=")
		if !ok || strings.HasPrefix(line, "#") {
			continue
		}
		env[k] = unshq(v)
	}
	return env, nil
}

// unshq reverses transport.Quote: bare characters, '...' segments,
// and the "'" or \' that put a single quote between them.
func unshq(s string) string {
	var b strings.Builder
	for len(s) > 0 {
		switch {
		case s[0] == '"':
			end := strings.IndexByte(s[1:], '"')
			if end < 0 {
				b.WriteString(s[1:])
				return b.String()
			}
			b.WriteString(s[1 : 1+end])
			s = s[2+end:]
		case s[0] == '\'':
			end := strings.IndexByte(s[1:], '\'')
			if end < 0 {
				b.WriteString(s[1:])
				return b.String()
			}
			b.WriteString(s[1 : 1+end])
			s = s[2+end:]
		case strings.HasPrefix(s, `\'`):
			b.WriteByte('\'')
			s = s[2:]
		default:
			b.WriteByte(s[0])
			s = s[1:]
		}
	}
	return b.String()
}
