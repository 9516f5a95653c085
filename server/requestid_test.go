package server

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/erpnext-otp/otp/tasks"
)

// The request id: the caller's X-Request-ID when sane, else a new one; sent
// back, on the delivery's one log line (its access line), and in the
// queued task's payload.
func TestRequestIDFromWebhookToPayload(t *testing.T) {
	for _, tt := range []struct {
		name, sent string
		keep       bool
	}{
		{"honoured", "frappe-7f3a", true},
		{"none", "", false},
		{"too long", strings.Repeat("a", 129), false},
		{"spaces", "a b", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			e := MustEnv(t, func(d *Deps) {
				d.Logger = slog.New(tasks.LogHandler(slog.NewJSONHandler(&logs, nil)))
			})
			body := MustFixtures(t)[0].body
			req := httptest.NewRequest(http.MethodPost, "/webhooks/erpnext/sales-order", bytes.NewReader(body))
			req.Header.Set(SignatureHeader, sign(secret, body))
			req.Header.Set("Content-Type", "application/json")
			if tt.sent != "" {
				req.Header.Set(RequestIDHeader, tt.sent)
			}
			rec := e.do(t, req)
			if rec.Code != http.StatusAccepted {
				t.Fatalf("status %d %s", rec.Code, rec.Body)
			}
			id := rec.Header().Get(RequestIDHeader)
			if tt.keep && id != tt.sent || !tt.keep && len(id) != 32 {
				t.Fatalf("X-Request-ID answered %q for %q", id, tt.sent)
			}
			p, err := tasks.DecodePromiseOrder(asyncTask(e.pending(t, tasks.QueuePromise)[0]))
			if err != nil {
				t.Fatal(err)
			}
			if p.RequestID != id {
				t.Errorf("payload request_id %q, want %q", p.RequestID, id)
			}
			// One line per delivery: the access log line is the webhook's.
			if n := strings.Count(logs.String(), `"request_id":"`+id+`"`); n != 1 {
				t.Errorf("%d lines with request_id %s, want 1:\n%s", n, id, logs.String())
			}
			for _, want := range []string{`"request_id":"` + id + `"`, `"level":"INFO"`, `"status":202`,
				`"route":"/webhooks/erpnext/sales-order"`, `"sales_order":"` + fixtureOrder + `"`, `"duration_ms":`} {
				if !lineHas(logs.String(), `"msg":"webhook queued"`, want) {
					t.Errorf("the webhook queued line lacks %s:\n%s", want, logs.String())
				}
			}
		})
	}
}

// lineHas reports whether one line of logs holds both a and b.
func lineHas(logs, a, b string) bool {
	for _, l := range strings.Split(logs, "\n") {
		if strings.Contains(l, a) && strings.Contains(l, b) {
			return true
		}
	}
	return false
}
