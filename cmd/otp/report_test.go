package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/erpnext-otp/otp/accuracy"
	"github.com/erpnext-otp/otp/erp"
	"github.com/erpnext-otp/otp/promise"
)

func runReportCmd(tb testing.TB, environ map[string]string, args ...string) (string, string, error) {
	tb.Helper()
	var stdout, stderr bytes.Buffer
	err := reportCmd{environ: environ, now: func() time.Time { return promiseNow }}.run(context.Background(), args, &stdout, &stderr)
	return stdout.String(), stderr.String(), err
}

// The demo's delivered order, promised (by hand here) for Monday 23
// November and delivered Tuesday 24: one line, one working day late.
func TestReportAccuracyCommand(t *testing.T) {
	sb, env := MustSite(t)
	so := sb.Demo().DeliveredSO
	if _, err := sb.Update("Sales Order", so, map[string]any{erp.FieldPromiseDate: "2026-11-23",
		erp.FieldFirstPromiseDate: "2026-11-23", erp.FieldConfidence: "HIGH",
		erp.FieldExplanation: "4 from stock at Stores - WH; +1 processing day"}); err != nil {
		t.Fatal(err)
	}
	out, _, err := runReportCmd(t, env, "accuracy", "--from", "2026-11-01", "--to", "2026-11-30", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var r accuracy.Report
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if r.Measured != 1 || r.Latest.Lines != 1 || r.Latest.OTIF != 0 || r.Latest.Late != 1 || r.Latest.P50 != 1 ||
		r.First.Late != 1 || r.Tiers[0].Lines != 1 || r.Tiers[0].Hits != 0 || r.Brier != 0 {
		t.Errorf("report %s", out)
	}
	if g := r.Breakdowns[accuracy.BySource]; len(g) != 1 || g[0].Key != "stock" {
		t.Errorf("by source %+v", g)
	}

	table, _, err := runReportCmd(t, env, "accuracy", "--from", "2026-11-01", "--to", "2026-11-30")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"1 delivered, 1 measured", "latest promise", "Brier score", "by source", "Limits"} {
		if !strings.Contains(table, want) {
			t.Errorf("table lacks %q:\n%s", want, table)
		}
	}
}

func TestReportCommandUsage(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want error
	}{
		{"no report named", nil, errUsage},
		{"unknown report", []string{"speed"}, errUsage},
		{"help", []string{"--help"}, errHelp},
		{"bad date", []string{"accuracy", "--from", "yesterday"}, errUsage},
		{"inverted", []string{"accuracy", "--from", "2026-11-30", "--to", "2026-11-01"}, errUsage},
		{"over a year", []string{"accuracy", "--from", "2024-11-30", "--to", "2026-11-01"}, errUsage},
		{"stray argument", []string{"accuracy", "now"}, errUsage},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, _, err := runReportCmd(t, map[string]string{}, tc.args...); !errors.Is(err, tc.want) {
				t.Errorf("err = %v, want %v", err, tc.want)
			}
		})
	}
}

// The gauges show the report, refresh on the ticker, count failures, and
// stop when told.
func TestAccuracyGaugesRefresh(t *testing.T) {
	g := newAccuracyGauges()
	calls := make(chan [2]promise.Date, 10)
	fail := false
	report := func(ctx context.Context, from, to promise.Date) (*accuracy.Report, error) {
		calls <- [2]promise.Date{from, to}
		if fail {
			return nil, errors.New("ERPNext down")
		}
		fail = true // the second refresh fails
		return &accuracy.Report{Figures: accuracy.Figures{
			First: accuracy.Basis{Ratio: 0.8, P90: 2}, Latest: accuracy.Basis{Ratio: 0.9},
			Tiers: []accuracy.Tier{{Confidence: promise.ConfidenceHigh, HitRate: 0.95}}, Brier: 0.1},
			Suppliers: []accuracy.Supplier{{Supplier: "Acme", Rate: 0.94}}}, nil
	}
	stop := startAccuracyGauges(g, report, 10*time.Millisecond, 30, func() time.Time { return promiseNow }, time.UTC,
		slog.New(slog.DiscardHandler))
	first := <-calls
	<-calls // the second, failing refresh has started
	for deadline := time.Now().Add(5 * time.Second); value(t, g.failures) < 1 && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	if want := [2]promise.Date{promise.NewDate(2026, 10, 27), promise.NewDate(2026, 11, 25)}; first != want {
		t.Errorf("window %v, want %v (30 days to today)", first, want)
	}
	stop()
	stopped := len(calls)
	for _, c := range []struct {
		name string
		got  float64
		want float64
	}{
		{`otp_promise_otif_ratio{basis="first"}`, value(t, g.otif.WithLabelValues("first")), 0.8},
		{`otp_promise_otif_ratio{basis="latest"}`, value(t, g.otif.WithLabelValues("latest")), 0.9},
		{`otp_promise_lateness_p90{basis="first"}`, value(t, g.lateP90.WithLabelValues("first")), 2},
		{`otp_promise_hit_rate_ratio{confidence="HIGH"}`, value(t, g.hitRate.WithLabelValues("HIGH")), 0.95},
		{"otp_promise_brier_score", value(t, g.brier), 0.1},
		{`otp_supplier_on_time_ratio{supplier="Acme"}`, value(t, g.supplier.WithLabelValues("Acme")), 0.94},
		{"otp_promise_report_failures_total", value(t, g.failures), 1},
	} {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	time.Sleep(30 * time.Millisecond)
	if n := len(calls) - stopped; n > 0 {
		t.Errorf("%d refreshes after stop", n)
	}
}

// value reads a gauge's or counter's value.
func value(tb testing.TB, m prometheus.Metric) float64 {
	tb.Helper()
	var out dto.Metric
	if err := m.Write(&out); err != nil {
		tb.Fatal(err)
	}
	if out.Counter != nil {
		return out.Counter.GetValue()
	}
	return out.Gauge.GetValue()
}
