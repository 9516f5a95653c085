package server

import (
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const crm = "https://crm.example.com"

// corsHeaders are the CORS response headers a browser reads.
func corsHeaders(h http.Header) map[string]string {
	out := map[string]string{}
	for _, k := range []string{"Access-Control-Allow-Origin", "Access-Control-Allow-Methods", "Access-Control-Allow-Headers",
		"Access-Control-Max-Age", "Access-Control-Allow-Credentials"} {
		if v := h.Get(k); v != "" {
			out[k] = v
		}
	}
	return out
}

func preflight(path, origin string) *http.Request {
	req := httptest.NewRequest(http.MethodOptions, path, nil)
	req.Header.Set("Origin", origin)
	req.Header.Set("Access-Control-Request-Method", http.MethodPost)
	req.Header.Set("Access-Control-Request-Headers", "Content-Type")
	return req
}

func withOrigin(req *http.Request, origin string) *http.Request {
	req.Header.Set("Origin", origin)
	return req
}

// The earlier OTP allowed every origin (docs/quote-api.md#the-earlier-otp); ours sends
// CORS headers only for the configured origins, and only on the quote API.
func TestCORS(t *testing.T) {
	badJSON := func() *http.Request {
		req := httptest.NewRequest(http.MethodPost, "/otp/promise", bytes.NewReader([]byte("{")))
		req.Header.Set("Content-Type", "application/json")
		return req
	}
	allowed := map[string]string{"Access-Control-Allow-Origin": crm}
	tests := []struct {
		name    string
		origins []string
		req     *http.Request
		status  int
		want    map[string]string
	}{
		{"preflight from a listed origin", []string{crm, "http://localhost:3000"}, preflight("/otp/promise", crm), http.StatusNoContent,
			map[string]string{"Access-Control-Allow-Origin": crm, "Access-Control-Allow-Methods": "GET,HEAD,POST",
				"Access-Control-Allow-Headers": "Content-Type", "Access-Control-Max-Age": "600"}},
		{"preflight of a path with a parameter", []string{crm}, preflight("/otp/sales-orders/SAL-ORD-1", crm), http.StatusNoContent,
			map[string]string{"Access-Control-Allow-Origin": crm, "Access-Control-Allow-Methods": "GET,HEAD,POST",
				"Access-Control-Allow-Headers": "Content-Type", "Access-Control-Max-Age": "600"}},
		{"GET from a listed origin", []string{crm}, withOrigin(httptest.NewRequest(http.MethodGet, "/openapi.json", nil), crm),
			http.StatusOK, allowed},
		{"an error answer is readable too", []string{crm}, withOrigin(badJSON(), crm), http.StatusUnprocessableEntity, allowed},
		{"preflight from another origin", []string{crm}, preflight("/otp/promise", "https://evil.example"), http.StatusNoContent,
			map[string]string{}},
		{"GET from another origin", []string{crm}, withOrigin(httptest.NewRequest(http.MethodGet, "/openapi.json", nil), "https://evil.example"),
			http.StatusOK, map[string]string{}},
		{"any origin", []string{"*"}, withOrigin(httptest.NewRequest(http.MethodGet, "/openapi.json", nil), "https://anywhere.example"),
			http.StatusOK, map[string]string{"Access-Control-Allow-Origin": "*"}},
		{"no origins configured: no CORS", nil, withOrigin(httptest.NewRequest(http.MethodGet, "/openapi.json", nil), crm),
			http.StatusOK, map[string]string{}},
		{"no origins configured: no preflight answer", nil, preflight("/otp/promise", crm), http.StatusNoContent,
			map[string]string{}},
		{"never on webhooks", []string{"*"}, preflight("/webhooks/erpnext/sales-order", crm), http.StatusNoContent,
			map[string]string{}},
		{"never on health", []string{"*"}, withOrigin(httptest.NewRequest(http.MethodGet, "/health", nil), crm),
			http.StatusOK, map[string]string{}},
		{"never on metrics", []string{"*"}, withOrigin(httptest.NewRequest(http.MethodGet, "/metrics", nil), crm),
			http.StatusOK, map[string]string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := MustEnv(t, func(d *Deps) { d.CORSOrigins = tt.origins })
			rec := e.do(t, tt.req)
			if rec.Code != tt.status {
				t.Fatalf("status = %d %s, want %d", rec.Code, rec.Body, tt.status)
			}
			if diff := cmp.Diff(tt.want, corsHeaders(rec.Header())); diff != "" {
				t.Errorf("CORS headers (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCORSWebhookAnswersCarryNoCORS(t *testing.T) {
	e := MustEnv(t, func(d *Deps) { d.CORSOrigins = []string{"*"} })
	req := MustFixtures(t)[0].request()
	req.Header.Set("Origin", crm)
	rec := e.do(t, req)
	if rec.Code != http.StatusAccepted {
		t.Fatalf("status = %d %s, want 202", rec.Code, rec.Body)
	}
	if got := corsHeaders(rec.Header()); len(got) != 0 {
		t.Errorf("webhook answer has CORS headers %v", got)
	}
}

func TestCORSAnyOriginRefusedInProduction(t *testing.T) {
	e := MustEnv(t, nil) // the dependencies New needs
	d := e.srv.deps
	d.Production, d.CORSOrigins = true, []string{crm, "*"}
	if _, err := New(d); !errors.Is(err, ErrAnyOriginInProduction) {
		t.Errorf("New = %v, want ErrAnyOriginInProduction", err)
	}
	d.CORSOrigins = []string{crm}
	if _, err := New(d); err != nil {
		t.Errorf("New with listed origins in production = %v", err)
	}
}
