package server

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
)

// healthBody is GET /health, the earlier OTP's shape plus Redis, the
// breaker and why ERPNext is not connected (docs/quote-api.md#the-earlier-otp;
// the runbook's probes read `status`).
type healthBody struct {
	Status           string `json:"status"` // "healthy" or "degraded"
	Version          string `json:"version"`
	ERPNextConnected bool   `json:"erpnext_connected"`
	CircuitBreaker   string `json:"circuit_breaker"`
	Redis            string `json:"redis"` // "ok" or the error
	Message          string `json:"message"`
	// ERPNextCheckedAt is when the background probe last asked ERPNext
	// (every OTP_ERPNEXT_PROBE_INTERVAL); /health itself never asks.
	ERPNextCheckedAt string `json:"erpnext_checked_at,omitempty"`
	// ERPNextError is the probe's last failure, kept while the breaker is
	// open and after ERPNext recovers; ERPNextErrorAt is when it happened.
	ERPNextError   string `json:"erpnext_error,omitempty"`
	ERPNextErrorAt string `json:"erpnext_error_at,omitempty"`
}

func (s *Server) checkRedis(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, s.deps.ReadyTimeout)
	defer cancel()
	return s.deps.Redis.Ping(ctx).Err()
}

// getHealth is liveness: always 200, "degraded" when a dependency is not
// well. It pings Redis and reads the ERPNext probe's last answer.
func (s *Server) getHealth(c echo.Context) error {
	ctx := c.Request().Context()
	p := s.deps.Probe.Status()
	b := healthBody{
		Status:           "healthy",
		Version:          s.deps.Version,
		ERPNextConnected: p.Connected,
		CircuitBreaker:   s.deps.BreakerState(),
		Redis:            "ok",
		Message:          "All systems operational",
		ERPNextError:     p.LastError,
	}
	if !p.CheckedAt.IsZero() {
		b.ERPNextCheckedAt = p.CheckedAt.UTC().Format(time.RFC3339)
	}
	if !p.LastErrorAt.IsZero() {
		b.ERPNextErrorAt = p.LastErrorAt.UTC().Format(time.RFC3339)
	}
	if err := s.checkRedis(ctx); err != nil {
		b.Redis = err.Error()
	}
	switch {
	case b.Redis != "ok":
		b.Status, b.Message = "degraded", "Redis unreachable: webhooks cannot be queued"
	case b.CircuitBreaker == "open":
		b.Status, b.Message = "degraded", "Connected but circuit breaker is protecting against cascading failures"
	case p.CheckedAt.IsZero():
		b.Status, b.Message = "degraded", "ERPNext not checked yet"
	case !p.Connected:
		b.Status, b.Message = "degraded", "ERPNext connection failed: "+p.LastError
	}
	return c.JSON(http.StatusOK, b)
}

// readyBody is GET /ready.
type readyBody struct {
	Status  string `json:"status"`
	Redis   string `json:"redis"`
	ERPNext string `json:"erpnext"`
}

// getReady is readiness: 200 only when Redis answers PING and the ERPNext
// probe's last check passed, else 503 naming what failed and why. It never
// calls ERPNext itself: a probe per kubelet period would load it and count
// in the request metrics.
func (s *Server) getReady(c echo.Context) error {
	ctx := c.Request().Context()
	b := readyBody{Status: "ready", Redis: "ok", ERPNext: "ok"}
	if err := s.checkRedis(ctx); err != nil {
		b.Redis = err.Error()
	}
	switch p := s.deps.Probe.Status(); {
	case p.CheckedAt.IsZero():
		b.ERPNext = "not checked yet"
	case !p.Connected:
		b.ERPNext = p.LastError
		if s.deps.ERPNextCheck != nil && p.Err != nil {
			b.ERPNext = "check " + s.deps.ERPNextCheck(p.Err) + ": " + p.LastError
		}
	}
	draining := s.deps.Draining != nil && s.deps.Draining()
	if b.Redis == "ok" && b.ERPNext == "ok" && !draining {
		return c.JSON(http.StatusOK, b)
	}
	var failed []string
	if draining {
		failed = append(failed, "draining")
	}
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
