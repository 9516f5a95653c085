package server

import (
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/erpnext-otp/otp/erp"
	"github.com/erpnext-otp/otp/tasks"
)

// metrics are the server's Prometheus metrics, in the process's registry.
// Names follow the deployment runbook (http_requests_total,
// http_request_duration_seconds, erpnext_connection_status).
type metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	webhooks *prometheus.CounterVec
}

// NewRegistry is a process's Prometheus registry, with what every OTP
// process reports: Go and process metrics, and otp_build_info. The binary
// builds one and hands it to the server (Deps.Registry) or serves it itself.
func NewRegistry(version string) *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name:        "otp_build_info",
			Help:        "Always 1; the version label names the running build.",
			ConstLabels: prometheus.Labels{"version": version},
		}, func() float64 { return 1 }),
	)
	return reg
}

func newMetrics(reg *prometheus.Registry, probe *erp.Probe) *metrics {
	m := &metrics{
		reg: reg,
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
			Help: "Webhook deliveries by DocType and result: queued, duplicate, unauthorized, too_large, invalid, unavailable.",
		}, []string{"doctype", "result"}),
	}
	m.reg.MustRegister(
		m.requests, m.duration, m.webhooks,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "erpnext_connection_status",
			Help: "1 when the last background ERPNext check succeeded, else 0.",
		}, func() float64 {
			if probe.Status().Connected {
				return 1
			}
			return 0
		}),
	)
	for _, doctype := range append([]string{"Sales Order"}, slices.Sorted(maps.Values(supplyDocTypes))...) {
		for _, result := range []string{"queued", "duplicate", "unauthorized", "too_large", "invalid", "unavailable"} {
			m.webhooks.WithLabelValues(doctype, result)
		}
	}
	return m
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

func (m *metrics) webhook(doctype, result string) { m.webhooks.WithLabelValues(doctype, result).Inc() }

// RequestIDHeader is the request id header: honoured when the caller
// sends a sane one, else generated, and always sent back.
const RequestIDHeader = "X-Request-ID"

// requestID returns the caller's X-Request-ID when it is short and plain
// (it goes into logs and task payloads), else a new one.
func requestID(h string) string {
	if n := len(h); n == 0 || n > 128 {
		return tasks.NewRequestID()
	}
	for _, r := range h {
		if r < '!' || r > '~' {
			return tasks.NewRequestID()
		}
	}
	return h
}

// quiet reports routes whose requests are not access-logged at INFO:
// probes and scrapes, and the dashboard, whose page polls its API every
// few seconds.
func quiet(route string) bool {
	switch route {
	case "/health", "/ready", "/readyz", "/metrics", DashboardPath, DashboardPath + "/*":
		return true
	}
	return false
}

// webhookLog is what a webhook's handler adds to its request's access log
// line: one line per delivery, named by what happened to it.
type webhookLog struct {
	msg                                string // "webhook queued" or "webhook duplicate"; "" when none
	key, name, modified, taskID, queue string
}

// requestContext is the echo.Context observe hands the route: a webhook's
// handler leaves its webhookLog here (setWebhookLog) rather than in echo's
// per-request map, which would cost a map a request. observe pools them.
type requestContext struct {
	echo.Context
	webhook webhookLog
}

// setWebhookLog names the access log line of c's request after w.
func setWebhookLog(c echo.Context, w webhookLog) {
	if rc, ok := c.(*requestContext); ok {
		rc.webhook = w
	}
}

// observe is the outermost middleware: it gives the request its id and
// span, lets the error handler answer, then counts, times and logs the
// request by its route pattern. The access log line carries the token's
// name, never the token; a webhook's carries what became of the delivery
// (webhookLog) and is its only line. Span attributes are set only on a
// span that records, and log attributes only built when the line is.
func (s *Server) observe(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		req := c.Request()
		id := requestID(req.Header.Get(RequestIDHeader))
		c.Response().Header().Set(RequestIDHeader, id)
		ctx := tasks.WithRequestID(req.Context(), id)
		ctx, span := s.tracer.Start(ctx, req.Method+" "+req.URL.Path, trace.WithSpanKind(trace.SpanKindServer))
		defer span.End()
		recording := span.IsRecording()
		if recording {
			span.SetAttributes(attribute.String("http.request.method", req.Method), attribute.String("request_id", id))
		}
		c.SetRequest(req.WithContext(ctx))

		rc := s.contexts.Get().(*requestContext)
		rc.Context = c
		defer func() {
			*rc = requestContext{}
			s.contexts.Put(rc)
		}()
		err := next(rc)
		if err != nil {
			c.Error(err)
		}
		route := c.Path()
		if route == "" {
			route = "unmatched"
		}
		status := c.Response().Status
		if recording {
			span.SetName(req.Method + " " + route)
			span.SetAttributes(attribute.String("http.route", route), attribute.Int("http.response.status_code", status))
			if status >= 500 {
				span.SetStatus(codes.Error, http.StatusText(status))
			}
		}
		now := time.Now()
		elapsed := now.Sub(start)
		s.metrics.requests.WithLabelValues(req.Method, route, strconv.Itoa(status)).Inc()
		s.metrics.duration.WithLabelValues(req.Method, route).Observe(elapsed.Seconds())
		level := slog.LevelInfo
		if quiet(route) {
			level = slog.LevelDebug
		}
		h := s.log.Handler()
		if !h.Enabled(ctx, level) {
			return nil
		}
		msg := "http request"
		if w := &rc.webhook; w.msg != "" {
			msg = w.msg
		}
		// A record of our own, straight to the handler: Logger.LogAttrs
		// would look up its caller's source line for every request, which
		// no handler of ours prints.
		r := slog.NewRecord(now, level, msg, 0)
		r.AddAttrs(slog.String("method", req.Method), slog.String("path", req.URL.Path), slog.String("route", route),
			slog.Int("status", status), slog.Float64("duration_ms", float64(elapsed.Microseconds())/1000))
		if w := &rc.webhook; w.msg != "" {
			r.AddAttrs(slog.String(w.key, w.name), slog.String("modified", w.modified), slog.String("task_id", w.taskID))
			if w.queue != "" {
				r.AddAttrs(slog.String("queue", w.queue))
			}
		}
		if name, ok := c.Get(tokenKey).(string); ok {
			r.AddAttrs(slog.String("token", name))
		}
		if err != nil {
			r.AddAttrs(slog.String("err", err.Error()))
		}
		_ = h.Handle(ctx, r) // as Logger.LogAttrs does: a handler's error has nowhere to go
		return nil
	}
}
