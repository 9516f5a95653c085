// Package server is OTP's HTTP face: Frappe webhook receivers, health,
// readiness and metrics, and the queue dashboard, in one Echo app with one
// route table and one error-to-status mapper, which also mount the quote
// API (package quote) behind its tokens and CORS.
package server

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/go-playground/validator/v10"
	"github.com/hibiken/asynq"
	"github.com/hibiken/asynqmon"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/erpnext-otp/otp/erp"
	"github.com/erpnext-otp/otp/quote"
	"github.com/erpnext-otp/otp/tasks"
)

// Queue enqueues tasks durably; *asynq.Client is one.
type Queue interface {
	EnqueueContext(ctx context.Context, t *asynq.Task, opts ...asynq.Option) (*asynq.TaskInfo, error)
}

// VersionRecorder remembers the newest saved version of each order;
// *tasks.Versions is one.
type VersionRecorder interface {
	Record(ctx context.Context, order, modified string) (bool, error)
}

// PromiseQueue queues a Sales Order delivery's promise task and records its
// version in one step, both or neither; *tasks.Versions is one. When
// Deps.Versions is also a PromiseQueue, a Sales Order delivery costs one
// Redis round trip instead of Queue's enqueue and then Record.
type PromiseQueue interface {
	EnqueuePromise(ctx context.Context, p tasks.PromiseOrder, id string) error
}

// ERPNext is what the server asks ERPNext, for readiness only: webhooks
// never call it.
type ERPNext interface {
	LoggedUser(ctx context.Context) (string, error)
}

// Pinger checks Redis; redis.UniversalClient is one.
type Pinger interface {
	Ping(ctx context.Context) *redis.StatusCmd
}

// Deps are the server's dependencies and settings.
type Deps struct {
	Queue    Queue           // required
	Versions VersionRecorder // required; see PromiseQueue
	Redis    Pinger          // required
	ERP      ERPNext         // required
	// BreakerState reports the ERPNext client's circuit breaker
	// ("closed", "open", "half-open"); nil reports "unknown".
	BreakerState func() string
	// DashboardRedis, when set, serves the asynq dashboard at /monitoring.
	DashboardRedis asynq.RedisConnOpt
	// DashboardUser and DashboardPassword protect /monitoring with basic
	// auth. In production the dashboard is off without them.
	DashboardUser, DashboardPassword string
	// WebhookSecret is the Frappe webhook secret. Empty accepts unsigned
	// deliveries, which production refuses.
	WebhookSecret string
	Production    bool
	Version       string
	// Registry is the process's one Prometheus registry (NewRegistry),
	// which /metrics serves; nil: one of the server's own.
	Registry *prometheus.Registry
	Logger   *slog.Logger
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// Probe is the background ERPNext check /health, /ready and
	// erpnext_connection_status read; its owner runs it (erp.Probe.Run).
	// Nil: one that checks ERP.LoggedUser, never run unless through Probe().
	Probe *erp.Probe
	// ReadyTimeout bounds each Redis check (2 s when zero).
	ReadyTimeout time.Duration
	// ERPNextCheck, when set, names what to check for a failed ERPNext
	// readiness check ("ERPNEXT_API_KEY and ERPNEXT_API_SECRET (...)"):
	// /ready then says it before the error.
	ERPNextCheck func(error) string
	// Draining, when set and true, makes /ready answer 503 "draining": the
	// process got SIGTERM and answers on only so that a load balancer can
	// stop routing to it first (OTP_DRAIN_DELAY).
	Draining func() bool
	// Quote wires the quote API (package quote); without its ERP its routes
	// answer 503. Its Now and Logger default to the server's.
	Quote quote.Deps
	// CORSOrigins are the browser origins the quote API answers with CORS
	// headers and preflights (OTP_CORS_ORIGINS); "*" is any origin. Empty:
	// no CORS headers. Webhooks, health, metrics and the dashboard never
	// send them.
	CORSOrigins []string
	// APITokens are the quote API's bearer tokens (OTP_API_TOKENS). Without
	// any, the quote API is open outside production and answers 503 in it.
	APITokens []APIToken
	// RateLimit and RateBurst limit each token's quote API requests
	// (requests per second; DefaultRateLimit and DefaultRateBurst when zero).
	RateLimit float64
	RateBurst int
	// TracerProvider makes a span of every request; its context goes into
	// the tasks a webhook queues. Nil: OpenTelemetry's no-op provider.
	TracerProvider trace.TracerProvider
}

