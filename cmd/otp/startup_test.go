package main

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/erpnext-otp/otp/config"
	"github.com/erpnext-otp/otp/erp"
	"github.com/erpnext-otp/otp/erp/sandbox"
)

// rateLimited serves h, or Frappe's 429 while limit is set.
func rateLimited(h http.Handler, limit *atomic.Bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if limit.Load() {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusTooManyRequests)
			_, _ = w.Write([]byte(`{"exception":"frappe.exceptions.RateLimitExceededError","exc_type":"RateLimitExceededError"}`))
			return
		}
		h.ServeHTTP(w, r)
	})
}

// startRole runs one role against ERPNext at base, with start-up's
// backoff and the client's retries shortened, and returns it and its log.
func startRole(t *testing.T, r role, base, key, secret string, opts ...func(*Main)) (*Main, *syncBuffer) {
	t.Helper()
	cfg, err := config.Load(map[string]string{
		"ERPNEXT_BASE_URL": base, "ERPNEXT_API_KEY": key, "ERPNEXT_API_SECRET": secret,
		"OTP_HTTP_ADDR": "127.0.0.1:0", "OTP_WORKER_ADDR": "127.0.0.1:0", "REQUEST_TIMEOUT": "2",
	})
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	m := &Main{Config: cfg, Roles: r, Logger: newLogger(logs, cfg.SlogLevel()), Out: logs, Version: "test",
		pollEvery:      50 * time.Millisecond,
		startupBackoff: [2]time.Duration{20 * time.Millisecond, 100 * time.Millisecond},
		erpOptions:     []erp.Option{erp.WithRetry(1, time.Millisecond, time.Millisecond), erp.WithBreaker(1000, time.Millisecond)},
	}
	if r == roleWork {
		m.WorkerAddr = cfg.WorkerAddr
	}
	for _, o := range opts {
		o(m)
	}
	t.Cleanup(func() {
		if err := m.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		if t.Failed() {
			t.Logf("OTP's output:\n%s", logs)
		}
	})
	if err := m.Run(t.Context()); err != nil {
		t.Fatalf("Run: %v", err)
	}
	return m, logs
}

// readyURL is where a role answers /ready.
func readyURL(m *Main) string {
	if m.HTTPURL != "" {
		return m.HTTPURL + "/ready"
	}
	return m.WorkerURL + "/ready"
}

func getStatus(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b json.RawMessage
	_ = json.NewDecoder(resp.Body).Decode(&b)
	return resp.StatusCode, string(b)
}

// Every role starts while ERPNext rate-limits it: /ready is 503 and the
// log says it waits, attempt by attempt; once ERPNext answers, /ready is
// 200 and (where workers run) the workers start.
func TestStartupWaitsOutRateLimiting(t *testing.T) {
	for _, r := range []role{roleServe, roleWork, roleServe | roleWork} {
		t.Run(rolesName(r), func(t *testing.T) {
			sb := sandbox.New(sandbox.WithDemoData())
			t.Cleanup(func() { _ = sb.Close() })
			var limit atomic.Bool
			limit.Store(true)
			ts := httptest.NewServer(rateLimited(sb, &limit))
			t.Cleanup(ts.Close)
			key, secret := sb.Credentials()

			m, logs := startRole(t, r, ts.URL, key, secret)
			waitFor(t, 5*time.Second, "a third attempt", func() bool { return strings.Count(logs.String(), `"msg":"waiting for ERPNext`) >= 3 })
			if code, body := getStatus(t, readyURL(m)); code != http.StatusServiceUnavailable {
				t.Errorf("/ready while ERPNext rate-limits = %d %s, want 503", code, body)
			}
			if !strings.Contains(logs.String(), `"check":"nothing to change (ERPNext is rate-limiting`) {
				t.Errorf("the log does not say a 429 needs no change:\n%s", logs)
			}
			if !strings.Contains(logs.String(), "ERPNext:    "+ts.URL) {
				t.Errorf("the banner does not say it waits for ERPNext:\n%s", logs)
			}
			if r&roleWork != 0 && strings.Contains(logs.String(), "workers started") {
				t.Fatal("workers started before ERPNext answered")
			}

			limit.Store(false)
			waitFor(t, 5*time.Second, "/ready 200", func() bool { code, _ := getStatus(t, readyURL(m)); return code == http.StatusOK })
			if r&roleWork != 0 {
				waitFor(t, 5*time.Second, "the workers", func() bool { return strings.Contains(logs.String(), `"msg":"workers started"`) })
				if !strings.Contains(logs.String(), `"api_user":"`+sb.APIUser()+`"`) {
					t.Errorf("workers started without the API user ERPNext named:\n%s", logs)
				}
			}
		})
	}
}

