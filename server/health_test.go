package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/hibiken/asynq"
	"github.com/labstack/echo/v4"
)

func TestHealth(t *testing.T) {
	down := func(context.Context) (string, error) { return "", errors.New("erp: connection refused") }
	tests := []struct {
		name    string
		erp     func(context.Context) (string, error)
		breaker string
		redis   bool
		want    healthBody
	}{
		{"all well", nil, "closed", true,
			healthBody{Status: "healthy", Version: "v-test", ERPNextConnected: true, CircuitBreaker: "closed", Redis: "ok", Message: "All systems operational"}},
		{"ERPNext down", down, "closed", true,
			healthBody{Status: "degraded", Version: "v-test", CircuitBreaker: "closed", Redis: "ok",
				Message: "ERPNext connection failed: erp: connection refused", ERPNextError: "erp: connection refused", ERPNextErrorAt: "2026-11-25T10:00:00Z"}},
		{"breaker open", nil, "open", true,
			healthBody{Status: "degraded", Version: "v-test", ERPNextConnected: true, CircuitBreaker: "open", Redis: "ok", Message: "Connected but circuit breaker is protecting against cascading failures"}},
		{"Redis down", nil, "closed", false,
			healthBody{Status: "degraded", Version: "v-test", ERPNextConnected: true, CircuitBreaker: "closed", Message: "Redis unreachable: webhooks cannot be queued"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := MustEnv(t, nil)
			if tt.erp != nil {
				e.erp.LoggedUserFn = tt.erp
			}
			e.breaker.Store(tt.breaker)
			_ = e.srv.Probe().Check(context.Background())
			if !tt.redis {
				e.mr.Close()
			}
			rec := e.get(t, "/health")
			if rec.Code != http.StatusOK {
				t.Fatalf("status = %d, want 200 always", rec.Code)
			}
			got := decode[healthBody](t, rec)
			if got.ERPNextCheckedAt != "2026-11-25T10:00:00Z" {
				t.Errorf("erpnext_checked_at = %q", got.ERPNextCheckedAt)
			}
			if !tt.redis && got.Redis == "ok" {
				t.Error("redis = ok with Redis down")
			}
			if diff := cmp.Diff(tt.want, got, cmpopts.IgnoreFields(healthBody{}, "ERPNextCheckedAt", "Redis")); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// /health and /ready never ask ERPNext: they read the background probe.
func TestHealthAndReadyNeverCallERPNext(t *testing.T) {
	e := MustEnv(t, nil)
	for range 5 {
		e.get(t, "/health")
		e.get(t, "/ready")
	}
	if n := e.erp.Calls()["LoggedUser"]; n != 0 {
		t.Fatalf("LoggedUser calls after 10 probes = %d, want 0", n)
	}
	if rec := e.get(t, "/ready"); rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), "not checked yet") {
		t.Errorf("/ready before the first check: %d %s, want 503 not checked yet", rec.Code, rec.Body)
	}
	if got := decode[healthBody](t, e.get(t, "/health")); got.Message != "ERPNext not checked yet" {
		t.Errorf("/health before the first check: %+v", got)
	}
}

func TestReady(t *testing.T) {
	for _, path := range []string{"/ready", "/readyz"} {
		t.Run(path, func(t *testing.T) {
			e := MustEnv(t, nil)
			check := func() { _ = e.srv.Probe().Check(context.Background()) }
			check()
			rec := e.get(t, path)
			if rec.Code != http.StatusOK {
				t.Fatalf("all up: status = %d %s", rec.Code, rec.Body)
			}
			if diff := cmp.Diff(readyBody{Status: "ready", Redis: "ok", ERPNext: "ok"}, decode[readyBody](t, rec)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}

			e.erp.LoggedUserFn = func(context.Context) (string, error) { return "", errors.New("erp: 401 invalid token") }
			check()
			rec = e.get(t, path)
			if rec.Code != http.StatusServiceUnavailable {
				t.Fatalf("ERPNext down: status = %d", rec.Code)
			}
			if got := decode[errBody](t, rec).Detail["failed"]; !cmp.Equal(got, []any{"erpnext"}) {
				t.Errorf("failed = %v, want [erpnext]", got)
			}
			if !strings.Contains(rec.Body.String(), "401 invalid token") {
				t.Errorf("/ready does not say why: %s", rec.Body)
			}

			e.erp.LoggedUserFn = loggedIn
			check()
			e.mr.Close()
			rec = e.get(t, path)
			if got := decode[errBody](t, rec).Detail["failed"]; rec.Code != http.StatusServiceUnavailable || !cmp.Equal(got, []any{"redis"}) {
				t.Errorf("Redis down: %d failed = %v, want 503 [redis]", rec.Code, got)
			}
		})
	}
}

// A slow ERPNext cannot hold a probe check longer than its timeout.
func TestProbeCheckTimesOut(t *testing.T) {
	e := MustEnv(t, func(d *Deps) { d.ReadyTimeout = 50 * time.Millisecond })
	e.erp.LoggedUserFn = func(ctx context.Context) (string, error) {
		<-ctx.Done()
		return "", ctx.Err()
	}
	start := time.Now()
	err := e.srv.Probe().Check(context.Background())
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 2*time.Second {
		t.Errorf("Check = %v after %v, want a deadline quickly", err, time.Since(start))
	}
}

func TestMetrics(t *testing.T) {
	e := MustEnv(t, nil)
	_ = e.srv.Probe().Check(context.Background())
	e.get(t, "/health")
	e.post(t, "/webhooks/erpnext/sales-order", MustFixtures(t)[0].body)
	e.post(t, "/webhooks/erpnext/sales-order", MustFixtures(t)[0].body)
	e.post(t, "/webhooks/erpnext/sales-order", []byte("{"))
	e.get(t, "/nope")
	rec := e.get(t, "/metrics")
	if rec.Code != http.StatusOK {
		t.Fatalf("status = %d", rec.Code)
	}
	text := rec.Body.String()
	for _, line := range []string{
		`http_requests_total{method="POST",route="/webhooks/erpnext/sales-order",status="202"} 1`,
		`http_requests_total{method="POST",route="/webhooks/erpnext/sales-order",status="200"} 1`,
		`http_requests_total{method="POST",route="/webhooks/erpnext/sales-order",status="400"} 1`,
		`http_requests_total{method="GET",route="/health",status="200"} 1`,
		`http_requests_total{method="GET",route="unmatched",status="404"} 1`,
		`http_request_duration_seconds_count{method="POST",route="/webhooks/erpnext/sales-order"} 3`,
		`otp_webhooks_total{doctype="Sales Order",result="queued"} 1`,
		`otp_webhooks_total{doctype="Sales Order",result="duplicate"} 1`,
		`otp_webhooks_total{doctype="Sales Order",result="invalid"} 1`,
		`otp_webhooks_total{doctype="Sales Order",result="unauthorized"} 0`,
		`otp_webhooks_total{doctype="Purchase Order",result="queued"} 0`,
		`erpnext_connection_status 1`,
		`otp_build_info{version="v-test"} 1`,
	} {
		if !strings.Contains(text, line+"\n") {
			t.Errorf("metrics lack %s", line)
		}
	}
}

func TestDashboard(t *testing.T) {
	withCreds := func(d *Deps) {
		d.DashboardRedis = asynq.RedisClientOpt{Addr: "127.0.0.1:1"}
		d.DashboardUser, d.DashboardPassword = "ops", "s3cret"
	}
	tests := []struct {
		name       string
		edit       func(*Deps)
		user, pass string
		want       int
	}{
		{"no credentials sent", withCreds, "", "", http.StatusUnauthorized},
		{"wrong password", withCreds, "ops", "guess", http.StatusUnauthorized},
		{"wrong user", withCreds, "admin", "s3cret", http.StatusUnauthorized},
		{"right credentials", withCreds, "ops", "s3cret", http.StatusOK},
		{"development without credentials", func(d *Deps) { d.DashboardRedis = asynq.RedisClientOpt{Addr: "127.0.0.1:1"} }, "", "", http.StatusOK},
		{"production without credentials", func(d *Deps) {
			d.DashboardRedis = asynq.RedisClientOpt{Addr: "127.0.0.1:1"}
			d.Production = true
		}, "", "", http.StatusNotFound},
		{"production with credentials", func(d *Deps) { withCreds(d); d.Production = true }, "ops", "s3cret", http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := MustEnv(t, tt.edit)
			req := httptest.NewRequest(http.MethodGet, "/monitoring/", nil)
			if tt.user != "" {
				req.SetBasicAuth(tt.user, tt.pass)
			}
			rec := e.do(t, req)
			if rec.Code != tt.want {
				t.Fatalf("status = %d, want %d", rec.Code, tt.want)
			}
			switch tt.want {
			case http.StatusOK:
				if !strings.Contains(rec.Body.String(), "<html") {
					t.Errorf("body is not the dashboard page: %.200s", rec.Body)
				}
			case http.StatusUnauthorized:
				if !strings.HasPrefix(rec.Header().Get("WWW-Authenticate"), "basic") {
					t.Errorf("WWW-Authenticate = %q", rec.Header().Get("WWW-Authenticate"))
				}
			}
		})
	}
}

func TestErrorsAreJSON(t *testing.T) {
	e := MustEnv(t, nil)
	e.srv.echo.GET("/boom", func(echo.Context) error { panic("kaboom") })
	e.srv.echo.GET("/fail", func(echo.Context) error { return errors.New("secret internals") })
	tests := []struct {
		method, path string
		want         int
		error        string
	}{
		{http.MethodGet, "/boom", http.StatusInternalServerError, "internal server error"},
		{http.MethodGet, "/fail", http.StatusInternalServerError, "internal server error"},
		{http.MethodGet, "/no/such/route", http.StatusNotFound, "Not Found"},
		{http.MethodGet, "/webhooks/erpnext/sales-order", http.StatusMethodNotAllowed, "Method Not Allowed"},
		{http.MethodPut, "/health", http.StatusMethodNotAllowed, "Method Not Allowed"},
	}
	for _, tt := range tests {
		rec := e.do(t, httptest.NewRequest(tt.method, tt.path, nil))
		if rec.Code != tt.want {
			t.Errorf("%s %s: status = %d, want %d", tt.method, tt.path, rec.Code, tt.want)
			continue
		}
		if got := decode[struct{ Error string }](t, rec).Error; got != tt.error {
			t.Errorf("%s %s: error = %q, want %q", tt.method, tt.path, got, tt.error)
		}
	}
}

// Echo's own 404 and 405 answer as the earlier OTP's FastAPI did,
// {"detail": "Not Found"} and {"detail": "Method Not Allowed"}
// (docs/quote-api.md#the-earlier-otp), keeping our "error" key beside it.
func TestRouterErrorsCarryDetail(t *testing.T) {
	e := MustEnv(t, nil)
	tests := []struct {
		method, path string
		want         int
		body         map[string]any
		allow        string
	}{
		{http.MethodGet, "/nope", http.StatusNotFound, map[string]any{"error": "Not Found", "detail": "Not Found"}, ""},
		{http.MethodPut, "/otp/promise", http.StatusMethodNotAllowed,
			map[string]any{"error": "Method Not Allowed", "detail": "Method Not Allowed"}, "POST"},
		{http.MethodPost, "/health", http.StatusMethodNotAllowed,
			map[string]any{"error": "Method Not Allowed", "detail": "Method Not Allowed"}, "GET"},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			rec := e.do(t, httptest.NewRequest(tt.method, tt.path, nil))
			if rec.Code != tt.want {
				t.Fatalf("status = %d, want %d", rec.Code, tt.want)
			}
			if diff := cmp.Diff(tt.body, decode[map[string]any](t, rec)); diff != "" {
				t.Errorf("body (-want +got):\n%s", diff)
			}
			if tt.allow != "" && !strings.Contains(rec.Header().Get("Allow"), tt.allow) {
				t.Errorf("Allow = %q, want it to list %s", rec.Header().Get("Allow"), tt.allow)
			}
		})
	}
}

