package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
	"go.opentelemetry.io/otel/trace"

	"github.com/erpnext-otp/otp/accuracy"
	"github.com/erpnext-otp/otp/config"
	"github.com/erpnext-otp/otp/erp"
	"github.com/erpnext-otp/otp/erp/sandbox"
	"github.com/erpnext-otp/otp/promise"
	"github.com/erpnext-otp/otp/quote"
	"github.com/erpnext-otp/otp/server"
	"github.com/erpnext-otp/otp/tasks"
	"github.com/erpnext-otp/otp/worker"
)

// role is what one process does: serve HTTP, work the queues, or both.
type role int

const (
	roleServe role = 1 << iota
	roleWork
)

// runRoles is the serve/work/all subcommand: start, wait for SIGTERM or a
// failure, shut down in order.
func runRoles(name string, r role) func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
		fs := newFlags(name, stderr)
		fs.Usage = func() {
			fmt.Fprintf(stderr, "usage: otp %s\n\nIt takes no flags: OTP_* environment variables configure it (README \"Configure\").\n", name)
		}
		if err := parseFlags(fs, args); err != nil {
			return err
		}
		cfg, err := config.FromEnv()
		if err != nil {
			return err
		}
		logger := newLogger(stderr, cfg.SlogLevel())
		routeLibraryLogs(logger)
		m := &Main{Config: cfg, Roles: r, Logger: logger, Out: stdout, Version: version}
		if r == roleWork {
			m.WorkerAddr = cfg.WorkerAddr // only `work` alone has a listener of its own
		}
		if err := m.Run(ctx); err != nil {
			return errors.Join(err, m.Close())
		}
		select {
		case <-ctx.Done():
			m.Logger.Info("shutting down", "reason", "signal")
			m.drain()
		case err = <-m.Failed():
			m.Logger.Error("shutting down", "reason", err)
		}
		return errors.Join(err, m.Close())
	}
}

// Main is one run of OTP: it wires the dependencies the configuration asks
// for, starts them, and stops them in order (benbjohnson/wtf's Main).
type Main struct {
	Config  config.Config
	Roles   role
	Logger  *slog.Logger
	Out     io.Writer // where the start-up banner goes
	Version string
	// Now is the clock handed to the worker and the sandbox (time.Now when nil).
	Now func() time.Time
	// TracerProvider makes the spans (tests give one that records them);
	// nil: the OTLP exporter when OTEL_EXPORTER_OTLP_ENDPOINT is set, else
	// the no-op provider.
	TracerProvider trace.TracerProvider
	// WorkerAddr is where a work-only process serves /health and /metrics
	// (OTP_WORKER_ADDR); empty: no listener. Ignored when Roles includes
	// serve, whose server has both.
	WorkerAddr string

	// Test hooks. pollEvery is how often idle workers look for tasks
	// (asynq's TaskCheckInterval) and, when set, for due retries
	// (DelayedTaskCheckInterval); 0 means taskCheckInterval and asynq's
	// 5 s, and the embedded Redis uses 200 ms for the retries.
	pollEvery time.Duration
	// taskMiddleware, when set, wraps the worker's handlers (tests use it
	// to make a task slow to stop).
	taskMiddleware asynq.MiddlewareFunc
	// erpOptions are added to the ERPNext client's (tests shorten its
	// retries and breaker); startupBackoff overrides start-up's
	// startupBackoffMin and startupBackoffMax.
	erpOptions     []erp.Option
	startupBackoff [2]time.Duration

	*running // set by Run
}

