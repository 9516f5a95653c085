package migrations_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/erpnext-otp/otp/erp"
	"github.com/erpnext-otp/otp/erp/sandbox"
	"github.com/erpnext-otp/otp/migrations"
)

// sandboxNow pins the sandbox's clock: a Monday.
var sandboxNow = time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)

const testSecret = "s3cret-for-tests-0123456789abcdef"

// MustSandbox starts the demo sandbox on 127.0.0.1, with Frappe's webhook
// retry sleeps made instant.
func MustSandbox(tb testing.TB, opts ...sandbox.Option) (*sandbox.Sandbox, *httptest.Server) {
	tb.Helper()
	all := append([]sandbox.Option{
		sandbox.WithDemoData(),
		sandbox.WithClock(func() time.Time { return sandboxNow }),
		sandbox.WithWebhookSleep(func(context.Context, time.Duration) error { return nil }),
	}, opts...)
	s := sandbox.New(all...)
	srv := httptest.NewServer(s)
	tb.Cleanup(func() {
		srv.Close()
		_ = s.Close()
	})
	return s, srv
}

// MustClient is an erp client of the sandbox's API user.
func MustClient(tb testing.TB, s *sandbox.Sandbox, srv *httptest.Server) *erp.Client {
	tb.Helper()
	key, secret := s.Credentials()
	c, err := erp.New(srv.URL, key, secret, erp.WithRetry(2, time.Millisecond, 2*time.Millisecond), erp.WithTimeout(5*time.Second))
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// MustConfig is the migrations' configuration for a site whose webhooks go to publicURL.
func MustConfig(tb testing.TB, s *sandbox.Sandbox, publicURL string) migrations.Config {
	tb.Helper()
	return migrations.Config{PublicURL: publicURL, WebhookSecret: testSecret, APIUser: s.APIUser()}
}

// MustStatus reads the steps' states.
func MustStatus(tb testing.TB, c migrations.Client, cfg migrations.Config) []migrations.StepStatus {
	tb.Helper()
	st, err := migrations.Status(testContext(tb), c, cfg)
	if err != nil {
		tb.Fatalf("Status: %v", err)
	}
	return st
}

// stepStates maps step id to state.
func stepStates(steps []migrations.StepStatus) map[string]migrations.State {
	out := map[string]migrations.State{}
	for _, s := range steps {
		out[s.Step.ID] = s.State
	}
	return out
}

func allSteps(state migrations.State) map[string]migrations.State {
	out := map[string]migrations.State{}
	for _, s := range migrations.Steps() {
		out[s.ID] = state
	}
	return out
}

// writes counts the sandbox's POST, PUT and DELETE requests since the last reset.
func writes(s *sandbox.Sandbox) map[string]int {
	out := map[string]int{}
	for route, n := range s.RequestCounts() {
		if !strings.HasPrefix(route, "GET ") {
			out[route] = n
		}
	}
	return out
}

// received is one webhook delivery the fake OTP got.
type received struct {
	Path   string
	Query  url.Values
	Header http.Header
	Body   []byte
}

// receiver is a fake OTP: it records deliveries and answers 202.
type receiver struct {
	*httptest.Server
	mu   sync.Mutex
	got  []received
	code int
}

func newReceiver(tb testing.TB) *receiver {
	tb.Helper()
	r := &receiver{code: http.StatusAccepted}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.got = append(r.got, received{Path: req.URL.Path, Query: req.URL.Query(), Header: req.Header.Clone(), Body: body})
		code := r.code
		r.mu.Unlock()
		w.WriteHeader(code)
	}))
	tb.Cleanup(r.Close)
	return r
}

func (r *receiver) deliveries() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]received(nil), r.got...)
}

func (r *receiver) reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = nil
}

// signed reports whether body carries Frappe's signature with secret (docs/erpnext.md#the-signature).
func signed(d received, secret string) bool {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(d.Body)
	return d.Header.Get("X-Frappe-Webhook-Signature") == base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// mustWebhooks waits until the sandbox has sent every queued webhook.
func mustWebhooks(tb testing.TB, s *sandbox.Sandbox) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.WaitForWebhooks(ctx); err != nil {
		tb.Fatalf("webhooks still queued: %v", err)
	}
}

func testContext(tb testing.TB) context.Context {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	tb.Cleanup(cancel)
	return ctx
}
