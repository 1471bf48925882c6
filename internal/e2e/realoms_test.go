package e2e

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/omsrun/omsrun/internal/lab"
	"github.com/omsrun/omsrun/internal/lab/labtest"
)

// What the real OMS does and the stand-in now does too (issue #13,
// docs/oms-facts.md): health on the nginx port only, a start-up that takes
// time, a MetaDB schema that two fresh nodes must not create at once.

// realOMSShape checks, on a deployed cluster, the stand-in behaves as the
// real product does where omsrun relies on it: /oms/health only on the
// nginx port, CM on 8088 a separate service (404 for unknown paths), all
// five ports held, and the init log under its real name.
func realOMSShape(t *testing.T, l *labtest.Lab) {
	t.Helper()
	c := http.Client{Timeout: 5 * time.Second}
	h := l.Hosts[0]
	for port, want := range map[int]int{8089: http.StatusOK, 8088: http.StatusNotFound} {
		resp, err := c.Get(fmt.Sprintf("http://%s:%d/oms/health", h.Address, port))
		if err != nil {
			t.Fatalf("%s:%d: %v", h.Address, port, err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("GET %s:%d/oms/health: %d, want %d", h.Address, port, resp.StatusCode, want)
		}
	}
	for _, port := range []string{"8088", "8089", "8090", "9000", "2023"} {
		conn, err := net.DialTimeout("tcp", net.JoinHostPort(h.Address, port), 2*time.Second)
		if err != nil {
			t.Errorf("port %s not held by OMS: %v", port, err)
			continue
		}
		conn.Close()
	}
	if got := l.Exec(t, h.Name, "cd /data/oms/logs && ls -t docker_init* | head -n 1"); !regexp.MustCompile(`^docker_init\.log\.\d{4}-\d\d-\d\d\.\d\d:\d\d:\d\d$`).MatchString(got) {
		t.Errorf("newest init log %q, want docker_init.log.<YYYY-MM-DD>.<HH:MM:SS>", got)
	}
}

// TestDeployWaitsForASlowStart: with a 40 s start-up, a 30 s health
// timeout fails naming the wait, and the defaults (at the real product's
// scale) pass.
func TestDeployWaitsForASlowStart(t *testing.T) {
	l := labtest.Require(t)
	inv := inventoryOf(t, l, 1)
	fresh := func() {
		l.Reset(t)
		l.DropMetaDatabases(t)
		l.SetStartupDelay(t, "/data/oms", 40*time.Second)
	}
	fresh()
	short := deploy(t, l, "deploy.hcl", inv, "-e", `health_timeout=30s`)
	expectCode(t, short, 2)
	if !strings.Contains(short.stdout, "not healthy after 30s") {
		t.Fatalf("a 30 s wait for a 40 s start did not fail on health:\n%s", short.stdout)
	}
	fresh()
	start := time.Now()
	ok := deploy(t, l, "deploy.hcl", inv)
	expectCode(t, ok, 0)
	if took := time.Since(start); took < 40*time.Second {
		t.Errorf("deploy took %s with a 40 s start-up", took)
	}
}

// oldAllAtOnce is deploy.hcl's former order: the real playbook's shared
// preparation (image, mount folders), config.yaml, then every new node
// started at once.
const oldAllAtOnce = `include "oms-variables.hcl" {}
include "oms-prepare.hcl" {}

step "config.yaml" {
  hosts = "oms"
  render_config {
    with = local.oms_config
  }
}

step "container (new nodes)" {
  hosts = "oms"
  container_run {
    with = local.oms_container
  }
}
`

// TestDeployStartsTheFirstNodeAlone: fresh nodes that initialise an empty
// MetaDB at once fail (the stand-in, like the real product, does not
// survive it), so the old all-at-once order fails; deploy.hcl starts one
// node alone until it is healthy, then the others together.
func TestDeployStartsTheFirstNodeAlone(t *testing.T) {
	l := labtest.Require(t)
	const delay = 12 * time.Second
	fresh := func() {
		l.Reset(t)
		l.DropMetaDatabases(t)
		l.SetStartupDelay(t, "/data/oms", delay)
	}
	fresh()
	dir := t.TempDir()
	for _, inc := range []string{"oms-variables.hcl", "oms-prepare.hcl"} {
		b, err := os.ReadFile(filepath.Join(repoDir(t), "playbooks", inc))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, inc), b, 0o644)
	}
	old := filepath.Join(dir, "old.hcl")
	os.WriteFile(old, []byte(oldAllAtOnce), 0o644)
	r := omsrun(t, old, "-i", l.InventoryHCL, "-e", "@"+l.Vars, "-e", "min_free_gb=1", "--json")
	expectCode(t, r, 2)
	if !strings.Contains(r.stdout, "another OMS node is initialising the same empty MetaDB") {
		t.Fatalf("all at once did not fail on the schema race:\n%s", r.stdout)
	}

	fresh()
	ok := deploy(t, l, "deploy.hcl", l.InventoryHCL)
	expectCode(t, ok, 0)
	vipAnswers(t, l, 8088)
	vipAnswers(t, l, 8089)
	// One node started first; the others after it was healthy (so at least
	// the start-up delay later), and together.
	var starts []time.Time
	for _, h := range l.Hosts {
		ts, err := time.Parse(time.RFC3339Nano, l.Exec(t, h.Name, "docker inspect --format '{{.State.StartedAt}}' oms"))
		if err != nil {
			t.Fatal(err)
		}
		starts = append(starts, ts)
	}
	sort.Slice(starts, func(i, j int) bool { return starts[i].Before(starts[j]) })
	if gap := starts[1].Sub(starts[0]); gap < delay {
		t.Errorf("second node started %s after the first, want at least the %s start-up", gap, delay)
	}
	if spread := starts[len(starts)-1].Sub(starts[1]); spread > delay/2 {
		t.Errorf("the other new nodes started %s apart, want them together", spread)
	}
}

// TestDeployHTTPSConsole: with a certificate mounted the stand-in's console
// speaks only HTTPS (as the real one may); omsrun's health checks still
// pass (https first, no verification), and the VIP checks with TLS.
func TestDeployHTTPSConsole(t *testing.T) {
	l := labtest.Require(t)
	l.Reset(t)
	l.DropMetaDatabases(t)
	crt, key := selfSigned(t, l.Hosts[0].Address)
	l.ConfigureVIP(t, lab.VIPOptions{TLSCheck: true})
	r := deploy(t, l, "deploy.hcl", inventoryOf(t, l, 1), "-e", "https_crt="+crt, "-e", "https_key="+key)
	expectCode(t, r, 0)
	addr := l.Hosts[0].Address
	plain := http.Client{Timeout: 5 * time.Second}
	if resp, err := plain.Get("http://" + addr + ":8089/oms/health"); err == nil {
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Error("the console answered plain http with a certificate mounted")
		}
	}
	insecure := http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	resp, err := insecure.Get("https://" + addr + ":8089/oms/health")
	if err != nil {
		t.Fatalf("https health: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("https health: %d", resp.StatusCode)
	}
	vipAnswers(t, l, 8089) // haproxy speaks TLS to the node, plain http to us
	vipAnswers(t, l, 8088)
}

// selfSigned writes a self-signed certificate for ip and its key.
func selfSigned(t *testing.T, ip string) (crtFile, keyFile string) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "omslab"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.ParseIP(ip)}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	kd, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	crtFile, keyFile = filepath.Join(dir, "oms.crt"), filepath.Join(dir, "oms.key")
	os.WriteFile(crtFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kd}), 0o600)
	return crtFile, keyFile
}