// running is what Run started, for Close to stop.
type running struct {
	HTTPURL    string // where OTP answers, e.g. http://127.0.0.1:8001
	WorkerURL  string // where a work-only process answers /health and /metrics
	SandboxURL string // the embedded sandbox, when there is one
	Sandbox    *sandbox.Sandbox
	ERP        *erp.Client
	Redis      redis.UniversalClient
	RedisOpt   asynq.RedisConnOpt

	delayedEvery  time.Duration // asynq's DelayedTaskCheckInterval; 0: its 5 s
	webhookSecret string
	apiUser       string
	miniredis     *miniredis.Miniredis
	stopTTL       func()
	sandboxHTTP   *http.Server
	server        *server.Server
	queue         *asynq.Client
	inspector     *asynq.Inspector
	workers       *worker.Server
	workerHTTP    *workerHTTP
	registry      *prometheus.Registry // the process's, served by /metrics
	erpMetrics    *erpMetrics
	probe         *erp.Probe
	stopProbe     func()
	taskMetrics   *taskMetrics
	accuracy      *accuracyGauges
	stopAccuracy  func() // stops the accuracy gauges' refresh; nil when none runs
	stopTracing   func(context.Context) error
	erpWait       erpWait
	draining      atomic.Bool // SIGTERM came: /ready answers 503 while the drain delay runs
	stopWait      func()      // stops start-up's wait for ERPNext; nil when none runs
	failed        chan error
	closeOnce     sync.Once
	closeErr      error
}

// Failed reports a component that stopped on its own (the HTTP listener,
// the embedded sandbox).
func (m *Main) Failed() <-chan error {
	if m.running == nil {
		return nil // not started: nothing fails
	}
	return m.failed
}

func (m *Main) fail(err error) {
	select {
	case m.failed <- err:
	default:
	}
}

// Run starts every component and returns; Close stops them.
func (m *Main) Run(ctx context.Context) error {
	if m.Logger == nil {
		m.Logger = slog.New(slog.DiscardHandler)
	}
	if m.Out == nil {
		m.Out = io.Discard
	}
	if m.Now == nil {
		m.Now = time.Now
	}
	m.running = &running{failed: make(chan error, 1)}
	cfg := m.Config
	if m.TracerProvider == nil {
		tp, shutdown, err := newTracerProvider(ctx, cfg.OTLPEndpoint, m.Version)
		if err != nil {
			return err
		}
		m.TracerProvider, m.stopTracing = tp, shutdown
	}
	m.taskMetrics = newTaskMetrics()
	m.accuracy = newAccuracyGauges()

	if err := m.openRedis(); err != nil {
		return err
	}
	if err := m.openERPNext(); err != nil {
		return err
	}
	if err := m.registerMetrics(); err != nil {
		return err
	}

	// ERPNext's reachability, asked in the background for /health, /ready
	// and erpnext_connection_status; the breaker rules its requests.
	m.stopProbe = startProbe(m.probe, cfg.ProbeInterval, m.Logger.With("component", "erp_probe"))

	var ln, workerLn net.Listener
	if m.Roles&roleServe != 0 {
		var err error
		if ln, err = net.Listen("tcp", cfg.HTTPAddr); err != nil {
			return fmt.Errorf("OTP_HTTP_ADDR %s: %w", cfg.HTTPAddr, err)
		}
		m.HTTPURL = localURL(ln.Addr().String())
	} else if m.WorkerAddr != "" {
		var err error
		if workerLn, err = net.Listen("tcp", m.WorkerAddr); err != nil {
			return fmt.Errorf("OTP_WORKER_ADDR %s: %w", m.WorkerAddr, err)
		}
		m.WorkerURL = localURL(workerLn.Addr().String())
	}
	closeListeners := func() {
		for _, l := range []net.Listener{ln, workerLn} {
			if l != nil {
				l.Close()
			}
		}
	}

	m.webhookSecret = cfg.WebhookSecret
	if m.Sandbox != nil {
		if err := m.setUpEmbeddedSite(ctx); err != nil {
			closeListeners()
			return err
		}
	}

	if ln != nil {
		if err := m.startServer(ln); err != nil {
			closeListeners()
			return err
		}
	}
	if workerLn != nil {
		if err := m.startWorkerHTTP(workerLn); err != nil {
			workerLn.Close()
			return err
		}
	}
	if err := m.awaitERPNext(ctx); err != nil {
		return err
	}
	m.banner()
	return nil
}