// Shutdown stops taking connections but lets a request in flight finish.
func TestShutdownLetsInFlightRequestsFinish(t *testing.T) {
	e := MustEnv(t, nil)
	started, release := make(chan struct{}), make(chan struct{})
	e.srv.echo.GET("/slow", func(c echo.Context) error {
		close(started)
		<-release
		return c.String(http.StatusOK, "done")
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- e.srv.Serve(ln) }()
	answer := make(chan string, 1)
	go func() {
		resp, err := http.Get("http://" + ln.Addr().String() + "/slow")
		if err != nil {
			answer <- err.Error()
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		answer <- fmt.Sprintf("%d %s", resp.StatusCode, b)
	}()
	<-started
	shut := make(chan error, 1)
	go func() { shut <- e.srv.Shutdown(t.Context()) }()
	deadline := time.Now().Add(5 * time.Second)
	for { // the listener closes at once
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			break
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatal("still accepting connections during shutdown")
		}
		time.Sleep(10 * time.Millisecond)
	}
	close(release)
	if got := <-answer; got != "200 done" {
		t.Errorf("in-flight request got %q, want 200 done", got)
	}
	if err := <-shut; err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	if err := <-served; err != nil {
		t.Errorf("Serve after Shutdown: %v", err)
	}
}

// Once SIGTERM came, /ready says so while the server still answers, so a
// load balancer stops routing to it before it stops accepting.
func TestReadyWhileDraining(t *testing.T) {
	var draining atomic.Bool
	e := MustEnv(t, func(d *Deps) { d.Draining = draining.Load })
	_ = e.srv.Probe().Check(context.Background())
	if rec := e.get(t, "/ready"); rec.Code != http.StatusOK {
		t.Fatalf("before SIGTERM: status = %d %s", rec.Code, rec.Body)
	}
	draining.Store(true)
	rec := e.get(t, "/ready")
	if got := decode[errBody](t, rec).Detail["failed"]; rec.Code != http.StatusServiceUnavailable || !cmp.Equal(got, []any{"draining"}) {
		t.Errorf("draining: %d failed = %v, want 503 [draining]", rec.Code, got)
	}
	if rec := e.get(t, "/health"); rec.Code != http.StatusOK {
		t.Errorf("draining: /health = %d, want 200 (liveness stays)", rec.Code)
	}
}
