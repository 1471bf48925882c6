package lab

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// capNames are the Linux capabilities by number, as OCI specs name them.
var capNames = []string{
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL",
	"CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE",
	"CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE",
	"CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT",
	"CAP_SYS_NICE", "CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE",
	"CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG",
	"CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
}

// missingCaps lists the capabilities runc knows but this machine's
// bounding set lacks. Some VMs drop CAP_SYS_RESOURCE; `docker run
// --privileged` (the documented OMS flags) then fails with "unable to apply
// caps: operation not permitted".
func missingCaps() []string {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return nil
	}
	for _, line := range strings.Split(string(b), "\n") {
		v, ok := strings.CutPrefix(line, "CapBnd:")
		if !ok {
			continue
		}
		mask, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
		if err != nil {
			return nil
		}
		var out []string
		for i, name := range capNames {
			if mask&(1<<uint(i)) == 0 {
				out = append(out, name)
			}
		}
		return out
	}
	return nil
}

// runtimeWrapper is the path of the runc wrapper, when this machine needs one.
var runtimeWrapper = filepath.Join(RunDir, "runc-omslab")

// writeRuntimeWrapper installs a runc wrapper that removes the missing
// capabilities from the container and exec specs before runc sees them;
// returns "" when the machine has every capability and plain runc works.
func writeRuntimeWrapper() (string, error) {
	caps := missingCaps()
	if len(caps) == 0 {
		return "", nil
	}
	var sed []string
	for _, c := range caps {
		sed = append(sed, fmt.Sprintf(`-e 's/"%[1]s",//g' -e 's/,"%[1]s"//g' -e 's/"%[1]s"//g'`, c))
	}
	script := fmt.Sprintf(`#!/bin/sh
# omslab: runc minus the capabilities this machine's bounding set lacks (%s)
prev=
for a in "$@"; do
  case "$prev" in --bundle|-b) [ -f "$a/config.json" ] && sed -i %s "$a/config.json" ;; --process|-p) [ -f "$a" ] && sed -i %s "$a" ;; esac
  case "$a" in --bundle=*) f="${a#--bundle=}/config.json"; [ -f "$f" ] && sed -i %s "$f" ;; --process=*) f="${a#--process=}"; [ -f "$f" ] && sed -i %s "$f" ;; esac
  prev=$a
done
exec runc "$@"
`, strings.Join(caps, " "), strings.Join(sed, " "), strings.Join(sed, " "), strings.Join(sed, " "), strings.Join(sed, " "))
	if err := os.MkdirAll(RunDir, 0o755); err != nil {
		return "", err
	}
	return runtimeWrapper, os.WriteFile(runtimeWrapper, []byte(script), 0o755)
}
