package oms

import (
	"context"
	"fmt"
	"net"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/omsrun/omsrun/internal/probe"
	"github.com/omsrun/omsrun/internal/textx"
	"github.com/omsrun/omsrun/internal/transport"
	"github.com/omsrun/omsrun/modules"
)

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
