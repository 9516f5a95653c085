package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/redis/go-redis/v9"

	"github.com/erpnext-otp/otp/erp"
)

// queueMetrics is the queue collector (queuemetrics.go): only processes
// that run workers export it, and rules aggregate it with max.
func queueMetrics(insp *asynq.Inspector) prometheus.Collector {
	return newQueueCollector(insp)
}

// Worker states, as /health reports them.
const (
	workerStarting int32 = iota
	workerRunning
	workerStopping // Close has begun: in-flight tasks finish
	workerStopped
)

var workerStateNames = [...]string{"starting", "running", "stopping", "stopped"}

// workerHTTP is `otp work`'s own small listener, so that a worker pod can
// be probed and scraped: /health and /metrics. (In `all` mode the main
// server serves both, and this listener is not started.)
type workerHTTP struct {
	state   atomic.Int32
	redis   redis.UniversalClient
	probe   *erp.Probe // nil: /health does not report ERPNext
	version string
	reg     *prometheus.Registry
	srv     *http.Server
	// erpPending says why start-up still waits for ERPNext ("" once it
	// answered); nil: not waiting.
	erpPending func() string
}

// newWorkerHTTP builds the handlers, serving reg (the process's registry,
// with the ERPNext, queue and task collectors) to which it adds
// otp_worker_running and the collectors given (erpnext_connection_status).
func newWorkerHTTP(reg *prometheus.Registry, rdb redis.UniversalClient, version string, log *slog.Logger, extra ...prometheus.Collector) (*workerHTTP, error) {
	w := &workerHTTP{redis: rdb, version: version, reg: reg}
	cs := []prometheus.Collector{
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "otp_worker_running",
			Help: "1 while this process's asynq server runs (and drains), else 0.",
		}, func() float64 {
			if w.running() {
				return 1
			}
			return 0
		}),
	}
	for _, c := range append(cs, extra...) {
		if err := w.reg.Register(c); err != nil {
			return nil, fmt.Errorf("worker metrics: %w", err)
		}
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /health", w.health)
	mux.HandleFunc("GET /ready", w.ready)
	mux.Handle("GET /metrics", promhttp.HandlerFor(w.reg, promhttp.HandlerOpts{
		Registry: w.reg,
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelError),
	}))
	w.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	return w, nil
}

// running is true while the asynq server runs, draining included.
func (w *workerHTTP) running() bool {
	s := w.state.Load()
	return s == workerRunning || s == workerStopping
}

// workerHealth is GET /health and GET /ready of `otp work`.
type workerHealth struct {
	Status  string `json:"status"` // /health: healthy, degraded (Redis unreachable: asynq keeps retrying), stopping, or down; /ready: ready or not ready
	Version string `json:"version"`
	Worker  string `json:"worker"` // starting, running, stopping, stopped
	Redis   string `json:"redis"`  // "ok" or the error
	// ERPNext is the background probe's answer: "ok", "not checked yet",
	// or its last error (a worker without ERPNext is degraded: its tasks
	// retry until it is back).
	ERPNext string `json:"erpnext,omitempty"`
}

// healthPingTimeout bounds the Redis PING of one /health.
const healthPingTimeout = 2 * time.Second

// health answers 200 while the asynq server runs (a worker that lost Redis
// is degraded, not dead: asynq reconnects by itself, a restart would not
// help), and 503 before it starts and after it stopped.
func (w *workerHTTP) health(rw http.ResponseWriter, r *http.Request) {
	state := w.state.Load()
	b := workerHealth{Status: "healthy", Version: w.version, Worker: workerStateNames[state], Redis: "ok"}
	ctx, cancel := context.WithTimeout(r.Context(), healthPingTimeout)
	defer cancel()
	if err := w.redis.Ping(ctx).Err(); err != nil {
		b.Redis = err.Error()
		b.Status = "degraded"
	}
	if w.probe != nil {
		switch p := w.probe.Status(); {
		case p.CheckedAt.IsZero():
			b.ERPNext = "not checked yet"
		case !p.Connected:
			b.ERPNext, b.Status = p.LastError, "degraded"
		default:
			b.ERPNext = "ok"
		}
	}
	status := http.StatusOK
	switch {
	case state == workerStopping:
		b.Status = "stopping"
	case !w.running():
		b.Status, status = "down", http.StatusServiceUnavailable
	}
	rw.Header().Set("Content-Type", "application/json")
	rw.WriteHeader(status)
	_ = json.NewEncoder(rw).Encode(b)
}

// workerReady is GET /ready of `otp work`.
type workerReady struct {
	Status  string `json:"status"` // "ready" or "not ready"
	Version string `json:"version"`
	Worker  string `json:"worker"`
	Redis   string `json:"redis"`
	ERPNext string `json:"erpnext"` // "ok", or why start-up still waits for it
}

// ready is readiness, stricter than health (liveness): 200 only while the
// workers run, Redis answers PING and start-up is not waiting for ERPNext,
// so that a rollout waits for a worker that can take tasks; 503 before the
// workers start (naming what to check), once they drain, and while Redis
// is unreachable (a restart would not help then: /health stays 200).
func (w *workerHTTP) ready(rw http.ResponseWriter, r *http.Request) {
	state := w.state.Load()
	b := workerReady{Status: "ready", Version: w.version, Worker: workerStateNames[state], Redis: "ok", ERPNext: "ok"}
	if w.erpPending != nil {
		if why := w.erpPending(); why != "" {
			b.ERPNext = why
		}
	}
	ctx, cancel := context.WithTimeout(r.Context(), healthPingTimeout)
	defer cancel()
	if err := w.redis.Ping(ctx).Err(); err != nil {
		b.Redis = err.Error()
	}
	status := http.StatusOK
	if state != workerRunning || b.Redis != "ok" || b.ERPNext != "ok" {
		b.Status, status = "not ready", http.StatusServiceUnavailable
	}
	rw.Header().Set("Content-Type", "application/json")
	rw.WriteHeader(status)
	_ = json.NewEncoder(rw).Encode(b)
}

// serve answers on ln until shutdown; it reports a listener failure.
func (w *workerHTTP) serve(ln net.Listener, fail func(error)) {
	if err := w.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		fail(fmt.Errorf("worker http: %w", err))
	}
}

func (w *workerHTTP) shutdown(ctx context.Context) error { return w.srv.Shutdown(ctx) }
