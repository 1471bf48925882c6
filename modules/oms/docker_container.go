package oms

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/omsrun/omsrun/internal/probe"
	"github.com/omsrun/omsrun/internal/textx"
	"github.com/omsrun/omsrun/internal/transport"
	"github.com/omsrun/omsrun/modules"
)

// containerJSON is the part of `docker inspect` that container_run compares.
type containerJSON struct {
	ID    string `json:"Id"`
	Image string `json:"Image"`
	State struct {
		Status   string `json:"Status"`
		Running  bool   `json:"Running"`
		ExitCode int    `json:"ExitCode"`
	} `json:"State"`
	Config struct {
		Env []string `json:"Env"`
	} `json:"Config"`
	HostConfig struct {
		Binds       []string     `json:"Binds"`
		NetworkMode string       `json:"NetworkMode"`
		Privileged  bool         `json:"Privileged"`
		Ulimits     []ulimitJSON `json:"Ulimits"`
	} `json:"HostConfig"`
}

// ulimitJSON is one --ulimit of a container.
type ulimitJSON struct {
	Name string `json:"Name"`
	Soft int64  `json:"Soft"`
	Hard int64  `json:"Hard"`
}

// containerSpec is the container the playbook asks for.
type containerSpec struct {
	name, image string
	binds       []string          // "host:container", in docker run order
	env         map[string]string // variables we set (the image's own are not compared)
}

// omsBinds are the seed's mounts: config.yaml, logs, store and run, plus the
// HTTPS certificate and key when given (already on the host at crt/key).
func omsBinds(configPath, mountDir, crt, key string) []string {
	b := []string{
		configPath + ":/home/admin/conf/config.yaml",
		mountDir + "/logs:/home/admin/logs",
		mountDir + "/store:/home/ds/store",
		mountDir + "/run:/home/ds/run",
	}
	if crt != "" {
		b = append(b, crt+":/etc/pki/nginx/oms_server.crt", key+":/etc/pki/nginx/oms_server.key")
	}
	return b
}

// runArgv is the documented OMS CE docker run command line.
func (s containerSpec) runArgv(upgrade bool) []string {
	// -dit as obd and the docs run it (docs/oms-facts.md R1): whether the
	// entrypoint needs a terminal is unconfirmed. differences never looks at
	// -i/-t, so a container started with plain -d is not recreated for them.
	argv := []string{"docker", "run", "-dit", "--net", "host"}
	for _, b := range s.binds {
		argv = append(argv, "-v", b)
	}
	keys := make([]string, 0, len(s.env))
	for k := range s.env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		argv = append(argv, "-e", k+"="+s.env[k])
	}
	if upgrade {
		argv = append(argv, "-e", "IS_UPGRADE=true")
	}
	return append(argv, "--privileged=true", "--pids-limit", "-1", "--ulimit", "nproc=65535:65535", "--name", s.name, s.image)
}

// differences lists what keeps the running container from matching the
// spec, in words for the plan ("image 1a2b… → 3c4d…").
func (s containerSpec) differences(c *containerJSON, imageID string) []string {
	var d []string
	have := map[string]bool{}
	for _, b := range c.HostConfig.Binds {
		have[strings.TrimSuffix(strings.TrimSuffix(b, ":rw"), ":z")] = true
	}
	want := map[string]bool{}
	for _, b := range s.binds {
		want[b] = true
		if !have[b] {
			d = append(d, "mount "+b+" missing")
		}
	}
	for b := range have {
		if !want[b] {
			d = append(d, "extra mount "+b)
		}
	}
	env := map[string]string{}
	for _, kv := range c.Config.Env {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	keys := make([]string, 0, len(s.env))
	for k := range s.env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if old, ok := env[k]; !ok {
			d = append(d, k+" unset")
		} else if old != s.env[k] {
			d = append(d, fmt.Sprintf("%s=%s → %s", k, old, s.env[k]))
		}
	}
	if c.HostConfig.NetworkMode != "host" {
		d = append(d, "network "+c.HostConfig.NetworkMode+" → host")
	}
	if !c.HostConfig.Privileged {
		d = append(d, "not privileged")
	}
	nproc := false
	for _, u := range c.HostConfig.Ulimits {
		nproc = nproc || (u.Name == "nproc" && u.Soft == 65535 && u.Hard == 65535)
	}
	if !nproc {
		d = append(d, "ulimit nproc not 65535:65535")
	}
	sort.Strings(d)
	if imageID != "" && c.Image != imageID {
		d = append([]string{fmt.Sprintf("image %s → %s", imageShortID(c.Image), imageShortID(imageID))}, d...)
	}
	return d
}

// omsWait says where and how long to wait for an OMS container to be healthy.
type omsWait struct {
	name     string // container
	mountDir string // for the docker_init log
	addr     string // host:port of /oms/health (the nginx port)
	cmAddr   string // host:port of CM; "" skips CM's check
	timeout  time.Duration
	// needLog asks for the last log line "OMS service start successfully"
	// as well, which a fresh container prints when up; a supervisor restart
	// inside a running container does not print it again.
	needLog bool
}

const omsStartedLine = "OMS service start successfully"