// openRedis connects to REDIS_URL, or starts an in-process miniredis.
func (m *Main) openRedis() error {
	if m.Config.EmbeddedRedis() {
		if err := m.startMiniredis(); err != nil {
			return err
		}
	} else {
		m.RedisOpt = m.Config.RedisConnOpt()
	}
	rdb, ok := m.RedisOpt.MakeRedisClient().(redis.UniversalClient)
	if !ok {
		return fmt.Errorf("REDIS_URL: unsupported connection type %T", m.RedisOpt)
	}
	m.Redis = rdb
	m.queue = asynq.NewClientFromRedisClient(rdb)
	m.inspector = asynq.NewInspectorFromRedisClient(rdb)
	return nil
}

// openERPNext builds the ERPNext client, starting the sandbox first when
// ERPNEXT_BASE_URL is unset.
func (m *Main) openERPNext() error {
	cfg := m.Config
	base, key, secret := cfg.ERPNextBaseURL, cfg.ERPNextAPIKey, cfg.ERPNextAPISecret
	m.apiUser = cfg.ERPNextAPIUser
	if cfg.EmbeddedERPNext() {
		var err error
		if base, key, secret, err = m.startEmbeddedSandbox(); err != nil {
			return err
		}
	}
	m.erpMetrics = newERPMetrics()
	client, err := erp.New(base, key, secret, append([]erp.Option{
		erp.WithTimeout(cfg.RequestTimeout.Duration()),
		erp.WithBreakerPolicy(cfg.BreakerPolicy()),
		erp.WithRetryAfterMax(cfg.RetryAfterMax),
		erp.WithLogger(m.Logger.With("component", "erp")),
		erp.WithObserver(m.erpMetrics.observe),
		erp.WithRequestHook(func(ctx context.Context, _, _ string, _ int) {
			tasks.RecorderFrom(ctx).CountERPNextRequest() // a task's ERPNext requests, for its result
		}),
		erp.WithTracerProvider(m.TracerProvider),
		erp.WithUserAgent("otp/" + m.Version),
	}, m.erpOptions...)...)
	if err != nil {
		return fmt.Errorf("ERPNEXT_BASE_URL: %w", err)
	}
	m.ERP = client
	m.erpMetrics.breaker = client.BreakerState
	m.probe = erp.ClientProbe(client, cfg.RequestTimeout.Duration(), m.Now)
	return nil
}

func (m *Main) startServer(ln net.Listener) error {
	cfg := m.Config
	srv, err := server.New(server.Deps{
		Queue:             m.queue,
		Versions:          tasks.NewVersions(m.Redis),
		Redis:             m.Redis,
		ERP:               m.ERP,
		BreakerState:      func() string { return string(m.ERP.BreakerState()) },
		DashboardRedis:    m.RedisOpt,
		DashboardUser:     cfg.DashboardUser,
		DashboardPassword: cfg.DashboardPassword,
		WebhookSecret:     m.webhookSecret,
		Probe:             m.probe,
		TracerProvider:    m.TracerProvider,
		Production:        cfg.Production(),
		CORSOrigins:       cfg.AllowedOrigins(),
		APITokens:         apiTokens(cfg),
		RateLimit:         cfg.APIRateLimit,
		RateBurst:         cfg.APIRateBurst,
		Version:           m.Version,
		Registry:          m.registry,
		Logger:            m.Logger.With("component", "http"),
		Now:               m.Now,
		ERPNextCheck:      m.erpWait.check,
		Draining:          m.draining.Load,
		Quote: quote.Deps{
			ERP:     m.ERP,
			Planner: cfg.Planner(),
			// The accuracy report and history mode read deliveries and receipts.
			History:       m.ERP,
			Probabilities: cfg.AccuracyProbabilityMap(),
		},
	})
	if err != nil {
		return err
	}
	m.server = srv
	go func() {
		if err := srv.Serve(ln); err != nil {
			m.fail(err)
		}
	}()
	m.Logger.Info("http server listening", "url", m.HTTPURL)
	return nil
}

