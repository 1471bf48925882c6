package oms

import (
	"fmt"
	"maps"
	"path"
	"slices"
	"strings"

	"github.com/omsrun/omsrun/internal/transport"
)

// The OMS upgrade docs require the new container to use the MetaDB
// database names and the mount paths the old one used
// (docs/oms-facts.md U9): the new version migrates the databases it is
// pointed at and finds its store and logs where it is told. upgrade_check
// compares what the node runs with — the databases named in the
// config.yaml the existing container mounts, and that container's mounts —
// with what this run would give the new container, and refuses a
// difference before anything stops.

// omsConfigMount is where the OMS container reads config.yaml.
const omsConfigMount = "/home/admin/conf/config.yaml"

// layoutVar names the variable that sets each compared value, for the
// refusal's advice.
var layoutVar = map[string]string{
	"drc_rm_db":           "drc_rm_db (or db_prefix)",
	"drc_cm_db":           "drc_cm_db (or db_prefix)",
	"drc_cm_heartbeat_db": "drc_cm_heartbeat_db (or db_prefix)",
	omsConfigMount:        "config_path",
	"/home/admin/logs":    "mount_dir",
	"/home/ds/store":      "mount_dir",
	"/home/ds/run":        "mount_dir",
}

// layoutScript prints the existing container's mounts (destination=source
// per line), then the config.yaml it mounts (configPath when there is no
// container) and that file's database-name lines: only those, the rest of
// config.yaml holds passwords.
func layoutScript(name, configPath string) string {
	c := transport.Quote(name)
	return fmt.Sprintf(`docker inspect --format '{{range .Mounts}}{{.Destination}}={{.Source}}{{"\n"}}{{end}}' %s 2>/dev/null
echo %s
cfg=$(docker inspect --format '{{range .Mounts}}{{if eq .Destination "%s"}}{{.Source}}{{end}}{{end}}' %s 2>/dev/null)
[ -n "$cfg" ] || cfg=%s
echo "$cfg"
grep -E -e '^(drc_rm_db|drc_cm_db|drc_cm_heartbeat_db):' -- "$cfg" 2>/dev/null
true
`, c, upSep, omsConfigMount, c, transport.Quote(configPath))
}

// nodeLayout is what layoutScript read.
type nodeLayout struct {
	mounts     map[string]string // container path → host path
	configFile string            // the config.yaml the databases were read from
	databases  map[string]string // drc_*_db → name
}

func parseLayout(mounts, config string) nodeLayout {
	l := nodeLayout{mounts: map[string]string{}, databases: map[string]string{}}
	for _, line := range strings.Split(mounts, "\n") {
		if dst, src, ok := strings.Cut(strings.TrimSpace(line), "="); ok && dst != "" {
			l.mounts[dst] = src
		}
	}
	lines := strings.Split(strings.TrimSpace(config), "\n")
	l.configFile = strings.TrimSpace(lines[0])
	for _, line := range lines[1:] {
		k, v, ok := strings.Cut(line, ":")
		if v = strings.Trim(strings.TrimSpace(v), `'"`); ok && v != "" {
			l.databases[strings.TrimSpace(k)] = v
		}
	}
	return l
}

// layoutChanges lists every database name and mount path this run would
// change on the node, each with the node's value and the run's.
func layoutChanges(l nodeLayout, a *UpgradeCheckArgs) (changes, vars []string) {
	for _, k := range slices.Sorted(maps.Keys(a.Databases)) {
		old, want := l.databases[k], a.Databases[k]
		if old != "" && want != "" && old != want {
			changes = append(changes, fmt.Sprintf("%s is %q in the node's %s, this run says %q", k, old, l.configFile, want))
			vars = appendNew(vars, layoutVar[k])
		}
	}
	mountDir := path.Clean(a.MountDir)
	want := map[string]string{}
	for _, b := range omsBinds(a.configPath(), mountDir, "", "") {
		src, dst, _ := strings.Cut(b, ":")
		want[dst] = src
	}
	for _, dst := range []string{omsConfigMount, "/home/admin/logs", "/home/ds/store", "/home/ds/run"} {
		old, ok := l.mounts[dst]
		if ok && path.Clean(old) != path.Clean(want[dst]) {
			changes = append(changes, fmt.Sprintf("%s is mounted from %s, this run would mount %s", dst, old, want[dst]))
			v := layoutVar[dst]
			if dst == omsConfigMount && a.ConfigPath == "" {
				v = "mount_dir" // config_path is unset: mount_dir moved config.yaml
			}
			vars = appendNew(vars, v)
		}
	}
	return changes, vars
}

// layoutRefusal is upgradeState's refusal of a changed layout, or nil.
func layoutRefusal(l nodeLayout, a *UpgradeCheckArgs) error {
	changes, vars := layoutChanges(l, a)
	if len(changes) == 0 {
		return nil
	}
	return fmt.Errorf("refused before anything stops: an upgrade must keep the MetaDB database names and the mount paths the node runs with (the OMS upgrade docs, docs/oms-facts.md U9), and this run changes them: %s. Run the upgrade with the node's values (set %s as the node has them); change them, if you must, in a separate deploy.hcl run before or after the upgrade",
		strings.Join(changes, "; "), strings.Join(vars, ", "))
}

// configPath is the config.yaml this run writes: config_path, else the
// mount folder's.
func (a *UpgradeCheckArgs) configPath() string {
	if a.ConfigPath != "" {
		return a.ConfigPath
	}
	return path.Clean(a.MountDir) + "/config.yaml"
}

func appendNew(list []string, s string) []string {
	if slices.Contains(list, s) {
		return list
	}
	return append(list, s)
}
