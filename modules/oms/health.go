package oms

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/omsrun/omsrun/internal/probe"
	"github.com/omsrun/omsrun/internal/textx"
)

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

// omsHealth probes http://addr/oms/health once and explains a "no".
func omsHealth(ctx context.Context, dial probe.DialFunc, addr string) error {
	url := "http://" + addr + "/oms/health"
	a, err := probe.HTTPGet(ctx, dial, url, "", "", 5*time.Second)
	if err != nil {
		return err
	}
	if !omsHealthy(a) {
		return fmt.Errorf("GET %s: %d %s", url, a.Status, textx.TailLines(string(a.Body), 3))
	}
	return nil
}