// registerMetrics builds the process's one Prometheus registry, which the
// HTTP server or the worker's listener serves, with the collectors every
// role reports and, where workers run, the queue and task ones: every
// `otp serve` replica would report the queue gauges again.
func (m *Main) registerMetrics() error {
	m.registry = server.NewRegistry(m.Version)
	cs := []prometheus.Collector{m.erpMetrics}
	if m.Roles&roleWork != 0 {
		cs = append(cs, queueMetrics(m.inspector), m.taskMetrics, m.accuracy)
	}
	for _, c := range cs {
		if err := m.registry.Register(c); err != nil {
			return fmt.Errorf("register metrics: %w", err)
		}
	}
	return nil
}

// apiTokens hands OTP_API_TOKENS to the server.
func apiTokens(cfg config.Config) []server.APIToken {
	var out []server.APIToken
	for _, t := range cfg.APITokensList() {
		out = append(out, server.APIToken{Name: t.Name, Scope: t.Scope, Token: t.Token})
	}
	return out
}

// startWorkerHTTP serves a work-only process's /health, /ready and
// /metrics on ln.
func (m *Main) startWorkerHTTP(ln net.Listener) error {
	w, err := newWorkerHTTP(m.registry, m.Redis, m.Version, m.Logger.With("component", "worker_http"), connectionGauge(m.probe))
	if err != nil {
		return err
	}
	w.probe = m.probe
	w.erpPending = m.erpWait.pending
	m.workerHTTP = w
	go w.serve(ln, m.fail)
	m.Logger.Info("worker health and metrics listening", "url", m.WorkerURL)
	return nil
}

func (m *Main) startWorker(ctx context.Context) error {
	cfg := m.Config
	log := m.Logger.With("component", "worker")
	p := newPlanner(m.ERP, cfg, m.Now, log)
	w := worker.New(worker.Deps{
		ERP:       m.ERP,
		Planner:   p,
		Versions:  tasks.NewVersions(m.Redis),
		Redis:     m.Redis,
		Enqueuer:  m.queue,
		APIUser:   m.apiUser,
		Logger:    log,
		Now:       m.Now,
		Location:  cfg.Location(),
		WriteRate: cfg.WriteRate,
		// A pass writes as many orders at once as the process runs tasks:
		// the one knob for how much a worker asks of ERPNext at a time.
		WriteConcurrency: cfg.WorkerConcurrency,
	})
	taskEvery, delayedEvery := taskCheckInterval, m.delayedEvery
	if m.pollEvery > 0 {
		taskEvery, delayedEvery = m.pollEvery, m.pollEvery
	}
	observer := &taskObserver{log: log, tracer: m.TracerProvider.Tracer("github.com/erpnext-otp/otp/worker"), metrics: m.taskMetrics, now: time.Now}
	middleware := []asynq.MiddlewareFunc{observer.middleware}
	if m.taskMiddleware != nil {
		middleware = append(middleware, m.taskMiddleware)
	}
	every := cfg.ReconcileInterval
	m.workers = worker.NewServer(w, worker.ServerConfig{
		Redis:                    m.Redis,
		RedisOpt:                 m.RedisOpt,
		Concurrency:              cfg.WorkerConcurrency,
		TaskCheckInterval:        taskEvery,
		DelayedTaskCheckInterval: delayedEvery,
		ShutdownTimeout:          cfg.ShutdownTimeout,
		ReconcileEvery:           every,
		Location:                 cfg.Location(),
		Logger:                   log,
		Middleware:               middleware,
	})
	if err := m.workers.Start(); err != nil {
		return err
	}
	if m.workerHTTP != nil {
		m.workerHTTP.state.Store(workerRunning)
	}
	if every := cfg.AccuracyInterval; every > 0 {
		probs := cfg.AccuracyProbabilityMap()
		m.stopAccuracy = startAccuracyGauges(m.accuracy, func(ctx context.Context, from, to promise.Date) (*accuracy.Report, error) {
			return p.AccuracyReport(ctx, from, to, "", probs)
		}, every, cfg.AccuracyWindowDays, m.Now, cfg.Location(), log.With("component", "accuracy"))
	}
	log.Info("workers started", "concurrency", cfg.WorkerConcurrency, "reconcile_every", every.String(),
		"allocation_order", cfg.AllocationOrder, "write_rate", cfg.WriteRate, "api_user", m.apiUser)
	return nil
}

