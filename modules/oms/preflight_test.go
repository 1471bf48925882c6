package oms

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/omsrun/omsrun/modules/modtest"
)

// dkProcTCP is /proc/net/tcp with 8088 (0x1F98) listening and 8089 connected.
const dkProcTCP = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000:1F98 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0000000000000000 100 0 0 10 0
   1: 0B00000A:1F99 0100000A:D431 01 00000000:00000000 00:00000000 00000000     0        0 2 1 0000000000000000 20 4 30 10 -1
`

func dkListener(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	return ln.Addr().String()
}

func dkInflux(t *testing.T) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, _ := r.BasicAuth(); u != "oms" || p != "right" {
			w.WriteHeader(http.StatusUnauthorized)
			w.Write([]byte(`{"error":"authorization failed"}`))
			return
		}
		w.Write([]byte(`{"results":[{"statement_id":0}]}`))
	}))
	t.Cleanup(srv.Close)
	return srv.Listener.Addr().String()
}

func TestPreflight(t *testing.T) {
	peer, influx := dkListener(t), dkInflux(t)
	local := func(docker, running string) string {
		return docker + "\n" + preflightSep + "\n" + running + "\n" + preflightSep + "\n" + dkProcTCP + preflightSep + "\n" +
			"tmpfs 104857600 0 104857600 0% /data\n" + preflightSep + "\n" + preflightSep + "\n8\n16318412\nv1\n"
	}
	now := func(off time.Duration) string {
		return fmt.Sprintf("%.6f\n", float64(time.Now().Add(off).UnixNano())/1e9)
	}
	cases := []struct {
		name      string
		local     string
		clock     string
		password  string
		wantErr   []string
		wantNotes []string
	}{
		{
			name:  "good host, 8088 held by our container",
			local: local("ok|20.10.24|/var/lib/docker", "true"), clock: now(0), password: "right",
			wantNotes: []string{"docker 20.10.24", "ports 8088 held by oms", "100.0 GiB free under /data/oms", "clock skew", "reached 1 peer(s), MetaDB, TSDB login"},
		},
		{
			name:  "everything wrong at once",
			local: local("down|Cannot connect to the Docker daemon at unix:///run/docker.sock. Is the docker daemon running?", ""), clock: now(-time.Minute), password: "wrong",
			wantErr: []string{
				"5 problem(s)",
				"the Docker daemon does not answer: Cannot connect",
				"port(s) 8088 already in use by another process",
				"clock differs from the controller's by -1m",
				"cannot reach peer at 10.0.0.13:22 from this host",
				"wrong TSDB credentials",
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := (&modtest.Host{Targets: map[string]string{"10.0.0.12:22": peer, "10.0.0.1:3306": peer, "10.0.0.1:8086": influx}}).
				On("docker info", 0, tc.local, "").On("date", 0, tc.clock, "")
			env, _ := modtest.NewEnv(h)
			args := &PreflightArgs{
				Peers:      []string{"10.0.0.11", "10.0.0.12", "10.0.0.13"},
				MetaDBHost: "10.0.0.1", MetaDBPort: 3306,
				TSDBEnabled: true, TSDBURL: "10.0.0.1:8086", TSDBUsername: "oms", TSDBPassword: tc.password,
			}
			if tc.wantErr == nil {
				args.Peers = args.Peers[:2]
			}
			if err := (&Preflight{}).Validate(args); err != nil {
				t.Fatal(err)
			}
			plan, res, err := modtest.RunBoth(t, &Preflight{}, env, args)
			if tc.wantErr != nil {
				if err == nil {
					t.Fatalf("no error; plan %+v", plan)
				}
				for _, w := range tc.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error lacks %q:\n%s", w, err)
					}
				}
				if strings.Contains(err.Error(), "right") || strings.Contains(err.Error(), "wrong\"") {
					t.Errorf("password in error: %s", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if plan.Change || plan.Unknown || res != nil {
				t.Errorf("preflight planned a change: %+v", plan)
			}
			for _, w := range tc.wantNotes {
				if !strings.Contains(plan.Summary, w) {
					t.Errorf("summary lacks %q: %s", w, plan.Summary)
				}
			}
			for _, d := range h.Dials {
				if d == "10.0.0.11:22" {
					t.Error("probed itself as a peer")
				}
			}
		})
	}
}

func TestListeningPorts(t *testing.T) {
	got := listeningPorts(dkProcTCP + "   2: 00000000000000000000000000000000:1F99 00000000000000000000000000000000:0000 0A 0 0 0\n")
	if !got[8088] || !got[8089] || len(got) != 2 {
		t.Errorf("got %v", got)
	}
}

// TestResourceWarnings covers what the lab cannot show: a small host, and
// cgroup v2 under an image of 4.2.4 or older (the lab runs 4.2.5 and later).
func TestResourceWarnings(t *testing.T) {
	cases := []struct {
		name  string
		out   string
		image string
		want  []string
	}{
		{"big host, cgroup v1", "16\n65000000\nv1\n", "oms:feature_4.2.4-ce", nil},
		{"8 CPUs and a 16 GB machine pass", "8\n16318412\nv2\n", "oms:feature_4.2.5-ce", nil},
		{"small host", "4\n8000000\nv1\n", "oms:feature_4.2.5-ce", []string{"4 CPUs: OMS wants at least 8", "7.6 GiB of memory"}},
		{"cgroup v2 on 4.2.4", "8\n16318412\nv2\n", "reg.example:5000/oms:feature_4.2.4-ce", []string{"cgroup v2"}},
		{"cgroup v2 on 4.1.0", "8\n16318412\nv2\n", "oms:4.1.0", []string{"cgroup v2"}},
		{"cgroup v2, no version in the tag", "8\n16318412\nv2\n", "oms:latest", nil},
		{"cgroup v2, registry port but no tag", "8\n16318412\nv2\n", "reg.example:5000/oms", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := resourceWarnings(parseResources(tc.out), tc.image)
			if len(got) != len(tc.want) {
				t.Fatalf("got %q, want %d warning(s) like %q", got, len(tc.want), tc.want)
			}
			for i, w := range tc.want {
				if !strings.Contains(got[i], w) {
					t.Errorf("warning %q lacks %q", got[i], w)
				}
			}
		})
	}
}

func TestPreflightRefusesBeforeAnyHost(t *testing.T) {
	for name, a := range map[string]*PreflightArgs{
		"@sys":         {MetaDBUser: "root@sys#cluster"},
		"a port twice": {Ports: []int{8089, 8088, 8089}},
	} {
		if err := (&Preflight{}).Validate(a); err == nil {
			t.Errorf("%s accepted", name)
		}
	}
	if err := (&Preflight{}).Validate(&PreflightArgs{MetaDBUser: "oms@tenant#cluster"}); err != nil {
		t.Errorf("a tenant user refused: %v", err)
	}
}
