package main

// Settings that only do something once the binary passes them on: tested
// against a running OTP, over HTTP.

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/hibiken/asynq"

	"github.com/erpnext-otp/otp/tasks"
)

// preflight sends a browser's CORS preflight for a POST from origin and
// returns the status and the CORS headers of the answer.
func preflight(tb testing.TB, url, origin string) (int, map[string]string) {
	tb.Helper()
	req, err := http.NewRequestWithContext(tb.Context(), http.MethodOptions, url, nil)
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Origin", origin)
	req.Header.Set("Access-Control-Request-Method", http.MethodPost)
	req.Header.Set("Access-Control-Request-Headers", "Content-Type")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatalf("OPTIONS %s: %v", url, err)
	}
	resp.Body.Close()
	got := map[string]string{}
	for _, k := range []string{"Access-Control-Allow-Origin", "Access-Control-Allow-Methods", "Access-Control-Allow-Headers", "Access-Control-Max-Age"} {
		if v := resp.Header.Get(k); v != "" {
			got[k] = v
		}
	}
	return resp.StatusCode, got
}

// OTP_CORS_ORIGINS reaches the server: a running OTP answers a preflight
// from a listed origin on the quote API, and gives no CORS headers to
// another origin, nor on the webhook path, whatever the origin.
func TestCORSOriginsReachTheServer(t *testing.T) {
	const crm = "https://crm.example.com"
	a := MustStart(t, time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC), map[string]string{"OTP_CORS_ORIGINS": crm + ",http://localhost:3000"})
	allowed := map[string]string{
		"Access-Control-Allow-Origin":  crm,
		"Access-Control-Allow-Methods": "GET,HEAD,POST",
		"Access-Control-Allow-Headers": "Content-Type",
		"Access-Control-Max-Age":       "600",
	}
	tests := []struct {
		name, path, origin string
		want               map[string]string
	}{
		{"quote API, listed origin", "/otp/promise", crm, allowed},
		{"quote API, other origin", "/otp/promise", "https://evil.example", map[string]string{}},
		{"webhook, listed origin", "/webhooks/erpnext/sales-order", crm, map[string]string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, got := preflight(t, a.m.HTTPURL+tt.path, tt.origin)
			if status != http.StatusNoContent {
				t.Errorf("status %d, want 204", status)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("CORS headers (-want +got):\n%s", diff)
			}
		})
	}
}

// Without OTP_CORS_ORIGINS a running OTP sends no CORS headers.
func TestNoCORSOriginsNoHeaders(t *testing.T) {
	a := MustStart(t, time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC), nil)
	if _, got := preflight(t, a.m.HTTPURL+"/otp/promise", "https://crm.example.com"); len(got) != 0 {
		t.Errorf("CORS headers %v without OTP_CORS_ORIGINS", got)
	}
}

// logLine is one JSON log line, as far as these tests read it.
type logLine struct {
	Level string `json:"level"`
	Msg   string `json:"msg"`
}

// logLines parses OTP's JSON logs, failing the test on a line that is not JSON.
func logLines(tb testing.TB, logs string) []logLine {
	tb.Helper()
	var out []logLine
	for _, line := range strings.Split(logs, "\n") {
		if !strings.HasPrefix(line, "{") {
			continue // the banner
		}
		var l logLine
		if err := json.Unmarshal([]byte(line), &l); err != nil {
			tb.Fatalf("log line %q: %v", line, err)
		}
		out = append(out, l)
	}
	return out
}

// A clean stop logs no ERROR, on the embedded miniredis and on a real
// Redis, in `all` and in `work`: the scheduler's Shutdown closes a Redis
// pool of its own (one shared with the workers made asynq log "Failed to
// close redis client connection" at ERROR on every stop).
func TestCleanShutdownLogsNoError(t *testing.T) {
	work := func(m *Main) { m.Roles, m.WorkerAddr = roleWork, "127.0.0.1:0" }
	for _, redisName := range []string{"embedded miniredis", "real Redis"} {
		for _, mode := range []struct {
			name string
			opts []func(*Main)
		}{{"all", nil}, {"work", []func(*Main){work}}} {
			t.Run(redisName+"/"+mode.name, func(t *testing.T) {
				env := map[string]string{"LOG_LEVEL": "INFO"}
				if redisName == "real Redis" {
					env["REDIS_URL"] = MustScratchRedis(t)
				}
				a := MustStart(t, time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC), env, mode.opts...)
				if err := a.m.Close(); err != nil {
					t.Fatalf("Close: %v", err)
				}
				var msgs []string
				for _, l := range logLines(t, a.logs.String()) {
					msgs = append(msgs, l.Msg)
					if strings.HasPrefix(l.Level, "ERROR") {
						t.Errorf("clean stop logged %s %q", l.Level, l.Msg)
					}
				}
				// Close's own logs were captured: the scheduler and the workers stopped.
				for _, want := range []string{"Scheduler stopped", "Exiting"} {
					if !slices.Contains(msgs, want) {
						t.Errorf("logs lack %q: %q", want, msgs)
					}
				}
			})
		}
	}
}

// Queue gauges describe the shared Redis, so only processes that run
// workers export them (`work` on its worker listener, `all` on its one
// /metrics) and `serve` replicas do not report the same numbers again; the
// server's own otp_queue_tasks is not exported at all.
func TestQueueGaugesOnlyWhereWorkersRun(t *testing.T) {
	serve := func(m *Main) { m.Roles = roleServe }
	work := func(m *Main) { m.Roles, m.WorkerAddr = roleWork, "127.0.0.1:0" }
	tests := []struct {
		name       string
		opts       []func(*Main)
		wantQueues bool
	}{
		{"serve", []func(*Main){serve}, false},
		{"work", []func(*Main){work}, true},
		{"all", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := MustStart(t, time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC), nil, tt.opts...)
			// A task in the reconcile queue, so that it exists in Redis;
			// its time is far off, so no worker takes it during the test.
			if _, err := a.m.queue.EnqueueContext(t.Context(), tasks.NewReconcileTask(), asynq.ProcessIn(time.Hour)); err != nil {
				t.Fatal(err)
			}
			url := a.m.HTTPURL
			if url == "" {
				url = a.m.WorkerURL
			}
			status, body, err := get(t, url+"/metrics")
			if err != nil || status != http.StatusOK {
				t.Fatalf("/metrics = %d (%v)", status, err)
			}
			got, found := metricValue(body, "otp_queue_tasks", `queue="reconcile",state="scheduled"`)
			if found != tt.wantQueues || (found && got != 1) {
				t.Errorf(`otp_queue_tasks{queue="reconcile",state="scheduled"} = %v (found %v), want found %v with 1`, got, found, tt.wantQueues)
			}
			if _, found := metricValue(body, "otp_queue_latency_seconds", ""); found != tt.wantQueues {
				t.Errorf("otp_queue_latency_seconds found %v, want %v", found, tt.wantQueues)
			}
			if strings.Contains(body, "asynq_") {
				t.Error("/metrics has asynq_* series: the queue gauges come from otp_queue_* alone")
			}
			if _, found := metricValue(body, "otp_erpnext_requests_total", ""); !found {
				t.Error("/metrics lacks otp_erpnext_requests_total")
			}
		})
	}
}
