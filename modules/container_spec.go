package modules

import (
	"encoding/json"
	"fmt"
	"maps"
	"net"
	"slices"
	"strconv"
	"strings"

	"github.com/omsrun/omsrun/internal/transport"
)

// Inspected is the part of `docker inspect` the container module compares,
// exported for the modules that layer on it (container_run).
type Inspected struct {
	ID    string `json:"Id"`
	Image string `json:"Image"`
	State struct {
		Status   string `json:"Status"`
		Running  bool   `json:"Running"`
		ExitCode int    `json:"ExitCode"`
	} `json:"State"`
	Config struct {
		Env []string `json:"Env"`
		Cmd []string `json:"Cmd"`
	} `json:"Config"`
	HostConfig struct {
		Binds         []string                 `json:"Binds"`
		NetworkMode   string                   `json:"NetworkMode"`
		CapAdd        []string                 `json:"CapAdd"`
		Privileged    bool                     `json:"Privileged"`
		Ulimits       []Ulimit                 `json:"Ulimits"`
		PortBindings  map[string][]portBinding `json:"PortBindings"`
		RestartPolicy struct {
			Name              string `json:"Name"`
			MaximumRetryCount int    `json:"MaximumRetryCount"`
		} `json:"RestartPolicy"`
	} `json:"HostConfig"`
}

// Ulimit is one --ulimit of a container.
type Ulimit struct {
	Name string `json:"Name"`
	Soft int64  `json:"Soft"`
	Hard int64  `json:"Hard"`
}

// String is the --ulimit spelling, name=soft:hard.
func (u Ulimit) String() string { return fmt.Sprintf("%s=%d:%d", u.Name, u.Soft, u.Hard) }

// portBinding is one host side of a published port.
type portBinding struct {
	HostIP   string `json:"HostIp"`
	HostPort string `json:"HostPort"`
}

// ParseInspected reads `docker inspect` output: an array of zero or one
// container; nil when there is none.
func ParseInspected(out string) (*Inspected, error) {
	out = strings.TrimSpace(out)
	if out == "" || out == "[]" {
		return nil, nil
	}
	var cs []Inspected
	if err := json.Unmarshal([]byte(out), &cs); err != nil {
		return nil, fmt.Errorf("docker inspect: unexpected answer: %w", err)
	}
	if len(cs) == 0 {
		return nil, nil
	}
	return &cs[0], nil
}

// publish is one parsed port: [ip:]hostPort:containerPort[/proto].
type publish struct {
	ip, host, container, proto string
}

// parsePort reads one entry of ports.
func parsePort(s string) (publish, error) {
	var p publish
	spec, proto, hasProto := strings.Cut(s, "/")
	p.proto = "tcp"
	if hasProto {
		if proto != "tcp" && proto != "udp" && proto != "sctp" {
			return p, fmt.Errorf("ports: %q: protocol must be tcp, udp or sctp", s)
		}
		p.proto = proto
	}
	i := strings.LastIndex(spec, ":")
	if i < 0 {
		return p, fmt.Errorf("ports: %q must be host_port:container_port or ip:host_port:container_port", s)
	}
	p.container = spec[i+1:]
	rest := spec[:i]
	if j := strings.LastIndex(rest, ":"); j >= 0 {
		p.ip, p.host = strings.Trim(rest[:j], "[]"), rest[j+1:]
		if net.ParseIP(p.ip) == nil {
			return p, fmt.Errorf("ports: %q: %q is not an IP address", s, p.ip)
		}
	} else {
		p.host = rest
	}
	for _, n := range []string{p.host, p.container} {
		if v, err := strconv.Atoi(n); err != nil || v < 1 || v > 65535 || n != strconv.Itoa(v) {
			return p, fmt.Errorf("ports: %q: %q is not a port number", s, n)
		}
	}
	return p, nil
}

// normCap spells a capability the way the daemon may report it (CAP_NET_ADMIN).
func normCap(c string) string {
	c = strings.ToUpper(c)
	if !strings.HasPrefix(c, "CAP_") {
		c = "CAP_" + c
	}
	return c
}

