package quote_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/erpnext-otp/otp/erp/sandbox"
	"github.com/erpnext-otp/otp/server"
)

// The quote API as server mounts it: behind bearer tokens (server/auth.go).

const (
	readToken  = "read-0123456789abcdef0123456789abcdef"
	writeToken = "write-0123456789abcdef0123456789abcdef"
)

func withTokens(d *server.Deps) {
	d.APITokens = []server.APIToken{
		{Name: "bi", Scope: server.ScopeRead, Token: readToken},
		{Name: "erpnext-desk", Scope: server.ScopeWrite, Token: writeToken},
	}
}

func bearer(token string) http.Header {
	return http.Header{"Authorization": {"Bearer " + token}}
}

const promiseBodyJSON = `{"customer":"C","items":[{"item_code":"SKU-001","qty":1}]}`

func TestQuoteAPIAuth(t *testing.T) {
	q := MustQuoteEnvWith(t, withTokens)
	// A well-formed apply for an order that does not exist: 404 once past auth.
	apply := `{"sales_order_id":"SO-NOPE","promise_date":"2026-12-04","confidence":"HIGH"}`
	for _, tt := range []struct {
		name, method, path, body string
		header                   http.Header
		want                     int
	}{
		{"no token", http.MethodPost, "/otp/promise", promiseBodyJSON, nil, http.StatusUnauthorized},
		{"wrong token", http.MethodPost, "/otp/promise", promiseBodyJSON, bearer(readToken + "x"), http.StatusUnauthorized},
		{"basic scheme", http.MethodGet, "/otp/sales-orders", "", http.Header{"Authorization": {"Basic " + readToken}}, http.StatusUnauthorized},
		{"empty bearer", http.MethodGet, "/otp/sales-orders", "", http.Header{"Authorization": {"Bearer "}}, http.StatusUnauthorized},
		{"read token reads", http.MethodGet, "/otp/sales-orders", "", bearer(readToken), http.StatusOK},
		{"read token quotes", http.MethodPost, "/otp/promise", promiseBodyJSON, bearer(readToken), http.StatusOK},
		{"read token stock", http.MethodGet, "/api/items/stock?item_code=SKU-001&warehouse=" + url.QueryEscape(sandbox.DemoStores), "", bearer(readToken), http.StatusOK},
		{"read token on apply", http.MethodPost, "/otp/apply", apply, bearer(readToken), http.StatusForbidden},
		{"read token on procurement", http.MethodPost, "/otp/procurement-suggest", `{"items":[{"item_code":"SKU-001","qty_needed":1,"required_by":"2026-12-10","reason":"r"}]}`, bearer(readToken), http.StatusForbidden},
		{"write token on apply", http.MethodPost, "/otp/apply", apply, bearer(writeToken), http.StatusNotFound},
		{"write token reads", http.MethodGet, "/otp/sales-orders", "", bearer(writeToken), http.StatusOK},
		{"no token on apply", http.MethodPost, "/otp/apply", apply, nil, http.StatusUnauthorized},
		{"openapi is public", http.MethodGet, "/openapi.json", "", nil, http.StatusOK},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var body any
			if tt.body != "" {
				body = tt.body
			}
			status, header, raw := q.callWith(t, tt.method, tt.path, body, tt.header)
			if status != tt.want {
				t.Fatalf("%s %s: status %d, want %d; body %s", tt.method, tt.path, status, tt.want, raw)
			}
			if status == http.StatusUnauthorized && !strings.HasPrefix(header.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("401 without WWW-Authenticate: Bearer (got %q)", header.Get("WWW-Authenticate"))
			}
			if strings.Contains(string(raw), readToken) || strings.Contains(string(raw), writeToken) {
				t.Errorf("the answer quotes a token: %s", raw)
			}
		})
	}
}

func TestQuoteAPIRateLimit(t *testing.T) {
	q := MustQuoteEnvWith(t, func(d *server.Deps) {
		withTokens(d)
		d.RateLimit, d.RateBurst = 0.5, 2
	})
	var statuses []int
	var retryAfter string
	for range 3 {
		status, header, _ := q.callWith(t, http.MethodGet, "/otp/sales-orders", nil, bearer(readToken))
		statuses = append(statuses, status)
		retryAfter = header.Get("Retry-After")
	}
	if statuses[0] != 200 || statuses[1] != 200 || statuses[2] != http.StatusTooManyRequests {
		t.Fatalf("statuses %v, want [200 200 429] with burst 2", statuses)
	}
	if retryAfter != "2" {
		t.Errorf("Retry-After %q, want 2 (one request per 2 s)", retryAfter)
	}
	// The limit is per token: the other token still gets through.
	if status, _, raw := q.callWith(t, http.MethodGet, "/otp/sales-orders", nil, bearer(writeToken)); status != 200 {
		t.Errorf("other token: status %d, want 200; %s", status, raw)
	}
}

func TestQuoteAPIOffInProductionWithoutTokens(t *testing.T) {
	q := MustQuoteEnvWith(t, func(d *server.Deps) { d.Production = true })
	status, raw := q.call(t, http.MethodPost, "/otp/promise", promiseBodyJSON)
	if status != http.StatusServiceUnavailable {
		t.Fatalf("status %d, want 503; %s", status, raw)
	}
	var b struct{ Detail any }
	if err := json.Unmarshal(raw, &b); err != nil || !strings.Contains(b.Detail.(string), "OTP_API_TOKENS") {
		t.Errorf("body %s should name OTP_API_TOKENS", raw)
	}
	if status, _ := q.call(t, http.MethodGet, "/openapi.json", nil); status != 200 {
		t.Errorf("/openapi.json: %d, want 200", status)
	}
}

// TestAccessLogNamesTheToken: the token's name, never the token, and
// probes only at DEBUG.
func TestAccessLogNamesTheToken(t *testing.T) {
	var logs bytes.Buffer
	q := MustQuoteEnvWith(t, func(d *server.Deps) {
		withTokens(d)
		d.Logger = slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	})
	if status, _, raw := q.callWith(t, http.MethodGet, "/otp/sales-orders", nil, bearer(readToken)); status != 200 {
		t.Fatalf("status %d %s", status, raw)
	}
	q.get(t, "/health")
	if !lineHas(logs.String(), `"route":"/otp/sales-orders"`, `"token":"bi"`) {
		t.Errorf("no access line naming token bi:\n%s", logs.String())
	}
	if strings.Contains(logs.String(), readToken) {
		t.Error("the log holds the token")
	}
	if strings.Contains(logs.String(), `"route":"/health"`) {
		t.Errorf("a probe is logged at INFO:\n%s", logs.String())
	}
}

// lineHas reports whether one line of logs holds both a and b.
func lineHas(logs, a, b string) bool {
	return slices.ContainsFunc(strings.Split(logs, "\n"), func(l string) bool {
		return strings.Contains(l, a) && strings.Contains(l, b)
	})
}