// waitHealthy polls the container until it is healthy, fails fast when it
// exits, and on failure explains with the container's own logs.
func waitHealthy(ctx context.Context, env *modules.Env, w omsWait) error {
	dial := probe.Bounded(env.Host.Dial)
	start := time.Now()
	deadline := start.Add(w.timeout)
	script := fmt.Sprintf("docker inspect --format '{{.State.Status}} {{.State.ExitCode}}' %s && docker logs --tail 1 %s 2>&1",
		transport.Quote(w.name), transport.Quote(w.name))
	var last string
	for {
		res, err := env.Try(ctx, transport.Cmd{Script: script})
		if err != nil {
			return err
		}
		out := strings.TrimSpace(string(res.Stdout))
		first, logLine, _ := strings.Cut(out, "\n")
		status, _, _ := strings.Cut(first, " ")
		switch {
		case res.ExitCode != 0 && strings.Contains(strings.ToLower(string(res.Stderr)), "no such"):
			return fmt.Errorf("container %s disappeared while starting (removed by someone else?)%s", w.name, omsDiagnostics(ctx, env, w))
		case res.ExitCode != 0:
			last = "docker inspect: " + textx.TailLines(string(res.Stderr)+out, 2)
		case status == "exited" || status == "dead":
			return fmt.Errorf("container %s stopped (%s)%s", w.name, first, omsDiagnostics(ctx, env, w))
		case w.needLog && strings.TrimSpace(logLine) != omsStartedLine:
			// The whole last line, as obd compares it (docs/oms-facts.md):
			// a line that only mentions it ("… start successfully? no")
			// is not the start.
			last = fmt.Sprintf("last log line %q", textx.TailLines(logLine, 1))
		default:
			herr := omsHealth(ctx, dial, w.addr)
			if herr == nil && w.cmAddr != "" {
				herr = cmReady(ctx, env, dial, w.name, w.cmAddr)
			}
			if herr == nil {
				return nil
			}
			last = herr.Error()
		}
		if ctx.Err() != nil {
			return fmt.Errorf("waiting for %s to be healthy: %w", w.name, ctx.Err())
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("container %s not healthy after %s (%s)%s%s", w.name, w.timeout, last, notRunningNote(ctx, env, w.name), omsDiagnostics(ctx, env, w))
		}
		env.Report.Phase(waitPhase("health", start, w.timeout))
		if err := modules.SleepCtx(ctx, time.Second); err != nil {
			return fmt.Errorf("waiting for %s to be healthy: %w", w.name, err)
		}
	}
}

// notRunningNote names every supervisor program of the container that is
// not RUNNING, for a failure: the health answer says that OMS is not up,
// supervisord says which part of it is not. "" when every program runs or
// the container cannot be asked.
func notRunningNote(ctx context.Context, env *modules.Env, container string) string {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
	defer cancel()
	res, err := env.Try(ctx, transport.Cmd{Argv: []string{"docker", "exec", container, "supervisorctl", "status"}})
	if err != nil {
		return ""
	}
	if down := programsNotRunning(string(res.Stdout), nil); len(down) > 0 {
		return "\n--- supervisorctl status: not RUNNING: " + strings.Join(down, ", ")
	}
	return ""
}

const diagSep = "--omsrun-diag--"

// omsDiagnostics returns the seed's advice done for the user: the tail of
// the newest docker_init log and of docker logs, to append to an error.
func omsDiagnostics(ctx context.Context, env *modules.Env, w omsWait) string {
	// A fresh context: the step's may be what just ran out.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
	defer cancel()
	// ls lists names inside the logs folder only, so a mount directory
	// holding a line break cannot cut the answer apart. The real name is
	// docker_init.log.<YYYY-MM-DD>.<HH:MM:SS> (docs/oms-facts.md L1); any
	// name starting with docker_init counts, newest first.
	script := fmt.Sprintf(`if cd -- %s/logs 2>/dev/null; then f=$(ls -t -- docker_init* 2>/dev/null | head -n 1); if [ -n "$f" ]; then echo "$f"; tail -n 20 -- "$f"; fi; fi
echo %s
docker logs --tail 30 %s 2>&1`, transport.Quote(w.mountDir), diagSep, transport.Quote(w.name))
	res, err := env.Try(ctx, transport.Cmd{Script: script})
	if err != nil {
		return "\n(could not read the logs: " + err.Error() + ")"
	}
	parts := textx.SplitSections(string(res.Stdout), diagSep)
	var b strings.Builder
	if init := strings.TrimSpace(parts[0]); init != "" {
		name, body, _ := strings.Cut(init, "\n")
		fmt.Fprintf(&b, "\n--- %s (last 20 lines):\n%s", w.mountDir+"/logs/"+path.Base(name), body)
	} else {
		fmt.Fprintf(&b, "\n--- no %s/logs/docker_init*", w.mountDir)
	}
	if len(parts) > 1 {
		fmt.Fprintf(&b, "\n--- docker logs --tail 30 %s:\n%s", w.name, strings.TrimSpace(parts[1]))
	}
	return b.String()
}

// hostPort joins an address and a port.
func hostPort(host string, port int) string { return net.JoinHostPort(host, strconv.Itoa(port)) }

// parseInspect reads `docker inspect` output: an array with zero or one container.
func parseInspect(out string) (*containerJSON, error) {
	out = strings.TrimSpace(out)
	if out == "" || out == "[]" {
		return nil, nil
	}
	var cs []containerJSON
	if err := json.Unmarshal([]byte(out), &cs); err != nil {
		return nil, fmt.Errorf("docker inspect: unexpected answer: %w", err)
	}
	if len(cs) == 0 {
		return nil, nil
	}
	return &cs[0], nil
}
