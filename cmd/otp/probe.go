package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/erpnext-otp/otp/erp"
)

// startProbe checks p every interval in the background until the returned
// stop is called; it logs when ERPNext goes away and when it comes back.
// Start-up's own attempts (awaitERPNext) record into p, so /health and
// /ready are right before the first tick.
func startProbe(p *erp.Probe, every time.Duration, log *slog.Logger) (stop func()) {
	was := true // start-up logs its own failures
	return runEvery(every, false, func(ctx context.Context) {
		err := p.Check(ctx)
		switch {
		case err != nil && ctx.Err() != nil:
			return // stopped mid-check: no news about ERPNext
		case err != nil && was:
			log.Warn("ERPNext probe failed", "err", err)
		case err == nil && !was:
			log.Info("ERPNext probe succeeded again")
		}
		was = err == nil
	})
}

// connectionGauge is erpnext_connection_status for a work-only process
// (serve and all have the server's).
func connectionGauge(p *erp.Probe) prometheus.Collector {
	return prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "erpnext_connection_status",
		Help: "1 when the last background ERPNext check succeeded, else 0.",
	}, func() float64 {
		if p.Status().Connected {
			return 1
		}
		return 0
	})
}