// Server is the HTTP server.
type Server struct {
	deps      Deps
	log       *slog.Logger
	echo      *echo.Echo
	http      *http.Server
	metrics   *metrics
	dashboard *asynqmon.HTTPHandler
	quote     *quote.API
	auth      *auth
	tracer    trace.Tracer
	validate  *validator.Validate
	macs      sync.Pool // of hash.Hash: HMAC-SHA256 keyed with WebhookSecret
	// bodies are the buffers webhook bodies are read into, so that a
	// delivery allocates none of its size (readDelivery).
	bodies   sync.Pool // of *bytes.Buffer
	contexts sync.Pool // of *requestContext (observe)
}

// MaxBodyBytes bounds a webhook body (1 MiB); a larger one gets 413.
const MaxBodyBytes = 1 << 20

// ErrNoWebhookSecret is returned by New in production without a webhook secret.
var ErrNoWebhookSecret = errors.New("server: OTP_WEBHOOK_SECRET is required in production")

// ErrAnyOriginInProduction is returned by New in production when
// CORSOrigins holds "*": any web page could then call the quote API.
var ErrAnyOriginInProduction = errors.New(`server: CORS origin "*" is refused in production`)

// New builds the server. It does not listen; call Serve.
func New(d Deps) (*Server, error) {
	if d.Queue == nil || d.Versions == nil || d.Redis == nil || d.ERP == nil {
		return nil, errors.New("server: Queue, Versions, Redis and ERP are required")
	}
	if d.Production && d.WebhookSecret == "" {
		return nil, ErrNoWebhookSecret
	}
	if d.Production && slices.Contains(d.CORSOrigins, "*") {
		return nil, ErrAnyOriginInProduction
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.ReadyTimeout <= 0 {
		d.ReadyTimeout = 2 * time.Second
	}
	if d.Probe == nil {
		erpAPI := d.ERP
		d.Probe = erp.NewProbe(func(ctx context.Context) error {
			_, err := erpAPI.LoggedUser(ctx)
			return err
		}, d.ReadyTimeout, d.Now)
	}
	if d.BreakerState == nil {
		d.BreakerState = func() string { return "unknown" }
	}
	if d.Version == "" {
		d.Version = "dev"
	}
	if d.Quote.Now == nil {
		d.Quote.Now = d.Now
	}
	if d.Quote.Logger == nil {
		d.Quote.Logger = d.Logger
	}
	s := &Server{deps: d, log: d.Logger, quote: quote.New(d.Quote), validate: newValidator()}
	secret := []byte(d.WebhookSecret)
	s.macs.New = func() any { return hmac.New(sha256.New, secret) }
	s.bodies.New = func() any { return new(bytes.Buffer) }
	s.contexts.New = func() any { return new(requestContext) }
	if d.WebhookSecret == "" {
		s.log.Warn("OTP_WEBHOOK_SECRET is unset: webhook signatures are not checked (refused in production)")
	}
	reg := d.Registry
	if reg == nil {
		reg = NewRegistry(d.Version)
	}
	s.metrics = newMetrics(reg, d.Probe)
	s.auth = newAuth(d)
	if d.TracerProvider == nil {
		d.TracerProvider = noop.NewTracerProvider()
	}
	s.tracer = d.TracerProvider.Tracer("github.com/erpnext-otp/otp/server")
	switch {
	case s.auth.off:
		s.log.Error("quote API disabled: OTP_API_TOKENS is unset in production; /otp/* and /api/items/* answer 503")
	case s.auth.open():
		s.log.Warn("OTP_API_TOKENS is unset: the quote API takes requests without a token (refused in production)")
	}

	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = s.handleError
	e.Use(s.observe, middleware.RecoverWithConfig(middleware.RecoverConfig{
		LogErrorFunc: func(c echo.Context, err error, stack []byte) error {
			s.log.ErrorContext(c.Request().Context(), "panic in handler", "path", c.Path(), "err", err, "stack", string(stack))
			return fmt.Errorf("server: panic: %w", err)
		},
	}))
	s.echo = e

	if d.DashboardRedis != nil {
		switch {
		case d.DashboardUser != "":
		case d.Production:
			s.log.Info("dashboard off: set OTP_DASHBOARD_USER and OTP_DASHBOARD_PASSWORD to serve /monitoring")
		default:
			s.log.Warn("dashboard at /monitoring has no password (set OTP_DASHBOARD_USER and OTP_DASHBOARD_PASSWORD)")
		}
		if d.DashboardUser != "" || !d.Production {
			s.dashboard = asynqmon.New(asynqmon.Options{RootPath: DashboardPath, RedisConnOpt: d.DashboardRedis})
		}
	}
	s.routes()
	s.http = &http.Server{
		Handler:           e,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(d.Logger.Handler(), slog.LevelWarn),
	}
	return s, nil
}

// DashboardPath is where the asynq dashboard is mounted.
const DashboardPath = "/monitoring"

// routes is the one route table.
func (s *Server) routes() {
	e := s.echo
	e.POST("/webhooks/erpnext/sales-order", s.salesOrderWebhook)
	e.POST("/webhooks/erpnext/:doctype", s.supplyWebhook)

	// Probes and scrapes answer HEAD wherever they answer GET
	// (`curl -I`); Go's server sends no body to a HEAD.
	getHead := func(path string, h echo.HandlerFunc) {
		e.GET(path, h)
		e.HEAD(path, h)
	}
	getHead("/health", s.getHealth)
	getHead("/ready", s.getReady)
	getHead("/readyz", s.getReady)
	getHead("/metrics", echo.WrapHandler(s.metrics.handler()))

	if s.dashboard != nil {
		h := echo.WrapHandler(s.dashboard)
		var mw []echo.MiddlewareFunc
		if s.deps.DashboardUser != "" {
			mw = append(mw, middleware.BasicAuthWithConfig(middleware.BasicAuthConfig{
				Realm:     "OTP dashboard",
				Validator: s.checkDashboardUser,
			}))
		}
		e.Any(DashboardPath, h, mw...)
		e.Any(DashboardPath+"/*", h, mw...)
	}
	// The quote API (package quote), the only routes with CORS, behind
	// bearer tokens (server/auth.go): write routes need a write token.
	q, add := s.quote, s.quoteRoutes()
	add(http.MethodPost, "/otp/promise", q.Promise, s.auth.require(ScopeRead))
	add(http.MethodPost, "/otp/apply", q.Apply, s.auth.require(ScopeWrite))
	add(http.MethodPost, "/otp/procurement-suggest", q.ProcurementSuggest, s.auth.require(ScopeWrite))
	add(http.MethodGet, "/otp/sales-orders", q.SalesOrders, s.auth.require(ScopeRead))
	add(http.MethodGet, "/otp/sales-orders/:id", q.SalesOrder, s.auth.require(ScopeRead))
	add(http.MethodGet, "/api/items/stock", q.ItemStock, s.auth.require(ScopeRead))
	add(http.MethodGet, "/otp/report/accuracy", q.AccuracyReport, s.auth.require(ScopeRead))
	add(http.MethodGet, "/openapi.json", q.OpenAPI)
	add(http.MethodHead, "/openapi.json", q.OpenAPI)
}

// quoteRoutes returns how a quote API route is added, with quote.Answers
// innermost: as is without CORSOrigins, else behind Echo's CORS middleware, with an OPTIONS route
// beside it for the browser's preflight (route middleware runs only on a
// route that matched, so the preflight needs one of its own).
func (s *Server) quoteRoutes() func(method, path string, h echo.HandlerFunc, mw ...echo.MiddlewareFunc) {
	e := s.echo
	if len(s.deps.CORSOrigins) == 0 {
		return func(method, path string, h echo.HandlerFunc, mw ...echo.MiddlewareFunc) {
			e.Add(method, path, h, append(mw, quote.Answers)...)
		}
	}
	cors := middleware.CORSWithConfig(middleware.CORSConfig{
		AllowOrigins: s.deps.CORSOrigins,
		AllowMethods: []string{http.MethodGet, http.MethodHead, http.MethodPost},
		// AllowHeaders unset: the preflight's requested headers are allowed,
		// as the earlier OTP allowed all (docs/quote-api.md#the-earlier-otp).
		MaxAge: 600,
	})
	// The middleware answers every OPTIONS itself.
	preflight := func(c echo.Context) error { return c.NoContent(http.StatusNoContent) }
	// CORS runs first: a 401 carries its headers too, and the preflight
	// (which never has a token) is answered before the token check.
	return func(method, path string, h echo.HandlerFunc, mw ...echo.MiddlewareFunc) {
		e.Add(method, path, h, append(append([]echo.MiddlewareFunc{cors}, mw...), quote.Answers)...)
		e.OPTIONS(path, preflight, cors)
	}
}

// Probe returns the ERPNext probe the server reads.
func (s *Server) Probe() *erp.Probe { return s.deps.Probe }

// DashboardEnabled reports whether /monitoring is served.
func (s *Server) DashboardEnabled() bool { return s.dashboard != nil }

// Handler returns the HTTP handler, for tests and for embedding.
func (s *Server) Handler() http.Handler { return s.echo }

// Serve answers requests on ln until Shutdown. It returns nil after a
// graceful shutdown.
func (s *Server) Serve(ln net.Listener) error {
	if err := s.http.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("server: serve: %w", err)
	}
	return nil
}

// Shutdown stops accepting connections and waits for in-flight requests
// until ctx ends, then closes the dashboard's Redis connections.
func (s *Server) Shutdown(ctx context.Context) error {
	err := s.http.Shutdown(ctx)
	if s.dashboard != nil {
		err = errors.Join(err, s.dashboard.Close())
	}
	if err != nil {
		return fmt.Errorf("server: shutdown: %w", err)
	}
	return nil
}