// A failure names the variable to check first, the same in every role:
// a refused key names ERPNEXT_API_KEY, nothing listening names
// ERPNEXT_BASE_URL. No role exits.
func TestStartupNamesTheVariable(t *testing.T) {
	sb := sandbox.New(sandbox.WithDemoData())
	t.Cleanup(func() { _ = sb.Close() })
	ts := httptest.NewServer(sb)
	t.Cleanup(ts.Close)
	key, _ := sb.Credentials()
	notFrappe := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(notFrappe.Close)
	for _, tt := range []struct {
		name, base, secret, want string
	}{
		{"wrong secret", ts.URL, "wrong", `"check":"ERPNEXT_API_KEY and ERPNEXT_API_SECRET (ERPNext refused them`},
		{"nothing listening", "http://127.0.0.1:1", "s", `"check":"ERPNEXT_BASE_URL (nothing answered there`},
		{"not Frappe", notFrappe.URL, "s", `"check":"ERPNEXT_BASE_URL (what answers there is not a Frappe site`},
	} {
		for _, r := range []role{roleServe, roleWork, roleServe | roleWork} {
			t.Run(tt.name+"/"+rolesName(r), func(t *testing.T) {
				m, logs := startRole(t, r, tt.base, key, tt.secret)
				if !strings.Contains(logs.String(), tt.want) {
					t.Errorf("log lacks %s:\n%s", tt.want, logs)
				}
				code, body := getStatus(t, readyURL(m))
				if code != http.StatusServiceUnavailable {
					t.Errorf("/ready = %d %s, want 503", code, body)
				}
				if !strings.Contains(body, "ERPNEXT_") {
					t.Errorf("/ready does not name a variable: %s", body)
				}
				select {
				case err := <-m.Failed():
					t.Errorf("the process failed: %v", err)
				default:
				}
			})
		}
	}
}

// Once the client's circuit breaker opens, its "circuit open" says nothing
// about what to fix: the log and /ready keep naming what the failures
// before it call for.
func TestStartupNamesTheCauseBehindAnOpenBreaker(t *testing.T) {
	m, logs := startRole(t, roleWork, "http://127.0.0.1:1", "k", "s", func(m *Main) {
		m.erpOptions = append(m.erpOptions, erp.WithBreaker(1, time.Minute))
	})
	waitFor(t, 5*time.Second, "a second attempt", func() bool { return strings.Contains(logs.String(), `"attempt":2`) })
	for _, want := range []string{
		`"check":"ERPNEXT_BASE_URL (nothing answered there:`,
		`the circuit breaker opened after: erp: GET frappe.auth.get_logged_user: transport error`,
		`"err":"erp: GET frappe.auth.get_logged_user: circuit open`,
	} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %s:\n%s", want, logs)
		}
	}
	if _, body := getStatus(t, readyURL(m)); !strings.Contains(body, "ERPNEXT_BASE_URL") {
		t.Errorf("/ready does not name ERPNEXT_BASE_URL: %s", body)
	}
}

func TestStartupDelay(t *testing.T) {
	rateLimit := &erp.Error{Kind: erp.KindRateLimited, RetryAfter: 7 * time.Second}
	for _, tt := range []struct {
		n    int
		err  error
		want time.Duration
	}{
		{1, errors.New("x"), time.Second},
		{2, errors.New("x"), 2 * time.Second},
		{5, errors.New("x"), 16 * time.Second},
		{6, errors.New("x"), 30 * time.Second},
		{60, errors.New("x"), 30 * time.Second},
		{1, rateLimit, 7 * time.Second},
		{4, rateLimit, 8 * time.Second},
		{1, &erp.Error{Kind: erp.KindCircuitOpen, RetryAfter: time.Minute}, 30 * time.Second},
	} {
		if got := startupDelay(tt.n, tt.err, startupBackoffMin, startupBackoffMax); got != tt.want {
			t.Errorf("startupDelay(%d, %v) = %s, want %s", tt.n, tt.err, got, tt.want)
		}
	}
}
