package server

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
)

// healthBody is GET /health, the earlier OTP's shape plus Redis and the
// breaker (docs/quote-api.md#the-earlier-otp; the runbook's probes read `status`).
type healthBody struct {
	Status           string `json:"status"` // "healthy" or "degraded"
	Version          string `json:"version"`
	ERPNextConnected bool   `json:"erpnext_connected"`
	CircuitBreaker   string `json:"circuit_breaker"`
	Redis            string `json:"redis"` // "ok" or the error
	Message          string `json:"message"`
	// ERPNextCheckedAt is when ERPNext was last asked; /health never waits
	// for ERPNext more than once per HealthTTL.
	ERPNextCheckedAt string `json:"erpnext_checked_at,omitempty"`
}

// healthCache keeps the last ERPNext check so probes stay cheap.
type healthCache struct {
	refresh   sync.Mutex // held while one probe refreshes
	mu        sync.Mutex
	checkedAt time.Time
	connected bool
	lastErr   string
}

func (h *healthCache) get() (connected bool, at time.Time, lastErr string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.connected, h.checkedAt, h.lastErr
}

func (h *healthCache) set(at time.Time, err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.checkedAt, h.connected, h.lastErr = at, err == nil, ""
	if err != nil {
		h.lastErr = err.Error()
	}
}

// checkERP asks ERPNext who we are and records the answer.
func (s *Server) checkERP(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, s.deps.ReadyTimeout)
	defer cancel()
	_, err := s.deps.ERP.LoggedUser(ctx)
	s.health.set(s.deps.Now(), err)
	return err
}

func (s *Server) checkRedis(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, s.deps.ReadyTimeout)
	defer cancel()
	return s.deps.Redis.Ping(ctx).Err()
}

// getHealth is liveness: always 200, "degraded" when a dependency is not
// well. It pings Redis, and asks ERPNext only when the cached answer is older
// than HealthTTL and no other probe is already asking.
func (s *Server) getHealth(c echo.Context) error {
	ctx := c.Request().Context()
	if _, at, _ := s.health.get(); s.deps.Now().Sub(at) > s.deps.HealthTTL && s.health.refresh.TryLock() {
		_ = s.checkERP(ctx) // recorded in the cache
		s.health.refresh.Unlock()
	}
	connected, at, _ := s.health.get()
	b := healthBody{
		Status:           "healthy",
		Version:          s.deps.Version,
		ERPNextConnected: connected,
		CircuitBreaker:   s.deps.BreakerState(),
		Redis:            "ok",
		Message:          "All systems operational",
	}
	if !at.IsZero() {
		b.ERPNextCheckedAt = at.UTC().Format(time.RFC3339)
	}
	if err := s.checkRedis(ctx); err != nil {
		b.Redis = err.Error()
	}
	switch {
	case b.Redis != "ok":
		b.Status, b.Message = "degraded", "Redis unreachable: webhooks cannot be queued"
	case b.CircuitBreaker == "open":
		b.Status, b.Message = "degraded", "Connected but circuit breaker is protecting against cascading failures"
	case !connected:
		b.Status, b.Message = "degraded", "ERPNext connection failed"
	}
	return c.JSON(http.StatusOK, b)
}

// readyBody is GET /ready.
type readyBody struct {
	Status  string `json:"status"`
	Redis   string `json:"redis"`
	ERPNext string `json:"erpnext"`
}

// getReady is readiness: 200 only when Redis answers PING and ERPNext
// accepts our API key, else 503 naming what failed.
func (s *Server) getReady(c echo.Context) error {
	ctx := c.Request().Context()
	b := readyBody{Status: "ready", Redis: "ok", ERPNext: "ok"}
	if err := s.checkRedis(ctx); err != nil {
		b.Redis = err.Error()
	}
	if err := s.checkERP(ctx); err != nil {
		b.ERPNext = err.Error()
		if s.deps.ERPNextCheck != nil {
			b.ERPNext = "check " + s.deps.ERPNextCheck(err) + ": " + err.Error()
		}
	}
	if b.Redis == "ok" && b.ERPNext == "ok" {
		return c.JSON(http.StatusOK, b)
	}
	var failed []string
	if b.Redis != "ok" {
		failed = append(failed, "redis")
	}
	if b.ERPNext != "ok" {
		failed = append(failed, "erpnext")
	}
	b.Status = "not ready"
	return &Error{Status: http.StatusServiceUnavailable, Message: "not ready", Detail: map[string]any{"failed": failed, "checks": b}}
}

// checkDashboardUser compares basic-auth credentials in constant time
// (hashing first so that lengths do not leak either).
func (s *Server) checkDashboardUser(user, password string, _ echo.Context) (bool, error) {
	u := sha256.Sum256([]byte(user))
	p := sha256.Sum256([]byte(password))
	wu := sha256.Sum256([]byte(s.deps.DashboardUser))
	wp := sha256.Sum256([]byte(s.deps.DashboardPassword))
	ok := subtle.ConstantTimeCompare(u[:], wu[:]) & subtle.ConstantTimeCompare(p[:], wp[:])
	return ok == 1, nil
}
