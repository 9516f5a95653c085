package server

import (
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/erpnext-otp/otp/erp"
)

// metrics are the server's Prometheus metrics, in a registry of its own.
// Names follow the deployment runbook (http_requests_total,
// http_request_duration_seconds, erpnext_connection_status).
type metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	webhooks *prometheus.CounterVec
}

func newMetrics(version string, probe *erp.Probe) *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "http_requests_total",
			Help: "HTTP requests answered, by method, route and status code.",
		}, []string{"method", "route", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "http_request_duration_seconds",
			Help:    "Time to answer an HTTP request, by method and route.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .15, .25, .5, 1, 2.5, 5},
		}, []string{"method", "route"}),
		webhooks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "otp_webhooks_total",
			Help: "Webhook deliveries by result: queued, duplicate, unauthorized, too_large, invalid, unavailable.",
		}, []string{"result"}),
	}
	m.reg.MustRegister(
		m.requests, m.duration, m.webhooks,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "erpnext_connection_status",
			Help: "1 when the last background ERPNext check succeeded, else 0.",
		}, func() float64 {
			if probe.Status().Connected {
				return 1
			}
			return 0
		}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name:        "otp_build_info",
			Help:        "Always 1; the version label names the running build.",
			ConstLabels: prometheus.Labels{"version": version},
		}, func() float64 { return 1 }),
	)
	for _, result := range []string{"queued", "duplicate", "unauthorized", "too_large", "invalid", "unavailable"} {
		m.webhooks.WithLabelValues(result)
	}
	return m
}

// Registerer lets the binary add its own collectors (for example the
// ERPNext client's request counter) to /metrics.
func (s *Server) Registerer() prometheus.Registerer { return s.metrics.reg }

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

func (m *metrics) webhook(result string) { m.webhooks.WithLabelValues(result).Inc() }

// observe is the outermost middleware: it lets the error handler answer,
// then counts, times and logs the request by its route pattern.
func (s *Server) observe(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		if err != nil {
			c.Error(err)
		}
		route := c.Path()
		if route == "" {
			route = "unmatched"
		}
		req, status := c.Request(), c.Response().Status
		elapsed := time.Since(start)
		s.metrics.requests.WithLabelValues(req.Method, route, strconv.Itoa(status)).Inc()
		s.metrics.duration.WithLabelValues(req.Method, route).Observe(elapsed.Seconds())
		if route != "/health" && route != "/metrics" && route != "/ready" && route != "/readyz" {
			s.log.Debug("http request", "method", req.Method, "path", req.URL.Path, "route", route,
				"status", status, "duration_ms", float64(elapsed.Microseconds())/1000, "err", err)
		}
		return nil
	}
}
