// Command oms-standin is the lab's stand-in for the OceanBase Migration
// Service CE container: the behaviours omsrun relies on (config.yaml
// validation, MetaDB init with a start-up delay, the five ports with health
// on the nginx port only, supervisorctl, the init-config-file script)
// without the real product.
//
// It is one static binary installed under several names, like busybox:
// oms-standin (the container's command, a tiny supervisord), supervisorctl
// and python (for `python -m omsflow.scripts.units.oms_init_manager`).
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// paths holds every location the stand-in touches. OMS_STANDIN_ROOT
// prefixes them all so the program can run outside a container in tests.
type paths struct {
	config  string
	logDir  string
	socket  string
	version string
	delay   string // the start-up delay, written by the lab under the mount folder
}

func defaultPaths() paths {
	root := os.Getenv("OMS_STANDIN_ROOT")
	return paths{
		config:  filepath.Join(root, "/home/admin/conf/config.yaml"),
		logDir:  filepath.Join(root, "/home/admin/logs"),
		socket:  filepath.Join(root, "/run/oms-supervisor.sock"),
		version: filepath.Join(root, "/etc/oms-standin/version"),
		delay:   filepath.Join(root, DelayFile),
	}
}

func main() {
	p := defaultPaths()
	switch name := filepath.Base(os.Args[0]); name {
	case "supervisorctl":
		os.Exit(ctlMain(p, os.Args[1:]))
	case "python", "python3":
		os.Exit(pythonMain(p, os.Args[1:]))
	default:
		os.Exit(superviseMain(p))
	}
}

// DelayFile is where the stand-in reads its start-up delay inside the
// container: the run folder, mounted from <mount_dir>/run on the host.
const DelayFile = "/home/ds/run/omslab-startup-delay"

// initModule is the only python module the stand-in understands; the seed's
// reconfiguration runs it before `supervisorctl restart`.
const initModule = "omsflow.scripts.units.oms_init_manager"

// pythonMain validates config.yaml the way the real init-config-file step
// does, leaving a docker_init log either way; the running services pick the
// file up on the next supervisorctl restart.
func pythonMain(p paths, args []string) int {
	if len(args) < 3 || args[0] != "-m" || args[1] != initModule || args[2] != "--init-config-file" {
		fmt.Fprintf(os.Stderr, "stand-in python: only `python -m %s --init-config-file` is supported, got %q\n", initModule, strings.Join(args, " "))
		return 2
	}
	lg := newInitLog(p.logDir)
	defer lg.close()
	cfg, err := loadConfig(p.config)
	if err != nil {
		lg.errorf("init config file failed: %v", err)
		return 1
	}
	if err := checkHostIP(cfg); err != nil {
		lg.errorf("init config file failed: %v", err)
		return 1
	}
	lg.infof("init config file success: %s", p.config)
	return 0
}
