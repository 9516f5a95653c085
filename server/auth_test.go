package server

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/erpnext-otp/otp/erp/sandbox"
)

const (
	readToken  = "read-0123456789abcdef0123456789abcdef"
	writeToken = "write-0123456789abcdef0123456789abcdef"
)

func withTokens(d *Deps) {
	d.APITokens = []APIToken{
		{Name: "bi", Scope: ScopeRead, Token: readToken},
		{Name: "erpnext-desk", Scope: ScopeWrite, Token: writeToken},
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
	q := MustQuoteEnvWith(t, func(d *Deps) {
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
	q := MustQuoteEnvWith(t, func(d *Deps) { d.Production = true })
	status, raw := q.call(t, http.MethodPost, "/otp/promise", promiseBodyJSON)
	if status != http.StatusServiceUnavailable {
		t.Fatalf("status %d, want 503; %s", status, raw)
	}
	var b errorBody
	if err := json.Unmarshal(raw, &b); err != nil || !strings.Contains(b.Detail.(string), "OTP_API_TOKENS") {
		t.Errorf("body %s should name OTP_API_TOKENS", raw)
	}
	if status, _ := q.call(t, http.MethodGet, "/openapi.json", nil); status != 200 {
		t.Errorf("/openapi.json: %d, want 200", status)
	}
}

// TestTokenCompareTime: a wrong token that shares all but its last
// character with a real one takes as long to refuse as one sharing nothing
// (the tokens are hashed, then compared in constant time). The fastest of
// many runs is compared, which load on the machine only slows.
func TestTokenCompareTime(t *testing.T) {
	a := newAuth(Deps{APITokens: []APIToken{{Name: "a", Scope: ScopeRead, Token: writeToken}}})
	fastest := func(header string) time.Duration {
		best := time.Hour
		for range 3000 {
			start := time.Now()
			if _, err := a.authenticate(header); err == nil {
				t.Fatal("wrong token accepted")
			}
			best = min(best, time.Since(start))
		}
		return best
	}
	near := "Bearer " + writeToken[:len(writeToken)-1] + "X"
	far := "Bearer " + strings.Repeat("Z", len(writeToken))
	n, f := fastest(near), fastest(far)
	if n > 3*f || f > 3*n {
		t.Errorf("near miss %v, far miss %v: should take about as long", n, f)
	}
}

func TestHEADAnsweredWhereGETIs(t *testing.T) {
	e := MustEnv(t, nil)
	_ = e.srv.Probe().Check(context.Background())
	for _, path := range []string{"/health", "/ready", "/readyz", "/metrics", "/openapi.json"} {
		rec := e.do(t, httptest.NewRequest(http.MethodHead, path, nil))
		if rec.Code != http.StatusOK {
			t.Errorf("HEAD %s: %d, want 200", path, rec.Code)
		}
	}
}
