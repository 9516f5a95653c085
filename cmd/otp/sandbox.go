package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"strconv"
	"time"

	"github.com/erpnext-otp/otp/erp/sandbox"
)

// runSandbox is `otp sandbox`: the ERPNext sandbox alone, with demo data.
func runSandbox(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("sandbox", stderr)
	def := os.Getenv("OTP_SANDBOX_ADDR")
	if def == "" {
		def = defaultSandboxAddr
	}
	addr := fs.String("addr", def, "listen address (default from OTP_SANDBOX_ADDR)")
	// A bad value is a usage error, told on stderr as the flag package
	// tells its own: main exits 2 without printing usage errors.
	badUsage := func(msg string) error {
		fmt.Fprintln(stderr, msg)
		return fmt.Errorf("%s: %w", msg, errUsage)
	}
	var defLatency time.Duration
	if v := os.Getenv("OTP_SANDBOX_LATENCY"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			return badUsage(fmt.Sprintf("OTP_SANDBOX_LATENCY=%q is not a duration (30ms, 1s)", v))
		}
		defLatency = d
	}
	latency := fs.Duration("latency", defLatency, "delay before answering each ERPNext API request, e.g. 30ms for a real site's round trip (default from OTP_SANDBOX_LATENCY)")
	defWorkers := 1
	if v := os.Getenv("OTP_SANDBOX_WEBHOOK_WORKERS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return badUsage(fmt.Sprintf("OTP_SANDBOX_WEBHOOK_WORKERS=%q is not a number", v))
		}
		defWorkers = n
	}
	workers := fs.Int("webhook-workers", defWorkers, "background workers sending webhooks, side by side and so not always in order; a bench's default is 1 (default from OTP_SANDBOX_WEBHOOK_WORKERS)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *latency < 0 {
		return badUsage(fmt.Sprintf("latency %v: must not be negative", *latency))
	}
	if *workers < 1 {
		return badUsage(fmt.Sprintf("webhook workers %d: must be at least 1", *workers))
	}
	log := newLogger(stderr, slog.LevelInfo)
	failed := make(chan error, 1)
	sb, url, srv, err := startSandbox(*addr, time.Now, log, func(err error) { failed <- err },
		sandbox.WithLatency(*latency), sandbox.WithWebhookWorkers(*workers))
	if err != nil {
		return err
	}
	key, secret := sb.Credentials()
	data := "demo data"
	if *latency > 0 {
		data += fmt.Sprintf(", %v per request", *latency)
	}
	if *workers > 1 {
		data += fmt.Sprintf(", %d webhook workers", *workers)
	}
	fmt.Fprintf(stdout, "ERPNext sandbox (%s) at %s\n  Authorization: token %s:%s   (user %s)\n  Authorization: %s   (user %s, %s)\n\nTry:\n  %s\n\nFor the curl examples in README.md and docs/, in another shell:\n\n  %s\n\nStop with Ctrl-C.\n",
		data, url, key, secret, sb.APIUser(), demoSalesAuth, sandbox.DemoSalesUser, sandbox.DemoSalesRole, sandboxTryCurl(url, key, secret), exportLine("", url))
	select {
	case <-ctx.Done():
	case err = <-failed:
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return errors.Join(err, srv.Shutdown(sctx), sb.Close())
}

// defaultSandboxAddr is where `otp sandbox` listens when neither --addr nor
// OTP_SANDBOX_ADDR says (the configuration's default too).
const defaultSandboxAddr = "127.0.0.1:8000"

// sandboxTryCurl is the banner's example: the open Sales Orders' names,
// statuses and customers. The query is escaped, so that curl takes the
// brackets of fields=[...] literally and a shell passes it as one word.
func sandboxTryCurl(base, key, secret string) string {
	fields := url.QueryEscape(`["name","status","customer"]`)
	return fmt.Sprintf(`curl -sS -H 'Authorization: token %s:%s' '%s/api/resource/Sales%%20Order?fields=%s'; echo`, key, secret, base, fields)
}
