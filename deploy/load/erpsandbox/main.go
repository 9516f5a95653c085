// Command erpsandbox serves the ERPNext sandbox with its demo data and a
// fixed delay per request, for the load tests in deploy/load: `otp sandbox`
// has no latency knob, and real ERPNext round trips are not free.
//
//	go run ./deploy/load/erpsandbox -addr 127.0.0.1:18000 -latency 20ms
//
// It prints its URL and serves until SIGINT or SIGTERM.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/erpnext-otp/otp/erp/sandbox"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "erpsandbox:", err)
		os.Exit(1)
	}
}

func run() error {
	addr := flag.String("addr", "127.0.0.1:18000", "listen address (loopback only)")
	latency := flag.Duration("latency", 0, "delay before answering each request")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	sb := sandbox.New(sandbox.WithDemoData())
	defer sb.Close()
	sb.SetLatency(*latency)
	srv := &http.Server{Handler: sb, ReadHeaderTimeout: 10 * time.Second}
	key, secret := sb.Credentials()
	fmt.Printf("ERPNext sandbox at http://%s (latency %s), token %s:%s\n", ln.Addr(), *latency, key, secret)

	failed := make(chan error, 1)
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			failed <- err
		}
		close(failed)
	}()
	select {
	case <-ctx.Done():
	case err := <-failed:
		return err
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return srv.Shutdown(sctx)
}
