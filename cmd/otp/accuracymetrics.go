package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/erpnext-otp/otp/accuracy"
	"github.com/erpnext-otp/otp/promise"
)

// accuracyGauges are the accuracy report's figures over a trailing window
// (docs/accuracy.md), refreshed by the workers on a ticker
// (OTP_ACCURACY_INTERVAL). Each `otp work` process refreshes its own: the
// report costs a few list requests, the pages of its reads.
type accuracyGauges struct {
	otif       *prometheus.GaugeVec // basis
	lateP50    *prometheus.GaugeVec // basis
	lateP90    *prometheus.GaugeVec // basis
	repromised prometheus.Gauge
	hitRate    *prometheus.GaugeVec // confidence
	brier      prometheus.Gauge
	lines      *prometheus.GaugeVec // kind
	supplier   *prometheus.GaugeVec // supplier
	refreshed  prometheus.Gauge
	failures   prometheus.Counter
}

func newAccuracyGauges() *accuracyGauges {
	g := func(name, help string) prometheus.Gauge {
		return prometheus.NewGauge(prometheus.GaugeOpts{Name: name, Help: help})
	}
	vec := func(name, help, label string) *prometheus.GaugeVec {
		return prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: name, Help: help}, []string{label})
	}
	return &accuracyGauges{
		otif:       vec("otp_promise_otif_ratio", "Share of the window's promised lines delivered in full on or before the promise (basis first or latest).", "basis"),
		lateP50:    vec("otp_promise_lateness_p50", "Median lateness, in working days, of the lines delivered in full, on-time lines counting 0.", "basis"),
		lateP90:    vec("otp_promise_lateness_p90", "90th percentile of lateness, in working days, of the lines delivered in full.", "basis"),
		repromised: g("otp_promise_repromised_ratio", "Share of the window's measured lines whose promise changed after the first."),
		hitRate:    vec("otp_promise_hit_rate_ratio", "Share of the lines of a confidence tier kept against the latest promise.", "confidence"),
		brier:      g("otp_promise_brier_score", "Brier score of the confidence tiers: 0 is perfect."),
		lines:      vec("otp_promise_report_lines", "Lines of the window's report: delivered, measured, and each limit.", "kind"),
		supplier:   vec("otp_supplier_on_time_ratio", "Share of a supplier's Purchase Receipts on or before the PO line's date, in the supplier window.", "supplier"),
		refreshed:  g("otp_promise_report_timestamp_seconds", "When the accuracy gauges were last refreshed (Unix time)."),
		failures: prometheus.NewCounter(prometheus.CounterOpts{Name: "otp_promise_report_failures_total",
			Help: "Refreshes of the accuracy gauges that failed (ERPNext unreadable)."}),
	}
}

func (a *accuracyGauges) collectors() []prometheus.Collector {
	return []prometheus.Collector{a.otif, a.lateP50, a.lateP90, a.repromised, a.hitRate, a.brier, a.lines, a.supplier, a.refreshed, a.failures}
}

// Describe and Collect make the gauges one collector.
func (a *accuracyGauges) Describe(ch chan<- *prometheus.Desc) {
	for _, c := range a.collectors() {
		c.Describe(ch)
	}
}

func (a *accuracyGauges) Collect(ch chan<- prometheus.Metric) {
	for _, c := range a.collectors() {
		c.Collect(ch)
	}
}

// set shows report r, computed at now.
func (a *accuracyGauges) set(r *accuracy.Report, now time.Time) {
	for basis, b := range map[string]accuracy.Basis{"first": r.First, "latest": r.Latest} {
		a.otif.WithLabelValues(basis).Set(b.Ratio)
		a.lateP50.WithLabelValues(basis).Set(float64(b.P50))
		a.lateP90.WithLabelValues(basis).Set(float64(b.P90))
	}
	a.repromised.Set(r.RepromisedShare)
	for _, t := range r.Tiers {
		a.hitRate.WithLabelValues(string(t.Confidence)).Set(t.HitRate)
	}
	a.brier.Set(r.Brier)
	l := r.Limits
	for kind, n := range map[string]int{"delivered": r.DeliveredLine, "measured": r.Measured,
		"unpromised": l.Unpromised.Count, "no_first_promise": l.NoFirstPromise.Count, "partial": l.Partial.Count,
		"not_yet_due": l.NotYetDue.Count, "split": l.Split.Count, "returns": l.Returns.Count} {
		a.lines.WithLabelValues(kind).Set(float64(n))
	}
	a.supplier.Reset() // a supplier with no receipt left in the window disappears
	for _, s := range r.Suppliers {
		a.supplier.WithLabelValues(s.Supplier).Set(s.Rate)
	}
	a.refreshed.Set(float64(now.Unix()))
}

// reportFunc computes the report of the window [from, to].
type reportFunc func(ctx context.Context, from, to promise.Date) (*accuracy.Report, error)

// startAccuracyGauges refreshes g now and every interval, over the
// windowDays ending today (in loc); stop ends the loop and waits for it.
func startAccuracyGauges(g *accuracyGauges, report reportFunc, every time.Duration, windowDays int,
	now func() time.Time, loc *time.Location, log *slog.Logger) (stop func()) {
	return runEvery(every, true, func(ctx context.Context) {
		to := promise.DateOf(now().In(loc))
		r, err := report(ctx, to.AddDays(-windowDays+1), to)
		switch {
		case ctx.Err() != nil:
		case err != nil:
			g.failures.Inc()
			log.Warn("accuracy gauges not refreshed", "err", err)
		default:
			g.set(r, now())
		}
	})
}
