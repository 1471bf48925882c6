// Package tsdbcheck proves that OMS will be able to log in to its
// time-series database. A bare /ping answers without credentials, so it
// proves nothing about the user and password config.yaml will hold; an
// authenticated query does.
package tsdbcheck

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/omsrun/omsrun/internal/secret"
)

// ErrUnauthorized means the server refused the user name or password.
var ErrUnauthorized = errors.New("wrong user name or password")

// ErrAuthDisabled means the server accepted a made-up password, so it does
// not check credentials at all and the given ones were not really tested.
var ErrAuthDisabled = errors.New("authentication is disabled on this InfluxDB, so the password could not be checked")

// BaseURL turns the forms tsdb_url takes in config.yaml (`host:port`, with
// or without http://) into a URL to send requests to.
func BaseURL(tsdbURL string) (string, error) {
	s := strings.TrimRight(strings.TrimSpace(tsdbURL), "/")
	if !strings.Contains(s, "://") {
		s = "http://" + s
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return "", fmt.Errorf("%q is not host:port", tsdbURL)
	}
	return u.Scheme + "://" + u.Host, nil
}

// CheckInflux runs SHOW DATABASES on an InfluxDB 1.x as user. It returns nil
// when the credentials work, ErrUnauthorized (wrapped) when they do not,
// ErrAuthDisabled when any password would do, and other errors when the
// server cannot be reached or is not an InfluxDB.
func CheckInflux(ctx context.Context, c *http.Client, tsdbURL, user string, password secret.String) error {
	if c == nil {
		c = http.DefaultClient
	}
	base, err := BaseURL(tsdbURL)
	if err != nil {
		return err
	}
	if err := query(ctx, c, base, user, password.Reveal()); err != nil {
		return err
	}
	// The credentials worked; make sure that is because they are right.
	bogus := "omsrun-probe-not-a-password"
	if bogus == password.Reveal() {
		bogus += "-2"
	}
	if err := query(ctx, c, base, user, bogus); err == nil {
		return ErrAuthDisabled
	}
	return nil
}

func query(ctx context.Context, c *http.Client, base, user, password string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/query?q=SHOW+DATABASES", nil)
	if err != nil {
		return err
	}
	req.SetBasicAuth(user, password)
	resp, err := c.Do(req)
	if err != nil {
		return fmt.Errorf("cannot reach the time-series database at %s: %w", base, unwrapURL(err))
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden {
		return fmt.Errorf("the time-series database at %s refused user %q: %w", base, user, ErrUnauthorized)
	}
	var answer struct {
		Error   string `json:"error"`
		Results []struct {
			Error string `json:"error"`
		} `json:"results"`
	}
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &answer) != nil {
		return fmt.Errorf("%s does not answer like InfluxDB 1.x (%s)", base, resp.Status)
	}
	if answer.Error != "" {
		return fmt.Errorf("the time-series database at %s: %s", base, answer.Error)
	}
	for _, r := range answer.Results {
		if r.Error != "" {
			return fmt.Errorf("the time-series database at %s: %s", base, r.Error)
		}
	}
	return nil
}

func unwrapURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
