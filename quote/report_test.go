package quote_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/erpnext-otp/otp/erp"
	"github.com/erpnext-otp/otp/server"
)

// The demo's delivered order (SKU-003 × 4, delivered yesterday, never
// promised by OTP) is the window's only delivered line: counted, named as
// unpromised, and not measured.
func TestAccuracyReportRoute(t *testing.T) {
	q := MustQuoteEnvWith(t, func(d *server.Deps) {
		withTokens(d)
		d.Quote.History = d.Quote.ERP.(*erp.Client)
	})
	for _, tc := range []struct {
		name   string
		path   string
		header http.Header
		want   int
	}{
		{"read token", "/otp/report/accuracy?from=2026-11-01&to=2026-11-30", bearer(readToken), http.StatusOK},
		{"write token reads too", "/otp/report/accuracy?from=2026-11-01&to=2026-11-30&company=" + "Demo", bearer(writeToken), http.StatusOK},
		{"no token", "/otp/report/accuracy?from=2026-11-01&to=2026-11-30", nil, http.StatusUnauthorized},
		{"no from", "/otp/report/accuracy?to=2026-11-30", bearer(readToken), http.StatusUnprocessableEntity},
		{"not a date", "/otp/report/accuracy?from=last-week&to=2026-11-30", bearer(readToken), http.StatusUnprocessableEntity},
		{"inverted", "/otp/report/accuracy?from=2026-11-30&to=2026-11-01", bearer(readToken), http.StatusUnprocessableEntity},
		{"over a year", "/otp/report/accuracy?from=2024-01-01&to=2026-11-30", bearer(readToken), http.StatusUnprocessableEntity},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, _, body := q.callWith(t, http.MethodGet, tc.path, nil, tc.header)
			if status != tc.want {
				t.Fatalf("status %d, want %d: %s", status, tc.want, body)
			}
			if status != http.StatusOK || tc.name != "read token" {
				return
			}
			var r struct {
				Delivered int `json:"delivered_lines"`
				Measured  int `json:"measured_lines"`
				Limits    struct {
					Unpromised struct {
						Count int      `json:"count"`
						Names []string `json:"names"`
					} `json:"unpromised"`
				} `json:"limits"`
			}
			if err := json.Unmarshal(body, &r); err != nil {
				t.Fatal(err)
			}
			if r.Delivered != 1 || r.Measured != 0 || r.Limits.Unpromised.Count != 1 || len(r.Limits.Unpromised.Names) != 1 {
				t.Errorf("report %s", body)
			}
		})
	}
}

func TestAccuracyReportOffWithoutHistory(t *testing.T) {
	q := MustQuoteEnv(t)
	status, body := q.call(t, http.MethodGet, "/otp/report/accuracy?from=2026-11-01&to=2026-11-30", nil)
	if status != http.StatusServiceUnavailable {
		t.Errorf("status %d, want 503: %s", status, body)
	}
}
