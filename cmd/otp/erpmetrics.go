package main

import (
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/erpnext-otp/otp/erp"
)

// erpMetrics counts and times ERPNext requests for /metrics.
type erpMetrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	breaker  func() erp.BreakerState // set once the client exists
	state    *prometheus.Desc
}

func newERPMetrics() *erpMetrics {
	return &erpMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "otp_erpnext_requests_total",
			Help: "HTTP requests to ERPNext by method, route and status (0: no response).",
		}, []string{"method", "route", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "otp_erpnext_request_duration_seconds",
			Help:    "Time ERPNext took to answer, by method, route and outcome (ok, client_error, server_error, no_response).",
			Buckets: prometheus.DefBuckets,
		}, []string{"method", "route", "outcome"}),
		state: prometheus.NewDesc("otp_erpnext_circuit_breaker_state",
			"1 for the ERPNext client's circuit breaker state (closed, half-open, open), 0 for the others.", []string{"state"}, nil),
	}
}

// outcome groups an ERPNext answer's status for the duration histogram.
func outcome(status int) string {
	switch {
	case status == 0:
		return "no_response"
	case status < 400:
		return "ok"
	case status < 500:
		return "client_error"
	}
	return "server_error"
}

func (e *erpMetrics) observe(method, route string, status int, d time.Duration) {
	e.requests.WithLabelValues(method, route, strconv.Itoa(status)).Inc()
	e.duration.WithLabelValues(method, route, outcome(status)).Observe(d.Seconds())
}

func (e *erpMetrics) Describe(ch chan<- *prometheus.Desc) {
	e.requests.Describe(ch)
	e.duration.Describe(ch)
	ch <- e.state
}

func (e *erpMetrics) Collect(ch chan<- prometheus.Metric) {
	e.requests.Collect(ch)
	e.duration.Collect(ch)
	if e.breaker == nil {
		return
	}
	now := e.breaker()
	for _, st := range []erp.BreakerState{erp.BreakerClosed, erp.BreakerHalfOpen, erp.BreakerOpen} {
		v := 0.0
		if st == now {
			v = 1
		}
		ch <- prometheus.MustNewConstMetric(e.state, prometheus.GaugeValue, v, string(st))
	}
}
