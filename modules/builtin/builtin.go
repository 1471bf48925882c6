// Package builtin is the table of contents of omsrun's modules: every
// built-in module, by name, in one list. Adding a module is one line here.
package builtin

import (
	"sort"

	"github.com/omsrun/omsrun/modules"
	"github.com/omsrun/omsrun/modules/oms"
)

// all maps each module name to a constructor of a fresh instance.
var all = map[string]func() modules.Module{
	// Generic modules: any host, any job.
	"command":       func() modules.Module { return &modules.Command{} },
	"shell":         func() modules.Module { return &modules.Shell{} },
	"copy":          func() modules.Module { return &modules.Copy{} },
	"wait_for":      func() modules.Module { return &modules.WaitFor{} },
	"note":          func() modules.Module { return &modules.Note{} },
	"assert":        func() modules.Module { return &modules.Assert{} },
	"template":      func() modules.Module { return &modules.Template{} },
	"file":          func() modules.Module { return &modules.File{} },
	"fetch":         func() modules.Module { return &modules.Fetch{} },
	"container":     func() modules.Module { return &modules.Container{} },
	"influxdb_user": func() modules.Module { return &modules.InfluxDBUser{} },

	// OMS modules, in the order of a deployment.
	"preflight":          func() modules.Module { return &oms.Preflight{} },
	"metadb_check":       func() modules.Module { return &oms.MetadbCheck{} },
	"docker_load":        func() modules.Module { return oms.NewDockerLoad() },
	"mkdir_mounts":       func() modules.Module { return &oms.MkdirMounts{} },
	"render_config":      func() modules.Module { return &oms.RenderConfig{} },
	"container_info":     func() modules.Module { return &oms.ContainerInfo{} },
	"container_run":      func() modules.Module { return &oms.ContainerRun{} },
	"supervisor_restart": func() modules.Module { return &oms.SupervisorRestart{} },
	"config_loaded":      func() modules.Module { return &oms.ConfigLoaded{} },
	"healthy_since":      func() modules.Module { return &oms.HealthySince{} },
	"oms_status":         func() modules.Module { return &oms.OMSStatus{} },
	"oms_cm_ready":       func() modules.Module { return &oms.CMReady{} },
	"metadb_backup":      func() modules.Module { return &oms.MetadbBackup{} },
	"container_remove":   func() modules.Module { return &oms.ContainerRemove{} },
	"metadb_drop":        func() modules.Module { return &oms.MetadbDrop{} },
	"cm_host":            func() modules.Module { return &oms.CMHost{} },
	"upgrade_check":      func() modules.Module { return &oms.UpgradeCheck{} },
	"upgrade_marker":     func() modules.Module { return &oms.UpgradeMarker{} },
	"oms_ha_check":       func() modules.Module { return &oms.OMSHACheck{} },
	"container_stop":     func() modules.Module { return &oms.ContainerStop{} },
	"metadb_restore":     func() modules.Module { return &oms.MetadbRestore{} },
	"image_prune":        func() modules.Module { return &oms.ImagePrune{} },
}

// Lookup returns a new instance of the named module.
func Lookup(name string) (modules.Module, bool) {
	f, ok := all[name]
	if !ok {
		return nil, false
	}
	return f(), true
}

// Names lists every built-in module, sorted.
func Names() []string {
	out := make([]string, 0, len(all))
	for n := range all {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}
