package main

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/erpnext-otp/otp/erp"
)

// TestProbeFlipsTheGaugeWithoutCallers: the background probe alone moves
// erpnext_connection_status when ERPNext goes down and comes back, within
// one period, with no HTTP request to OTP.
func TestProbeFlipsTheGaugeWithoutCallers(t *testing.T) {
	var down atomic.Bool
	p := erp.NewProbe(func(context.Context) error {
		if down.Load() {
			return errors.New("erp: connection refused")
		}
		return nil
	}, time.Second, nil)
	var logs syncBuffer
	const period = 50 * time.Millisecond
	stop := startProbe(p, period, slog.New(slog.NewJSONHandler(&logs, nil)))
	defer stop()
	gauge := connectionGauge(p)

	waitGauge := func(want float64) time.Duration {
		t.Helper()
		start := time.Now()
		for gaugeValue(t, gauge) != want {
			if time.Since(start) > 3*period {
				t.Fatalf("erpnext_connection_status did not become %v within 3 periods", want)
			}
			time.Sleep(2 * time.Millisecond)
		}
		return time.Since(start)
	}
	waitGauge(1)
	down.Store(true)
	if d := waitGauge(0); d > 2*period {
		t.Errorf("went to 0 after %v, want within a period (%v)", d, period)
	}
	if got := p.Status().LastError; got != "erp: connection refused" {
		t.Errorf("last error %q", got)
	}
	down.Store(false)
	waitGauge(1)
	stop()
	if !strings.Contains(logs.String(), "ERPNext probe failed") || !strings.Contains(logs.String(), "ERPNext probe succeeded again") {
		t.Errorf("logs lack the probe's transitions:\n%s", logs.String())
	}
}

// gaugeValue reads the one gauge c collects.
func gaugeValue(tb testing.TB, c prometheus.Collector) float64 {
	tb.Helper()
	ch := make(chan prometheus.Metric, 1)
	c.Collect(ch)
	var m dto.Metric
	if err := (<-ch).Write(&m); err != nil {
		tb.Fatal(err)
	}
	return m.GetGauge().GetValue()
}
