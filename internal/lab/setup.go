package lab

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
)

// deps maps a program the lab runs to the Debian package that provides it.
var deps = []struct{ bin, pkg string }{
	{"sshd", "openssh-server"}, {"ssh-keygen", "openssh-client"}, {"sudo", "sudo"},
	{"dockerd", "docker.io"}, {"mariadbd", "mariadb-server"}, {"mariadb", "mariadb-client"},
	{"ip", "iproute2"}, {"influxd", "influxdb"}, {"haproxy", "haproxy"},
	{"busybox", "busybox-static"}, {"unshare", "util-linux"}, {"nsenter", "util-linux"},
}

// EnsureDeps installs the Debian packages whose programs are missing. The
// packages' own services are kept from starting (policy-rc.d): a system
// dockerd would set the FORWARD policy to DROP, and a system influxd would
// take port 8086 on every address.
func EnsureDeps(log io.Writer) error {
	var missing []string
	seen := map[string]bool{}
	for _, d := range deps {
		if _, err := exec.LookPath(d.bin); err != nil && !seen[d.pkg] {
			missing = append(missing, d.pkg)
			seen[d.pkg] = true
		}
	}
	if len(missing) == 0 {
		return nil
	}
	fmt.Fprintf(log, "installing %s\n", strings.Join(missing, " "))
	const policy = "/usr/sbin/policy-rc.d"
	if _, err := os.Stat(policy); errors.Is(err, os.ErrNotExist) {
		if err := os.WriteFile(policy, []byte("#!/bin/sh\n# omslab: keep package services from starting during install\nexit 101\n"), 0o755); err == nil {
			defer os.Remove(policy)
		}
	}
	install := func() error {
		cmd := exec.Command("apt-get", append([]string{"install", "-y", "--no-install-recommends"}, missing...)...)
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		cmd.Stdout, cmd.Stderr = log, log
		return cmd.Run()
	}
	if err := install(); err != nil {
		if _, uerr := run("apt-get", "update"); uerr != nil {
			return fmt.Errorf("apt-get update: %w", uerr)
		}
		if err := install(); err != nil {
			return fmt.Errorf("apt-get install %s: %w", strings.Join(missing, " "), err)
		}
	}
	return nil
}

// ensureUsers creates the non-root user (shared /etc, private homes) and
// its sudo rule, which asks for the user's password.
func ensureUsers() error {
	if _, err := run("id", DeployUser); err != nil {
		if _, err := run("useradd", "-M", "-d", "/home/"+DeployUser, "-s", "/bin/bash", DeployUser); err != nil {
			return err
		}
	}
	if _, err := runIn(context.Background(), []byte(DeployUser+":"+DeployPassword+"\n"), "chpasswd"); err != nil {
		return err
	}
	rule := "# omslab: the lab's non-root user; sudo asks for its password\n" +
		"Defaults:" + DeployUser + " lecture=never\n" + DeployUser + " ALL=(ALL:ALL) ALL\n"
	return os.WriteFile("/etc/sudoers.d/omslab", []byte(rule), 0o440)
}

// ensureLabKey creates the lab's SSH key once.
func ensureLabKey() error {
	if _, err := os.Stat(LabKey); err == nil {
		return nil
	}
	os.Remove(LabKey + ".pub")
	_, err := run("ssh-keygen", "-q", "-N", "", "-t", "ed25519", "-C", "omslab", "-f", LabKey)
	return err
}
