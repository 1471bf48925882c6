package oms

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/omsrun/omsrun/internal/docker"
	"github.com/omsrun/omsrun/internal/probe"
	"github.com/omsrun/omsrun/internal/secret"
	"github.com/omsrun/omsrun/internal/textx"
	"github.com/omsrun/omsrun/internal/transport"
	"github.com/omsrun/omsrun/internal/tsdbcheck"
	"github.com/omsrun/omsrun/modules"
)

// Preflight checks that a host can run OMS before anything is changed: Docker
// answers, the ports are free, the disks have room, the peers, the MetaDB and
// the TSDB are reachable from the host itself, and its clock agrees with the
// controller's. It only reads, so it does its work in check mode too, and it
// lists every problem at once.
type Preflight struct{}

var _ modules.Module = (*Preflight)(nil)
var _ modules.ReadOnly = (*Preflight)(nil)

// ReadOnly implements modules.ReadOnly: it only reads.
func (*Preflight) ReadOnly() bool { return true }

var _ modules.Validator = (*Preflight)(nil)

// PreflightArgs are the arguments of preflight.
type PreflightArgs struct {
	MountDir      string   `hcl:"mount_dir,optional"`
	Ports         []int    `hcl:"ports,optional"`
	ContainerName string   `hcl:"container_name,optional"`
	MinFreeGB     *float64 `hcl:"min_free_gb,optional"`
	Peers         []string `hcl:"peers,optional"`
	PeerPort      int      `hcl:"peer_port,optional"`
	RelayPort     int      `hcl:"relay_port,optional"`
	MetaDBHost    string   `hcl:"metadb_host,optional"`
	MetaDBPort    int      `hcl:"metadb_port,optional"`
	TSDBEnabled   bool     `hcl:"tsdb_enabled,optional"`
	TSDBURL       string   `hcl:"tsdb_url,optional"`
	TSDBUsername  string   `hcl:"tsdb_username,optional"`
	TSDBPassword  string   `hcl:"tsdb_password,optional"`
	MaxClockSkew  string   `hcl:"max_clock_skew,optional"`
	Image         string   `hcl:"image,optional"`
	MetaDBUser    string   `hcl:"metadb_user,optional"`
}

// Doc describes the module.
func (*Preflight) Doc() modules.Doc {
	return modules.Doc{
		Name:    "preflight",
		Summary: "Read-only checks before deploying OMS on a host; fails listing every problem.",
		Args: map[string]string{
			"mount_dir":      "where OMS will keep its data (default /data/oms); its free space is checked",
			"ports":          "ports that must be free or held by our container (default the five OMS ports [8089, 8088, 8090, 9000, 2023])",
			"container_name": `our OMS container, allowed to hold the ports (default "oms")`,
			"min_free_gb":    "warn when less is free under mount_dir or Docker's data root (default 50; 0 disables)",
			"peers":          "other nodes (address or address:port) that must be reachable from this host",
			"peer_port":      "port tried on peers given without one (default 22)",
			"relay_port":     fmt.Sprintf("docker_load's relay port, tried on every peer; filtered only warns: that node then gets the image from the control machine (default %d, negative skips)", DefaultRelayPort),
			"metadb_host":    "MetaDB address that must be reachable from this host",
			"metadb_port":    "MetaDB port (default 2881)",
			"tsdb_enabled":   "also log in to the TSDB (InfluxDB) with the credentials below",
			"tsdb_url":       "the TSDB, host:port or http://host:port",
			"tsdb_username":  "TSDB user",
			"tsdb_password":  "TSDB password (sensitive)",
			"max_clock_skew": `duration: largest allowed difference from the controller's clock (default "2s"; "0" skips)`,
			"image":          "the OMS image to run: a tag of 4.2.4 or older warns on a cgroup v2 host",
			"metadb_user":    "the MetaDB user: refused when it is in OceanBase's sys tenant (@sys)",
		},
	}
}

