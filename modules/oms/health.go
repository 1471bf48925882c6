package oms

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/omsrun/omsrun/internal/probe"
	"github.com/omsrun/omsrun/internal/textx"
	"github.com/omsrun/omsrun/internal/transport"
	"github.com/omsrun/omsrun/modules"
)

// The ports of the two services omsrun checks: the console behind nginx,
// the only one with /oms/health (docs/oms-facts.md H3), and CM, which has
// no health endpoint (H5).
const (
	defaultNginxPort = 8089
	defaultCMPort    = 8088
)

// Waits at the real product's scale: its Java services also create the
// MetaDB schema on a first start, and obd waits at least 900 s
// (docs/oms-facts.md H4). A restart inside a running container starts the
// same services, so it gets the same patience.
const (
	DefaultHealthTimeout  = 15 * time.Minute
	DefaultRestartTimeout = 15 * time.Minute
)

const probeTimeout = 5 * time.Second

// omsHealthy says whether an /oms/health answer reports healthy
// ({"data":{"healthy":true}}).
func omsHealthy(a probe.Answer) bool {
	if a.Status != http.StatusOK {
		return false
	}
	var v struct {
		Data struct {
			Healthy bool `json:"healthy"`
		} `json:"data"`
	}
	return json.Unmarshal(a.Body, &v) == nil && v.Data.Healthy
}

// omsHealth probes /oms/health on the nginx port once and explains a "no".
// With a certificate mounted the console may serve only HTTPS (unconfirmed
// for CE, docs/oms-facts.md C2), so https comes first, without verifying
// the certificate (nodes use self-signed ones), then plain http.
func omsHealth(ctx context.Context, dial probe.DialFunc, addr string) error {
	var errs []error
	for _, scheme := range []string{"https", "http"} {
		url := scheme + "://" + addr + "/oms/health"
		a, err := getInsecure(ctx, dial, url)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if omsHealthy(a) {
			return nil
		}
		return fmt.Errorf("GET %s: %d %s", url, a.Status, textx.TailLines(string(a.Body), 3))
	}
	return errors.Join(errs...)
}

// cmAnswers says whether CM's port answers HTTP at all. A real CM has no
// health endpoint and answers unknown paths with an error status, so any
// status counts; only no answer is a failure.
func cmAnswers(ctx context.Context, dial probe.DialFunc, addr string) error {
	_, err := getInsecure(ctx, dial, "http://"+addr+"/")
	return err
}

// cmReady is CM's check on one node: its port answers HTTP and
// `supervisorctl status oms_drc_cm` says RUNNING in the container.
func cmReady(ctx context.Context, env *modules.Env, dial probe.DialFunc, container, addr string) error {
	if err := cmAnswers(ctx, dial, addr); err != nil {
		return fmt.Errorf("CM on %s: %w", addr, err)
	}
	res, err := env.Try(ctx, transport.Cmd{Argv: []string{"docker", "exec", container, "supervisorctl", "status", "oms_drc_cm"}})
	if err != nil {
		return err
	}
	if notRunning := programsNotRunning(string(res.Stdout), []string{"oms_drc_cm"}); len(notRunning) > 0 {
		return fmt.Errorf("CM answers on %s but supervisorctl says %s", addr, strings.Join(notRunning, ", "))
	}
	return nil
}

// getInsecure is one GET without certificate verification, over dial.
func getInsecure(ctx context.Context, dial probe.DialFunc, url string) (probe.Answer, error) {
	// A fresh transport per probe: the connections come from an SSH
	// connection and must not outlive the probe in an idle pool.
	tr := &http.Transport{DialContext: dial, DisableKeepAlives: true, Proxy: nil,
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}} //nolint:gosec // nodes' own certificates are self-signed
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: probeTimeout}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return probe.Answer{}, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return probe.Answer{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, probe.MaxBody))
	if err != nil {
		return probe.Answer{Status: resp.StatusCode}, fmt.Errorf("GET %s: reading the answer: %w", url, err)
	}
	return probe.Answer{Status: resp.StatusCode, Body: body}, nil
}

// waitPhase is modules.WaitPhase: "waiting for health 2m10s / 15m0s".
func waitPhase(what string, start time.Time, limit time.Duration) string {
	return modules.WaitPhase(what, start, limit)
}
