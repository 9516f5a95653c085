package server

import (
	"bufio"
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/erpnext-otp/otp/erp/erptest"
	"github.com/erpnext-otp/otp/tasks"
)

const secret = "my-secret" // the fixtures' secret (testdata/frappe-webhook/README.md)

var _ ERPNext = (*erptest.ERP)(nil)

// loggedIn is readiness's ERPNext check answering as a working site.
func loggedIn(context.Context) (string, error) { return "otp@example.com", nil }

// clock is a pinned, movable clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// env is one server on its own miniredis.
type env struct {
	srv      *Server
	mr       *miniredis.Miniredis
	rdb      redis.UniversalClient
	insp     *asynq.Inspector
	versions *tasks.Versions
	erp      *erptest.ERP
	clock    *clock
	breaker  atomic.Value // string
}

// MustEnv starts a server with deps adjusted by edit.
func MustEnv(tb testing.TB, edit func(*Deps)) *env {
	tb.Helper()
	mr := miniredis.RunT(tb)
	// No retries: the tests that stop Redis want the failure at once.
	rdb := redis.NewClient(&redis.Options{Addr: mr.Addr(), MaxRetries: -1, DialerRetries: 1})
	client := asynq.NewClientFromRedisClient(rdb)
	insp := asynq.NewInspectorFromRedisClient(rdb)
	e := &env{mr: mr, rdb: rdb, insp: insp, versions: tasks.NewVersions(rdb), erp: &erptest.ERP{LoggedUserFn: loggedIn},
		clock: &clock{now: time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)}}
	e.breaker.Store("closed")
	d := Deps{
		Queue:         client,
		Versions:      e.versions,
		Redis:         rdb,
		ERP:           e.erp,
		BreakerState:  func() string { return e.breaker.Load().(string) },
		WebhookSecret: secret,
		Version:       "v-test",
		Now:           e.clock.Now,
	}
	if edit != nil {
		edit(&d)
	}
	srv, err := New(d)
	if err != nil {
		tb.Fatalf("New: %v", err)
	}
	e.srv = srv
	tb.Cleanup(func() {
		if err := srv.Shutdown(context.Background()); err != nil {
			tb.Errorf("Shutdown: %v", err)
		}
		client.Close()
		rdb.Close()
	})
	return e
}

func (e *env) do(tb testing.TB, req *http.Request) *httptest.ResponseRecorder {
	tb.Helper()
	rec := httptest.NewRecorder()
	e.srv.Handler().ServeHTTP(rec, req)
	return rec
}

// post sends body to path, signed with the fixtures' secret.
func (e *env) post(tb testing.TB, path string, body []byte) *httptest.ResponseRecorder {
	tb.Helper()
	req := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
	req.Header.Set(SignatureHeader, sign(secret, body))
	req.Header.Set("Content-Type", "application/json")
	return e.do(tb, req)
}

func (e *env) get(tb testing.TB, path string) *httptest.ResponseRecorder {
	tb.Helper()
	return e.do(tb, httptest.NewRequest(http.MethodGet, path, nil))
}

// pending lists the tasks waiting in queue.
func (e *env) pending(tb testing.TB, queue string) []*asynq.TaskInfo {
	tb.Helper()
	infos, err := e.insp.ListPendingTasks(queue)
	if err != nil && !errors.Is(err, asynq.ErrQueueNotFound) {
		tb.Fatalf("ListPendingTasks(%s): %v", queue, err)
	}
	return infos
}

func sign(key string, body []byte) string {
	m := hmac.New(sha256.New, []byte(key))
	m.Write(body)
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

func hexMAC(key string, body []byte) string {
	m := hmac.New(sha256.New, []byte(key))
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

// fixture is one recorded Frappe delivery.
type fixture struct {
	name    string
	body    []byte
	headers http.Header
}

func MustFixtures(tb testing.TB) []fixture {
	tb.Helper()
	paths, err := filepath.Glob("testdata/frappe-webhook/*.body")
	if err != nil || len(paths) != 3 {
		tb.Fatalf("fixtures: %v, %v", paths, err)
	}
	var out []fixture
	for _, p := range paths {
		body, err := os.ReadFile(p)
		if err != nil {
			tb.Fatal(err)
		}
		raw, err := os.ReadFile(strings.TrimSuffix(p, ".body") + ".headers")
		if err != nil {
			tb.Fatal(err)
		}
		h := http.Header{}
		sc := bufio.NewScanner(bytes.NewReader(raw))
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok {
				h.Set(strings.TrimSpace(k), strings.TrimSpace(v))
			}
		}
		out = append(out, fixture{name: strings.TrimSuffix(filepath.Base(p), ".body"), body: body, headers: h})
	}
	return out
}

func (f fixture) request() *http.Request {
	req := httptest.NewRequest(http.MethodPost, "/webhooks/erpnext/sales-order?event=on_submit", bytes.NewReader(f.body))
	for k, v := range f.headers {
		req.Header[k] = v
	}
	return req
}

func decode[T any](tb testing.TB, rec *httptest.ResponseRecorder) T {
	tb.Helper()
	var v T
	if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil {
		tb.Fatalf("response %d %q is not JSON: %v", rec.Code, rec.Body.String(), err)
	}
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		tb.Errorf("Content-Type = %q, want application/json", ct)
	}
	return v
}

type errBody struct {
	Error  string         `json:"error"`
	Detail map[string]any `json:"detail"`
}

// asyncTask rebuilds the task a TaskInfo describes, for the decoders.
func asyncTask(info *asynq.TaskInfo) *asynq.Task { return asynq.NewTask(info.Type, info.Payload) }