// NewArgs returns empty arguments.
func (*Preflight) NewArgs() any { return &PreflightArgs{} }

func (a *PreflightArgs) fill() {
	if a.MountDir == "" {
		a.MountDir = defaultMountDir
	}
	if a.Ports == nil {
		a.Ports = defaultOMSPorts
	}
	if a.ContainerName == "" {
		a.ContainerName = "oms"
	}
	if a.MinFreeGB == nil {
		v := 50.0
		a.MinFreeGB = &v
	}
	if a.PeerPort == 0 {
		a.PeerPort = 22
	}
	if a.RelayPort == 0 {
		a.RelayPort = DefaultRelayPort
	}
	if a.MetaDBPort == 0 {
		a.MetaDBPort = 2881
	}
	if a.MaxClockSkew == "" {
		a.MaxClockSkew = "2s"
	}
}

// Validate checks the arguments that need no host.
func (*Preflight) Validate(args any) error {
	a := args.(*PreflightArgs)
	a.fill()
	var errs []error
	for _, p := range append(append([]int(nil), a.Ports...), a.PeerPort, a.MetaDBPort) {
		if p <= 0 || p > 65535 {
			errs = append(errs, fmt.Errorf("%d is not a TCP port", p))
		}
	}
	if a.TSDBEnabled {
		if a.TSDBURL == "" || a.TSDBUsername == "" || a.TSDBPassword == "" {
			errs = append(errs, errors.New("tsdb_enabled needs tsdb_url, tsdb_username and tsdb_password"))
		} else if _, err := tsdbcheck.BaseURL(a.TSDBURL); err != nil {
			errs = append(errs, fmt.Errorf("tsdb_url: %w", err))
		}
	}
	if _, err := modules.ParseDuration("max_clock_skew", a.MaxClockSkew, 0); err != nil {
		errs = append(errs, err)
	}
	if err := docker.CheckContainerName("container_name", a.ContainerName); err != nil {
		errs = append(errs, err)
	}
	if err := checkPortList(a.Ports); err != nil {
		errs = append(errs, err)
	}
	if err := checkMetaUser(a.MetaDBUser); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

const preflightSep = "--omsrun-preflight--"

// Check runs every check; problems come back as one error listing them all.
func (p *Preflight) Check(ctx context.Context, env *modules.Env, args any) (*modules.Plan, error) {
	a := args.(*PreflightArgs)
	a.fill()
	var (
		mu       sync.Mutex
		problems []error
		notes    []string
	)
	problem := func(err error) { mu.Lock(); problems = append(problems, err); mu.Unlock() }
	note := func(s string) { mu.Lock(); notes = append(notes, s); mu.Unlock() }

	// The network checks run while the host reads its own state.
	var wg sync.WaitGroup
	var netNote string
	wg.Add(1)
	go func() { defer wg.Done(); netNote = p.network(ctx, env, a, problem) }()

	if err := p.local(ctx, env, a, problem, note); err != nil {
		wg.Wait()
		return nil, err
	}
	if err := p.clock(ctx, env, a, problem, note); err != nil {
		wg.Wait()
		return nil, err
	}
	wg.Wait()
	if netNote != "" {
		notes = append(notes, netNote)
	}
	if len(problems) > 0 {
		// Concurrent checks finish in any order; the report should not.
		sort.Slice(problems, func(i, j int) bool { return problems[i].Error() < problems[j].Error() })
		return nil, fmt.Errorf("preflight found %d problem(s):\n%w", len(problems), errors.Join(problems...))
	}
	return &modules.Plan{Summary: strings.Join(notes, "; ")}, nil
}

// Apply is never needed: Check changes nothing and plans nothing.
func (*Preflight) Apply(_ context.Context, _ *modules.Env, _ any, plan *modules.Plan) (*modules.Result, error) {
	return &modules.Result{Msg: plan.Summary}, nil
}

// local reads Docker, our container, the listening ports and the disks in one command.
func (*Preflight) local(ctx context.Context, env *modules.Env, a *PreflightArgs, problem func(error), note func(string)) error {
	script := fmt.Sprintf(`r=
if command -v docker >/dev/null 2>&1; then
  if out=$(docker info --format '{{.ServerVersion}}|{{.DockerRootDir}}' 2>&1); then echo "ok|$out"; r=${out#*|}; else echo "down|$out" | tr '\n' ' '; echo; fi
else echo "missing|"; fi
echo %[1]s
docker inspect --format '{{.State.Running}}' %[2]s 2>/dev/null
echo %[1]s
cat /proc/net/tcp /proc/net/tcp6 2>/dev/null
echo %[1]s
p=%[3]s; while [ ! -e "$p" ]; do p=$(dirname -- "$p"; echo .); p=${p%%??}; done; df -Pk -- "$p" | tail -n 1
echo %[1]s
[ -n "$r" ] && df -Pk -- "$r" | tail -n 1 | sed "s|^|$r |"
echo %[1]s
%[4]s
true`, preflightSep, transport.Quote(a.ContainerName), transport.Quote(a.MountDir), resourceScript)
	res, err := env.Run(ctx, transport.Cmd{Script: script})
	if err != nil {
		return err
	}
	parts := textx.SplitSections(string(res.Stdout), preflightSep)
	if len(parts) != 6 {
		return fmt.Errorf("preflight: unexpected answer: %s", textx.TailLines(string(res.Stdout), 5))
	}
	state, detail, _ := strings.Cut(strings.TrimSpace(parts[0]), "|")
	switch state {
	case "ok":
		version, _, _ := strings.Cut(detail, "|")
		note("docker " + version)
	case "missing":
		problem(errors.New("docker is not installed (no docker command in PATH)"))
	default:
		problem(fmt.Errorf("the Docker daemon does not answer: %s", strings.TrimSpace(detail)))
	}

	ours := strings.TrimSpace(parts[1]) == "true"
	listening := listeningPorts(parts[2])
	var busy, held []string
	for _, port := range a.Ports {
		if !listening[port] {
			continue
		}
		if ours {
			held = append(held, strconv.Itoa(port))
		} else {
			busy = append(busy, strconv.Itoa(port))
		}
	}
	if len(busy) > 0 {
		problem(fmt.Errorf("port(s) %s already in use by another process (OMS needs them; container %s is not running)", strings.Join(busy, ", "), a.ContainerName))
	}
	switch {
	case len(held) > 0:
		note(fmt.Sprintf("ports %s held by %s", strings.Join(held, ", "), a.ContainerName))
	case len(busy) == 0:
		note("ports free")
	}
	(&MkdirMounts{}).warnSpace(env, &MkdirMountsArgs{Path: a.MountDir, MinFreeGB: a.MinFreeGB}, parts[3], parts[4])
	warnResources(env, parts[5], a.Image)
	if f := strings.Fields(parts[3]); len(f) >= 6 {
		if kb, err := strconv.ParseInt(f[3], 10, 64); err == nil {
			note(textx.HumanBytes(kb*1024) + " free under " + a.MountDir)
		}
	}
	return nil
}

// listeningPorts reads /proc/net/tcp{,6}: state 0A is LISTEN, the local
// port is the hex after the colon of the second field.
func listeningPorts(proc string) map[int]bool {
	ports := map[int]bool{}
	for _, line := range strings.Split(proc, "\n") {
		f := strings.Fields(line)
		if len(f) < 4 || f[3] != "0A" {
			continue
		}
		_, hexPort, ok := strings.Cut(f[1], ":")
		if !ok {
			continue
		}
		if n, err := strconv.ParseUint(hexPort, 16, 16); err == nil {
			ports[int(n)] = true
		}
	}
	return ports
}

// clock compares the host's clock with the controller's, taking the middle
// of the round trip as the moment the host read its clock.
func (*Preflight) clock(ctx context.Context, env *modules.Env, a *PreflightArgs, problem func(error), note func(string)) error {
	limit, _ := modules.ParseDuration("max_clock_skew", a.MaxClockSkew, 2*time.Second)
	if limit == 0 {
		return nil
	}
	t0 := time.Now()
	out, err := env.RunArgv(ctx, "date", "+%s.%N")
	rtt := time.Since(t0)
	if err != nil {
		return err
	}
	secs, err := strconv.ParseFloat(out, 64)
	if err != nil {
		problem(fmt.Errorf("cannot read the host's clock: date answered %q", out))
		return nil
	}
	remote := time.Unix(0, int64(secs*1e9))
	skew := remote.Sub(t0.Add(rtt / 2)).Round(time.Millisecond)
	if skew > limit || -skew > limit {
		problem(fmt.Errorf("clock differs from the controller's by %s (more than %s): synchronise it (chrony/ntp)", skew, limit))
		return nil
	}
	note(fmt.Sprintf("clock skew %s", skew))
	return nil
}

// network probes the peers, the MetaDB and the TSDB from the host's side,
// all at once, and returns a note saying what it checked.
func (*Preflight) network(ctx context.Context, env *modules.Env, a *PreflightArgs, problem func(error)) string {
	dial := probe.Bounded(env.Host.Dial)
	const timeout = 5 * time.Second
	var wg sync.WaitGroup
	// A few probes at a time: each is a channel on the host's one SSH
	// connection, which also carries this step's commands, and a probe
	// queued behind the connection's session limit must not time out.
	slots := make(chan struct{}, 4)
	probe := func(what, addr string, refusedIsReached bool) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			slots <- struct{}{}
			defer func() { <-slots }()
			err := probe.TCP(ctx, dial, addr, timeout)
			// For a peer the question is the network path: a refusal comes
			// back from the peer itself, so the path works even when the
			// port is closed (its sshd stopped, say; that host's own
			// unreachability is reported on its own line).
			if err != nil && refusedIsReached && strings.Contains(err.Error(), "refused") {
				err = nil
			}
			if err != nil {
				problem(fmt.Errorf("cannot reach %s at %s from this host: %w", what, addr, err))
			}
		}()
	}
	peers := 0
	for _, peer := range a.Peers {
		host, port := peer, strconv.Itoa(a.PeerPort)
		if h, p, err := net.SplitHostPort(peer); err == nil {
			host, port = h, p
		}
		if host == env.Address {
			continue
		}
		peers++
		probe("peer", net.JoinHostPort(host, port), true)
		if a.RelayPort > 0 {
			relayProbe(ctx, env, dial, net.JoinHostPort(host, strconv.Itoa(a.RelayPort)), &wg, slots)
		}
	}
	if a.MetaDBHost != "" {
		probe("the MetaDB", hostPort(a.MetaDBHost, a.MetaDBPort), false)
	}
	if a.TSDBEnabled {
		wg.Add(1)
		go func() {
			defer wg.Done()
			client := &http.Client{Timeout: timeout, Transport: &http.Transport{DialContext: dial, DisableKeepAlives: true}}
			err := tsdbcheck.CheckInflux(ctx, client, a.TSDBURL, a.TSDBUsername, secret.String(a.TSDBPassword))
			switch {
			case errors.Is(err, tsdbcheck.ErrUnauthorized):
				problem(fmt.Errorf("wrong TSDB credentials: %w", err))
			case errors.Is(err, tsdbcheck.ErrAuthDisabled):
				env.Report.Warn("TSDB: " + err.Error())
			case err != nil:
				problem(fmt.Errorf("TSDB: %w", err))
			}
		}()
	}
	wg.Wait()
	var reached []string
	if peers > 0 {
		reached = append(reached, fmt.Sprintf("%d peer(s)", peers))
	}
	if a.MetaDBHost != "" {
		reached = append(reached, "MetaDB")
	}
	if a.TSDBEnabled {
		reached = append(reached, "TSDB login")
	}
	if len(reached) == 0 {
		return ""
	}
	return "reached " + strings.Join(reached, ", ")
}
