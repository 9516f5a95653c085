package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/erpnext-otp/otp/config"
	"github.com/erpnext-otp/otp/erp"
	"github.com/erpnext-otp/otp/tasks"
)

// get fetches url and returns the status and body; err when nothing answers.
func get(tb testing.TB, url string) (int, string, error) {
	tb.Helper()
	req, _ := http.NewRequestWithContext(tb.Context(), http.MethodGet, url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

// metricValue finds `name{labels} value` in a Prometheus text exposition
// and returns the value; labels is a regexp matched inside the braces.
func metricValue(exposition, name, labels string) (float64, bool) {
	re := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + `\{[^}]*` + labels + `[^}]*\} (\S+)$`)
	if labels == "" {
		re = regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + `(?:\{[^}]*\})? (\S+)$`)
	}
	m := re.FindStringSubmatch(exposition)
	if m == nil {
		return 0, false
	}
	v, err := strconv.ParseFloat(m[1], 64)
	return v, err == nil
}

// `otp work` alone (a worker pod) answers /health and /metrics on
// OTP_WORKER_ADDR: 200 while its workers run, Go/process metrics, asynq's
// queue gauges and the ERPNext requests its tasks made; and stops answering
// when closed.
func TestWorkProcessServesHealthAndMetrics(t *testing.T) {
	now := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	cfg, err := config.Load(map[string]string{"OTP_SANDBOX_ADDR": "127.0.0.1:0", "LOG_LEVEL": "DEBUG"})
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	m := &Main{Config: cfg, Roles: roleWork, WorkerAddr: "127.0.0.1:0", Logger: newLogger(logs, cfg.SlogLevel()), Out: logs,
		Version: "w1", Now: func() time.Time { return now }, pollEvery: 50 * time.Millisecond}
	closed := false
	t.Cleanup(func() {
		if !closed {
			m.Close()
		}
		if t.Failed() {
			t.Logf("OTP's output:\n%s", logs)
		}
	})
	if err := m.Run(t.Context()); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if m.WorkerURL == "" || m.HTTPURL != "" {
		t.Fatalf("WorkerURL %q, HTTPURL %q: want only the worker listener", m.WorkerURL, m.HTTPURL)
	}
	if !strings.Contains(logs.String(), "Worker:     "+m.WorkerURL+"   (health: "+m.WorkerURL+"/health") {
		t.Errorf("banner lacks the worker URL:\n%s", logs)
	}

	status, body, err := get(t, m.WorkerURL+"/health")
	var h workerHealth
	if err == nil {
		err = json.Unmarshal([]byte(body), &h)
	}
	if err != nil || status != http.StatusOK {
		t.Fatalf("/health = %d %s (%v)", status, body, err)
	}
	if diff := cmp.Diff(workerHealth{Status: "healthy", Version: "w1", Worker: "running", Redis: "ok", ERPNext: "ok"}, h); diff != "" {
		t.Errorf("/health (-want +got):\n%s", diff)
	}

	// One task, so that the queue exists and ERPNext is called.
	order := m.Sandbox.Demo().MultiLineSO
	task, err := tasks.NewPromiseOrderTask(tasks.PromiseOrder{SalesOrder: order, Event: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.queue.EnqueueContext(t.Context(), task); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 15*time.Second, order+" to be promised", func() bool {
		doc, err := m.Sandbox.Get("Sales Order", order)
		return err == nil && doc[erp.FieldPromiseDate] != nil
	})
	insp := asynq.NewInspectorFromRedisClient(m.Redis)
	waitFor(t, 5*time.Second, "the task to complete", func() bool {
		info, err := insp.GetQueueInfo(tasks.QueuePromise)
		return err == nil && info.Active == 0 && info.Completed == 1
	})

	status, body, err = get(t, m.WorkerURL+"/metrics")
	if err != nil || status != http.StatusOK {
		t.Fatalf("/metrics = %d (%v)", status, err)
	}
	gets := 0.0
	for _, line := range strings.Split(body, "\n") {
		if strings.HasPrefix(line, "otp_erpnext_requests_total{") && strings.Contains(line, `method="GET"`) {
			v, _ := strconv.ParseFloat(line[strings.LastIndex(line, " ")+1:], 64)
			gets += v
		}
	}
	if gets < 1 {
		t.Errorf("otp_erpnext_requests_total has %v GETs, want the task's reads counted", gets)
	}
	for _, want := range []struct {
		name, labels string
		value        float64
	}{
		{"otp_queue_tasks", `queue="promise",state="completed"`, 1},
		{"otp_queue_tasks", `queue="promise",state="pending"`, 0},
		{"otp_queue_processed_total", `queue="promise"`, 1},
		{"otp_queue_worker_servers", "", 1},
		{"otp_redis_up", "", 1},
		{"otp_worker_running", "", 1},
		{"otp_build_info", `version="w1"`, 1},
	} {
		if got, ok := metricValue(body, want.name, want.labels); !ok || got != want.value {
			t.Errorf("%s{%s} = %v (found %v), want %v", want.name, want.labels, got, ok, want.value)
		}
	}
	for _, name := range []string{"go_goroutines", "process_open_fds", "otp_erpnext_request_duration_seconds_count", "otp_queue_latency_seconds", "otp_queue_paused"} {
		if _, ok := metricValue(body, name, ""); !ok {
			t.Errorf("/metrics lacks %s", name)
		}
	}

	closed = true
	if err := m.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if _, _, err := get(t, m.WorkerURL+"/health"); err == nil {
		t.Error("/health still answers after Close")
	}
}

// In `all` mode the main server serves /health and /metrics: no second
// listener, whatever WorkerAddr says.
func TestAllModeHasNoWorkerListener(t *testing.T) {
	a := MustStart(t, time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC), nil, func(m *Main) { m.WorkerAddr = "127.0.0.1:0" })
	if a.m.WorkerURL != "" || a.m.workerHTTP != nil {
		t.Errorf("all mode started a worker listener at %q", a.m.WorkerURL)
	}
	if strings.Contains(a.logs.String(), "Worker:") {
		t.Errorf("banner names a worker listener:\n%s", a.logs)
	}
	status, body, err := get(t, a.m.HTTPURL+"/metrics")
	if err != nil || status != http.StatusOK || !strings.Contains(body, "otp_erpnext_requests_total") {
		t.Errorf("main /metrics = %d (%v), want otp_erpnext_requests_total there", status, err)
	}
}

