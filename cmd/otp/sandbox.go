package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/erpnext-otp/otp/erp/sandbox"
)

// runSandbox is `otp sandbox`: the ERPNext sandbox alone, with demo data.
func runSandbox(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("sandbox", stderr)
	addr := fs.String("addr", "127.0.0.1:8000", "listen address")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	log := newLogger(stderr, slog.LevelInfo)
	failed := make(chan error, 1)
	sb, url, srv, err := startSandbox(*addr, time.Now, log, func(err error) { failed <- err })
	if err != nil {
		return err
	}
	key, secret := sb.Credentials()
	fmt.Fprintf(stdout, "ERPNext sandbox (demo data) at %s\n  Authorization: token %s:%s   (user %s)\n  Authorization: %s   (user %s, %s)\n\nTry:\n  curl -s -H 'Authorization: token %s:%s' '%s/api/resource/Sales%%20Order?fields=[\"name\",\"status\",\"customer\"]'\n",
		url, key, secret, sb.APIUser(), demoSalesAuth, sandbox.DemoSalesUser, sandbox.DemoSalesRole, key, secret, url)
	select {
	case <-ctx.Done():
	case err = <-failed:
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return errors.Join(err, srv.Shutdown(sctx), sb.Close())
}

// startSandbox builds the demo sandbox and serves it on addr.
func startSandbox(addr string, now func() time.Time, log *slog.Logger, fail func(error)) (*sandbox.Sandbox, string, *http.Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, "", nil, err
	}
	sb := sandbox.New(sandbox.WithDemoData(), sandbox.WithClock(now), sandbox.WithLogger(log.With("component", "sandbox")))
	srv := &http.Server{Handler: sb, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			fail(fmt.Errorf("sandbox: %w", err))
		}
	}()
	return sb, localURL(ln.Addr().String()), srv, nil
}