// Differences lists, in words for the plan, what keeps c from matching a.
// Only what the arguments set is compared: the image's own environment and
// docker's defaults are not differences. Neither are -i/-t (tty) and
// pids_limit: they change no behaviour a plan should recreate a container
// for, and docker reports an unlimited pids limit as null, 0 or -1.
func (a *ContainerArgs) Differences(c *Inspected, imageID string) []string {
	var d []string
	if imageID != "" && c.Image != imageID {
		d = append(d, fmt.Sprintf("image %s → %s", shortID(c.Image), shortID(imageID)))
	}
	env := map[string]string{}
	for _, kv := range c.Config.Env {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	for _, k := range slices.Sorted(maps.Keys(a.Env)) {
		if old, ok := env[k]; !ok {
			d = append(d, "env "+k+" unset")
		} else if old != a.Env[k] {
			// Values are not shown: they may be passwords.
			d = append(d, "env "+k+" differs")
		}
	}
	have := map[string]bool{}
	for _, b := range c.HostConfig.Binds {
		have[strings.TrimSuffix(strings.TrimSuffix(b, ":z"), ":rw")] = true
	}
	want := map[string]bool{}
	for _, b := range a.Mounts {
		want[strings.TrimSuffix(b, ":rw")] = true
	}
	d = append(d, setDiff("mount", want, have)...)
	netMode := c.HostConfig.NetworkMode
	if netMode == "default" {
		netMode = "bridge"
	}
	if a.network() != netMode {
		d = append(d, "network "+netMode+" → "+a.network())
	}
	haveCaps, wantCaps := map[string]bool{}, map[string]bool{}
	for _, x := range c.HostConfig.CapAdd {
		haveCaps[normCap(x)] = true
	}
	for _, x := range a.CapAdd {
		wantCaps[normCap(x)] = true
	}
	d = append(d, setDiff("capability", wantCaps, haveCaps)...)
	if c.HostConfig.Privileged != a.Privileged {
		d = append(d, map[bool]string{true: "not privileged", false: "privileged"}[a.Privileged])
	}
	haveUlimits, wantUlimits := map[string]bool{}, map[string]bool{}
	for _, u := range c.HostConfig.Ulimits {
		haveUlimits[u.String()] = true
	}
	for _, u := range a.Ulimits {
		if _, soft, _ := strings.Cut(u, "="); !strings.Contains(soft, ":") {
			u += ":" + soft // docker sets the hard limit to the soft one
		}
		wantUlimits[u] = true
	}
	d = append(d, setDiff("ulimit", wantUlimits, haveUlimits)...)
	havePorts, wantPorts := map[string]bool{}, map[string]bool{}
	for k, bs := range c.HostConfig.PortBindings {
		for _, b := range bs {
			havePorts[b.HostIP+"|"+b.HostPort+"|"+k] = true
		}
	}
	for _, s := range a.Ports {
		p, _ := parsePort(s)
		wantPorts[p.ip+"|"+p.host+"|"+p.container+"/"+p.proto] = true
	}
	d = append(d, setDiff("port", wantPorts, havePorts)...)
	if r := c.HostConfig.RestartPolicy; a.restart() != restartText(r.Name, r.MaximumRetryCount) {
		d = append(d, "restart "+restartText(r.Name, r.MaximumRetryCount)+" → "+a.restart())
	}
	if a.Command != nil && strings.Join(c.Config.Cmd, "\x00") != strings.Join(a.Command, "\x00") {
		d = append(d, "command differs")
	}
	return d
}

// setDiff names what want has and have lacks, and the reverse.
func setDiff(what string, want, have map[string]bool) []string {
	var d []string
	for _, k := range slices.Sorted(maps.Keys(want)) {
		if !have[k] {
			d = append(d, what+" "+strings.ReplaceAll(k, "|", " ")+" missing")
		}
	}
	for _, k := range slices.Sorted(maps.Keys(have)) {
		if !want[k] {
			d = append(d, "extra "+what+" "+strings.ReplaceAll(k, "|", " "))
		}
	}
	return d
}

func restartText(name string, n int) string {
	if name == "" {
		name = "no"
	}
	if name == "on-failure" && n > 0 {
		return name + ":" + strconv.Itoa(n)
	}
	return name
}

// shortID shortens an image ID for messages.
func shortID(id string) string {
	id = strings.TrimPrefix(id, "sha256:")
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

// RunArgv is the docker run command line; the environment goes on stdin
// (EnvFile), never in an argument, since it often holds passwords.
func (a *ContainerArgs) RunArgv() []string {
	argv := []string{"docker", "run", "-d"}
	if a.TTY {
		argv = append(argv, "-it")
	}
	argv = append(argv, "--name", a.Name, "--restart", a.restart())
	if a.Network != "" {
		argv = append(argv, "--network", a.Network)
	}
	for _, p := range a.Ports {
		argv = append(argv, "-p", p)
	}
	for _, m := range a.Mounts {
		argv = append(argv, "-v", m)
	}
	for _, c := range a.CapAdd {
		argv = append(argv, "--cap-add", c)
	}
	if a.Privileged {
		argv = append(argv, "--privileged")
	}
	if a.PidsLimit != 0 {
		argv = append(argv, "--pids-limit", strconv.Itoa(a.PidsLimit))
	}
	for _, u := range a.Ulimits {
		argv = append(argv, "--ulimit", u)
	}
	if len(a.Env) > 0 {
		argv = append(argv, "--env-file", "/dev/stdin")
	}
	return append(append(argv, a.Image), a.Command...)
}

// EnvFile is docker's env file format: one NAME=value per line.
func (a *ContainerArgs) EnvFile() string {
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(a.Env)) {
		b.WriteString(k + "=" + a.Env[k] + "\n")
	}
	return b.String()
}

// RunCmd is docker run with the environment on its stdin.
func (a *ContainerArgs) RunCmd() transport.Cmd {
	c := transport.Cmd{Argv: a.RunArgv()}
	if len(a.Env) > 0 {
		c.Stdin = strings.NewReader(a.EnvFile())
	}
	return c
}