// /health is 503 before the workers start and after they stop, 200
// "stopping" while they drain, and 200 "degraded" when Redis is down (asynq
// reconnects by itself; a restart would not help).
func TestWorkerHealth(t *testing.T) {
	up := MustStart(t, time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC), nil).m.Redis
	down := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialTimeout: 200 * time.Millisecond})
	t.Cleanup(func() { down.Close() })
	tests := []struct {
		name       string
		state      int32
		rdb        redis.UniversalClient
		wantStatus int
		want       workerHealth
	}{
		{"starting", workerStarting, up, 503, workerHealth{Status: "down", Worker: "starting", Redis: "ok"}},
		{"running", workerRunning, up, 200, workerHealth{Status: "healthy", Worker: "running", Redis: "ok"}},
		{"draining", workerStopping, up, 200, workerHealth{Status: "stopping", Worker: "stopping", Redis: "ok"}},
		{"stopped", workerStopped, up, 503, workerHealth{Status: "down", Worker: "stopped", Redis: "ok"}},
		{"Redis down", workerRunning, down, 200, workerHealth{Status: "degraded", Worker: "running"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := &workerHTTP{redis: tt.rdb, version: "v"}
			w.state.Store(tt.state)
			rec := httptest.NewRecorder()
			w.health(rec, httptest.NewRequest(http.MethodGet, "/health", nil))
			var got workerHealth
			if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
				t.Fatalf("body %s: %v", rec.Body, err)
			}
			if tt.rdb == down {
				if got.Redis == "ok" || got.Redis == "" {
					t.Errorf("redis = %q, want the error", got.Redis)
				}
				got.Redis = ""
			}
			tt.want.Version = "v"
			if rec.Code != tt.wantStatus {
				t.Errorf("status %d, want %d", rec.Code, tt.wantStatus)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}
