package lab

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Check is one line of the lab status.
type Check struct {
	What   string
	OK     bool
	Detail string
}

// Status checks every host and service of the lab described by .lab/env.
func Status(repo string) ([]Check, error) {
	env, err := ReadEnv(filepath.Join(repo, ".lab", EnvFile))
	if err != nil {
		return []Check{{What: "lab", Detail: "down (no .lab/env)"}}, nil
	}
	n, _ := strconv.Atoi(env["LAB_HOST_COUNT"])
	docker := env["LAB_DOCKER"] == "1"
	hosts := Hosts(n)
	checks := make([][]Check, len(hosts))
	forEach(hosts, 16, func(h Host) error {
		checks[h.Index-1] = hostChecks(h, docker)
		return nil
	})
	var out []Check
	for _, c := range checks {
		out = append(out, c...)
	}
	out = append(out, tcpCheck("metadb", net.JoinHostPort(Controller, strconv.Itoa(MetaPort))))
	tsdb := Check{What: "tsdb " + TSDBURL}
	if err := influxQuery("SHOW DATABASES", true); err != nil {
		tsdb.Detail = err.Error()
	} else {
		tsdb.OK, tsdb.Detail = true, "authenticated query ok"
	}
	out = append(out, tsdb)
	out = append(out, vipCheck(VIP))
	if labRegions(env) > 1 {
		out = append(out, vipCheck(VIP2))
	}
	return out, nil
}

// vipCheck is haproxy's state and what addr answers on 8089.
func vipCheck(addr string) Check {
	vip := Check{What: "vip " + addr}
	if !alive(readPID(haproxyPID)) {
		vip.Detail = "haproxy not running"
		return vip
	}
	vip.OK = true
	// Health lives on the nginx port; CM on 8088 has no health endpoint.
	code, body, err := httpGet(context.Background(), "http://"+addr+":8089/oms/health")
	switch {
	case err != nil:
		vip.Detail = "haproxy up; 8089: " + err.Error()
	case code == 200:
		vip.Detail = "haproxy up; 8089 healthy: " + strings.TrimSpace(body)
	default:
		vip.Detail = fmt.Sprintf("haproxy up; 8089 answers %d (no healthy OMS node behind it yet)", code)
	}
	return vip
}

func hostChecks(h Host, docker bool) []Check {
	var out []Check
	pid := readPID(h.AnchorPIDFile())
	if _, err := os.Stat("/run/netns/" + h.Netns()); err != nil || !alive(pid) {
		return []Check{{What: h.Name + " " + h.Address, Detail: "not running"}}
	}
	c := tcpCheck(h.Name+" sshd", net.JoinHostPort(h.Address, "22"))
	out = append(out, c)
	if docker {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		ver, err := HostExec(ctx, h, "docker version --format '{{.Server.Version}}' && docker ps -q | wc -l")
		dc := Check{What: h.Name + " dockerd"}
		if err != nil {
			dc.Detail = err.Error()
		} else {
			f := strings.Fields(ver)
			dc.OK = true
			dc.Detail = "server " + strings.Join(f[:len(f)-1], " ") + ", running containers: " + f[len(f)-1]
		}
		out = append(out, dc)
	}
	return out
}

func tcpCheck(what, addr string) Check {
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		return Check{What: what, Detail: err.Error()}
	}
	c.Close()
	return Check{What: what, OK: true, Detail: addr + " accepts connections"}
}

// Healthy reports whether the lab described by .lab/env is fully up and
// matches the requested options.
func Healthy(o Options) bool {
	env, err := ReadEnv(filepath.Join(o.Repo, ".lab", EnvFile))
	if err != nil || env["LAB_HOST_COUNT"] != strconv.Itoa(o.Hosts) || (env["LAB_DOCKER"] == "1") != o.Docker ||
		env["LAB_IMAGE_MB"] != strconv.Itoa(o.ImageMB) || labRegions(env) != max(o.Regions, 1) {
		return false
	}
	checks, err := Status(o.Repo)
	if err != nil {
		return false
	}
	for _, c := range checks {
		if !c.OK {
			return false
		}
	}
	return true
}

// PrintStatus writes the status as a table.
func PrintStatus(w io.Writer, checks []Check) bool {
	ok := true
	for _, c := range checks {
		mark := "ok  "
		if !c.OK {
			mark, ok = "FAIL", false
		}
		fmt.Fprintf(w, "%s  %-26s %s\n", mark, c.What, c.Detail)
	}
	return ok
}
