//go:build pprof

// Built with -tags pprof (deploy/load/run.sh intake-profile), `otp serve`,
// `otp work` and `otp all` also serve net/http/pprof on OTP_PPROF_ADDR, a
// listener of its own so that the profiler is never on the public port.
// Release builds leave it out.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"time"
)

func init() {
	for _, name := range []string{"serve", "work", "all"} {
		cmd := commands[name]
		inner := cmd.run
		cmd.run = func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
			addr := os.Getenv("OTP_PPROF_ADDR")
			if addr == "" {
				return inner(ctx, args, stdout, stderr)
			}
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				return fmt.Errorf("OTP_PPROF_ADDR %s: %w", addr, err)
			}
			mux := http.NewServeMux()
			mux.HandleFunc("/debug/pprof/", pprof.Index)
			mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
			mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
			mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
			srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
			done := make(chan error, 1)
			go func() { done <- srv.Serve(ln) }()
			err = inner(ctx, args, stdout, stderr)
			srv.Close()
			if serr := <-done; serr != nil && !errors.Is(serr, http.ErrServerClosed) {
				err = errors.Join(err, serr)
			}
			return err
		}
		commands[name] = cmd
	}
}