// drain keeps the HTTP server answering for OTP_DRAIN_DELAY after a
// signal, before Close stops accepting connections: a load balancer still
// routing here (Kubernetes removes a terminating pod from its Service's
// endpoints a few seconds late) gets answers, not refused connections.
// Failures skip it: only a signal means someone is draining the process.
func (m *Main) drain() {
	if m.server == nil || m.Config.DrainDelay <= 0 {
		return
	}
	m.Logger.Info("draining: still answering before the HTTP server stops", "drain_delay", m.Config.DrainDelay.String())
	m.draining.Store(true) // /ready says 503 meanwhile
	time.Sleep(m.Config.DrainDelay)
}

// Close stops everything Run started, in order: the HTTP server (in-flight
// requests finish), the scheduler, the workers (in-flight tasks finish or go
// back to the queue, and their handlers return: a task cut short still
// releases the book's lock), then the clients and everything else that uses
// Redis, then Redis itself, the embedded sandbox and miniredis.
func (m *Main) Close() error {
	if m.running == nil {
		return nil // not started
	}
	m.closeOnce.Do(func() { m.closeErr = m.close() })
	return m.closeErr
}

// taskCheckInterval is how long an idle asynq processor sleeps between
// looks at its queues (asynq's default is 1 s, most of a promise's latency
// when saves are few). Each look is one Lua call per queue (three): at
// 20 ms, 150 calls a second per `otp work` process, a fraction of a
// percent of a Redis core (README, Performance).
const taskCheckInterval = 20 * time.Millisecond

func (m *Main) close() error {
	var errs []error
	timeout := m.Config.ShutdownTimeout
	if timeout <= 0 {
		timeout = 25 * time.Second
	}
	if m.stopWait != nil {
		m.stopWait() // no worker starts after this
	}
	if m.server != nil {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		errs = append(errs, m.server.Shutdown(ctx))
		cancel()
	}
	if m.stopAccuracy != nil {
		m.stopAccuracy()
	}
	if m.workerHTTP != nil {
		m.workerHTTP.state.Store(workerStopping)
	}
	if m.workers != nil {
		m.workers.Shutdown() // logs a handler that did not return
	}
	if m.stopProbe != nil {
		m.stopProbe()
	}
	if m.workerHTTP != nil {
		// Probes and scrapes were answered while the workers drained.
		m.workerHTTP.state.Store(workerStopped)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		errs = append(errs, m.workerHTTP.shutdown(ctx))
		cancel()
	}
	// Every user of Redis is stopped by now. The asynq client, inspector
	// and server share m.Redis: closing it closes them (the scheduler
	// closed its own pool).
	if m.Redis != nil {
		errs = append(errs, m.Redis.Close())
	}
	errs = append(errs, m.closeEmbedded())
	if m.stopTracing != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		errs = append(errs, m.stopTracing(ctx))
		cancel()
	}
	return errors.Join(errs...)
}

func rolesName(r role) string {
	switch r {
	case roleServe:
		return "serve"
	case roleWork:
		return "work"
	}
	return "serve + work"
}
