package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"time"
)

// runHealthcheck is the Docker HEALTHCHECK: GET /health of the otp in this
// container, exit 0 on 200. It needs no curl in the image.
func runHealthcheck(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("healthcheck", stderr)
	addr := os.Getenv("OTP_HTTP_ADDR")
	if addr == "" {
		addr = ":8001"
	}
	base := fs.String("url", localURL(addr), "OTP's base URL (http://host:port; /health is added) or a full health URL")
	timeout := fs.Duration("timeout", 5*time.Second, "how long to wait for the answer")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	target, err := healthURL(*base)
	if err != nil {
		return fmt.Errorf("healthcheck: --url: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("healthcheck: %s answered %s: %s", target, resp.Status, body)
	}
	fmt.Fprintf(stdout, "%s\n", body)
	return nil
}

// healthURL is what --url names: a base URL with no path
// (http://host:port, or with a trailing /) means its /health; a URL with a
// path is probed as given (a worker's http://host:9091/health, /ready).
func healthURL(s string) (string, error) {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("%q is not an http(s) URL with a host (for example http://127.0.0.1:8001)", s)
	}
	if u.Path == "" || u.Path == "/" {
		u.Path = "/health"
	}
	return u.String(), nil
}

// localURL turns a listen address (":8001", "0.0.0.0:8001", "[::]:8001")
// into a URL a client on this host can use.
func localURL(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "http://" + addr
	}
	switch host {
	case "", "0.0.0.0", "::":
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port)
}
