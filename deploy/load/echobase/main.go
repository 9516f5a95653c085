// Command echobase is the bare-Echo baseline of the intake load test
// (deploy/load/run.sh intake): the Echo version OTP links, one POST route
// at OTP's webhook path that reads the body, within the same 1 MiB limit,
// and answers 202 with a body of the size OTP's carries. Nothing else: no
// middleware, no signature, no Redis. What `otp serve` achieves is quoted
// as a fraction of what this achieves under the same wrk load, a figure
// that holds on a shared machine where the absolute rate does not.
//
//	go run ./deploy/load/echobase -addr 127.0.0.1:18002
//
// It serves until SIGINT or SIGTERM.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/labstack/echo/v4"
)

// accepted has the length of OTP's 202 body ({"status":"queued","task_id":"promise:<64 hex>"}).
var accepted = []byte(`{"status":"queued","task_id":"promise:0000000000000000000000000000000000000000000000000000000000000000"}`)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "echobase:", err)
		os.Exit(1)
	}
}

func run() error {
	addr := flag.String("addr", "127.0.0.1:18002", "listen address (loopback only)")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.POST("/webhooks/erpnext/sales-order", func(c echo.Context) error {
		if _, err := io.ReadAll(http.MaxBytesReader(c.Response(), c.Request().Body, 1<<20)); err != nil {
			return echo.NewHTTPError(http.StatusBadRequest, err.Error())
		}
		return c.JSONBlob(http.StatusAccepted, accepted)
	})
	e.GET("/health", func(c echo.Context) error { return c.String(http.StatusOK, "ok") })

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: e, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	fmt.Printf("echobase on http://%s\n", ln.Addr())
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
