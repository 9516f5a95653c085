package main

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/erpnext-otp/otp/erp"
)

// firstProbeWait bounds the check startProbe makes before it returns, so
// that an ERPNext down at start delays start-up by this much at most.
const firstProbeWait = 5 * time.Second

// startProbe checks p once, then every interval in the background until
// the returned stop is called; it logs when ERPNext goes away and when it
// comes back. The first check is made before it returns, so that /health
// and /ready are right from the first probe.
func startProbe(p *erp.Probe, every time.Duration, log *slog.Logger) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	fctx, fcancel := context.WithTimeout(ctx, firstProbeWait)
	first := p.Check(fctx)
	fcancel()
	if first != nil {
		log.Warn("ERPNext probe failed", "err", first)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(every)
		defer t.Stop()
		was := first == nil
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			err := p.Check(ctx)
			switch {
			case ctx.Err() != nil:
				return
			case err != nil && was:
				log.Warn("ERPNext probe failed", "err", err)
			case err == nil && !was:
				log.Info("ERPNext probe succeeded again")
			}
			was = err == nil
		}
	}()
	return func() { cancel(); wg.Wait() }
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
