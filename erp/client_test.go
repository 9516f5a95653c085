package erp_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/erpnext-otp/otp/erp"
)

func TestNewValidates(t *testing.T) {
	tests := []struct {
		base, key, secret string
		opts              []erp.Option
		wantBase          string // "" = want an error
	}{
		{base: "https://erp.example.com/", key: "k", secret: "s", wantBase: "https://erp.example.com"},
		{base: "http://127.0.0.1:8000", key: "k", secret: "s", wantBase: "http://127.0.0.1:8000"},
		{base: "https://example.com/erp/", key: "k", secret: "s", wantBase: "https://example.com/erp"},
		{base: "erp.example.com", key: "k", secret: "s"},
		{base: "ftp://erp.example.com", key: "k", secret: "s"},
		{base: "https://", key: "k", secret: "s"},
		{base: "https://erp.example.com?x=1", key: "k", secret: "s"},
		{base: "https://user:pw@erp.example.com", key: "k", secret: "s"},
		{base: "://bad", key: "k", secret: "s"},
		{base: "https://erp.example.com", key: "", secret: "s"},
		{base: "https://erp.example.com", key: "k", secret: ""},
		{base: "https://erp.example.com", key: "k", secret: "s", opts: []erp.Option{erp.WithTimeout(0)}},
		{base: "https://erp.example.com", key: "k", secret: "s", opts: []erp.Option{erp.WithRetry(0, time.Second, time.Second)}},
		{base: "https://erp.example.com", key: "k", secret: "s", opts: []erp.Option{erp.WithRetry(3, time.Second, time.Millisecond)}},
		{base: "https://erp.example.com", key: "k", secret: "s", opts: []erp.Option{erp.WithBreaker(3, 0)}},
		{base: "https://erp.example.com", key: "k", secret: "s", opts: []erp.Option{erp.WithRetryAfterMax(-time.Second)}},
		{base: "https://erp.example.com", key: "k", secret: "s", opts: []erp.Option{erp.WithBreakerPolicy(erp.BreakerPolicy{})}},
		{base: "https://erp.example.com", key: "k", secret: "s", opts: []erp.Option{erp.WithBreakerPolicy(func() erp.BreakerPolicy {
			p := erp.DefaultBreakerPolicy()
			p.FailureRatio = 1.5
			return p
		}())}},
	}
	for _, tt := range tests {
		c, err := erp.New(tt.base, tt.key, tt.secret, tt.opts...)
		switch {
		case tt.wantBase == "" && err == nil:
			t.Errorf("New(%q, %q, %q) = nil error, want one", tt.base, tt.key, tt.secret)
		case tt.wantBase != "" && err != nil:
			t.Errorf("New(%q) error: %v", tt.base, err)
		case tt.wantBase != "" && c.BaseURL() != tt.wantBase:
			t.Errorf("New(%q).BaseURL() = %q, want %q", tt.base, c.BaseURL(), tt.wantBase)
		}
	}
}

func TestRequestsCarryAuthAndJSONHeaders(t *testing.T) {
	so := MustReadFile(t, "sales_order.json")
	f := newFakeERP(t, func(w http.ResponseWriter, r *http.Request, n int) { reply(w, 200, so) })
	c := MustClient(t, f.URL, erp.WithUserAgent("otp-test/1"))
	ctx := testContext(t)

	if _, err := c.SalesOrder(ctx, "SAL/ORD 1"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.UpdateDoc(ctx, "Sales Order", "SAL/ORD 1", map[string]any{"po_no": "X"}); err != nil {
		t.Fatal(err)
	}
	reqs := f.requests()
	if len(reqs) != 2 {
		t.Fatalf("requests = %d, want 2", len(reqs))
	}
	for _, r := range reqs {
		for h, want := range map[string]string{
			"Authorization": "token " + testKey + ":" + testSecret,
			"Accept":        "application/json",
			"User-Agent":    "otp-test/1",
		} {
			if got := r.Header.Get(h); got != want {
				t.Errorf("%s %s: header %s = %q, want %q", r.Method, r.Path, h, got, want)
			}
		}
		// The slash in the name stays part of the name (%2F), not a path step.
		if want := "/api/resource/Sales Order/SAL/ORD 1"; r.Path != want {
			t.Errorf("path = %q, want %q", r.Path, want)
		}
	}
	if got := reqs[0].Header.Get("Content-Type"); got != "" {
		t.Errorf("GET Content-Type = %q, want none", got)
	}
	if got := reqs[1].Header.Get("Content-Type"); got != "application/json" {
		t.Errorf("PUT Content-Type = %q, want application/json", got)
	}
	if diff := cmp.Diff(map[string]any{"po_no": "X"}, mustJSON(t, reqs[1].Body)); diff != "" {
		t.Errorf("PUT body (-want +got):\n%s", diff)
	}
}

func TestEscapedNameReachesServerEscaped(t *testing.T) {
	var raw string
	f := newFakeERP(t, func(w http.ResponseWriter, r *http.Request, n int) {
		raw = r.RequestURI
		reply(w, 200, []byte(`{"data":{"name":"A/B"}}`))
	})
	c := MustClient(t, f.URL)
	if _, err := c.GetDoc(testContext(t), "Sales Order", "A/B"); err != nil {
		t.Fatal(err)
	}
	if want := "/api/resource/Sales%20Order/A%2FB"; raw != want {
		t.Errorf("request URI = %q, want %q", raw, want)
	}
}

// A document call without a name would be the DocType's list route
// (GET /api/resource/Sales Order/ lists orders): it is refused as not found,
// with no request.
func TestEmptyNameIsNotFoundWithoutARequest(t *testing.T) {
	f := newFakeERP(t, func(w http.ResponseWriter, r *http.Request, n int) {
		reply(w, 200, []byte(`{"data":[{"name":"SAL-ORD-1"}]}`))
	})
	c := MustClient(t, f.URL)
	ctx := testContext(t)
	calls := map[string]func() error{
		"SalesOrder":  func() error { _, err := c.SalesOrder(ctx, ""); return err },
		"GetDoc":      func() error { _, err := c.GetDoc(ctx, "Warehouse", " "); return err },
		"HolidayList": func() error { _, err := c.HolidayList(ctx, ""); return err },
		"UpdateDoc":   func() error { _, err := c.UpdateDoc(ctx, "Sales Order", "", map[string]any{"x": 1}); return err },
		"DeleteDoc":   func() error { return c.DeleteDoc(ctx, "Sales Order", "") },
	}
	for name, call := range calls {
		if err := call(); !errors.Is(err, erp.ErrNotFound) {
			t.Errorf("%s: err = %v, want ErrNotFound", name, err)
		}
	}
	if n := len(f.requests()); n != 0 {
		t.Errorf("%d requests sent, want none", n)
	}
}

func TestReadsRetryOnlyRetryableErrors(t *testing.T) {
	ok := `{"message":"administrator@example.com"}`
	tests := []struct {
		name     string
		statuses []int // answer n is statuses[n-1], then 200
		wantReqs int
		wantErr  error
	}{
		{name: "two 503 then success", statuses: []int{503, 503}, wantReqs: 3},
		{name: "502 then 429 then success", statuses: []int{502, 429}, wantReqs: 2 + 1},
		{name: "500 on every attempt: gives up after 4", statuses: []int{500, 500, 500, 500, 500}, wantReqs: 4, wantErr: erp.ErrServer},
		{name: "404 is not retried", statuses: []int{404}, wantReqs: 1, wantErr: erp.ErrNotFound},
		{name: "403 is not retried", statuses: []int{403}, wantReqs: 1, wantErr: erp.ErrPermission},
		{name: "417 is not retried", statuses: []int{417}, wantReqs: 1, wantErr: erp.ErrValidation},
		{name: "401 is not retried", statuses: []int{401}, wantReqs: 1, wantErr: erp.ErrAuth},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeERP(t, func(w http.ResponseWriter, r *http.Request, n int) {
				if n <= len(tt.statuses) {
					reply(w, tt.statuses[n-1], []byte(`{"exc_type":"X"}`))
					return
				}
				reply(w, 200, []byte(ok))
			})
			c := MustClient(t, f.URL, erp.WithBreaker(100, time.Minute))
			user, err := c.LoggedUser(testContext(t))
			if tt.wantErr == nil && (err != nil || user != "administrator@example.com") {
				t.Errorf("LoggedUser = %q, %v; want administrator@example.com", user, err)
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("LoggedUser error = %v, want %v", err, tt.wantErr)
			}
			if got := len(f.requests()); got != tt.wantReqs {
				t.Errorf("requests = %d, want %d", got, tt.wantReqs)
			}
		})
	}
}

func TestWritesAreSentOnce(t *testing.T) {
	f := newFakeERP(t, func(w http.ResponseWriter, r *http.Request, n int) {
		reply(w, 503, []byte(`{"exc_type":"InReadOnlyMode"}`))
	})
	c := MustClient(t, f.URL)
	ctx := testContext(t)
	calls := map[string]func() error{
		"InsertDoc": func() error { _, err := c.InsertDoc(ctx, "Comment", map[string]any{"content": "x"}); return err },
		"UpdateDoc": func() error {
			_, err := c.UpdateDoc(ctx, "Sales Order", "SO-1", map[string]any{"po_no": "x"})
			return err
		},
		"DeleteDoc": func() error { return c.DeleteDoc(ctx, "Custom Field", "Sales Order-x") },
		"AddComment": func() error {
			return c.AddComment(ctx, "Sales Order", "SO-1", "promised")
		},
		"CreateMaterialRequest": func() error {
			_, err := c.CreateMaterialRequest(ctx, erp.MaterialRequest{Items: []erp.MaterialRequestItem{{ItemCode: "A", Qty: 1}}})
			return err
		},
	}
	for name, call := range calls {
		before := len(f.requests())
		err := call()
		if !errors.Is(err, erp.ErrServer) || !erp.IsRetryable(err) {
			t.Errorf("%s error = %v, want a retryable ErrServer", name, err)
		}
		if got := len(f.requests()) - before; got != 1 {
			t.Errorf("%s sent %d requests, want 1", name, got)
		}
	}
}

func TestRetryAfter(t *testing.T) {
	t.Run("longer than the max wait: returned at once with RetryAfter", func(t *testing.T) {
		f := newFakeERP(t, func(w http.ResponseWriter, r *http.Request, n int) {
			w.Header().Set("Retry-After", "60")
			reply(w, 429, MustReadFile(t, "errors/429_rate_limited.json"))
		})
		c := MustClient(t, f.URL, erp.WithRetry(4, time.Millisecond, 100*time.Millisecond))
		start := time.Now()
		_, err := c.Items(testContext(t), []string{"A"})
		var e *erp.Error
		if !errors.As(err, &e) || e.Kind != erp.KindRateLimited || e.RetryAfter != time.Minute {
			t.Fatalf("Items error = %v, want rate limited with RetryAfter 1m", err)
		}
		if n := len(f.requests()); n != 1 {
			t.Errorf("requests = %d, want 1", n)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("took %s, want no wait", d)
		}
	})
	t.Run("within the max wait: waited for", func(t *testing.T) {
		var mu sync.Mutex
		var at []time.Time
		f := newFakeERP(t, func(w http.ResponseWriter, r *http.Request, n int) {
			mu.Lock()
			at = append(at, time.Now())
			mu.Unlock()
			if n == 1 {
				w.Header().Set("Retry-After", "1")
				reply(w, 429, MustReadFile(t, "errors/429_rate_limited.json"))
				return
			}
			reply(w, 200, []byte(`{"data":[{"name":"A","is_stock_item":1}]}`))
		})
		c := MustClient(t, f.URL, erp.WithRetry(2, time.Millisecond, 2*time.Second))
		items, err := c.Items(testContext(t), []string{"A"})
		if err != nil || len(items) != 1 {
			t.Fatalf("Items = %v, %v", items, err)
		}
		mu.Lock()
		defer mu.Unlock()
		if len(at) != 2 {
			t.Fatalf("requests = %d, want 2", len(at))
		}
		if gap := at[1].Sub(at[0]); gap < time.Second {
			t.Errorf("retried after %s, want >= the 1s Retry-After", gap)
		}
	})
}

func TestTimeouts(t *testing.T) {
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	f := newFakeERP(t, func(w http.ResponseWriter, r *http.Request, n int) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})

	t.Run("client timeout is ErrTimeout, retried, not the caller's deadline", func(t *testing.T) {
		before := len(f.requests())
		// Long enough for each attempt to reach the server on a loaded
		// machine (-race, two cores): only then does it time out there.
		c := MustClient(t, f.URL, erp.WithTimeout(300*time.Millisecond), erp.WithRetry(2, time.Millisecond, time.Millisecond))
		_, err := c.Companies(testContext(t))
		if !errors.Is(err, erp.ErrTimeout) || !erp.IsRetryable(err) {
			t.Errorf("error = %v, want retryable ErrTimeout", err)
		}
		if errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("errors.Is(err, context.DeadlineExceeded) = true; a client timeout must not look like the caller's deadline")
		}
		if got := len(f.requests()) - before; got != 2 {
			t.Errorf("requests = %d, want 2 attempts", got)
		}
	})
	t.Run("caller's deadline is returned as context.DeadlineExceeded, not retried", func(t *testing.T) {
		before := len(f.requests())
		c := MustClient(t, f.URL, erp.WithTimeout(10*time.Second))
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond) // as above
		defer cancel()
		_, err := c.Companies(ctx)
		var e *erp.Error
		if !errors.Is(err, context.DeadlineExceeded) || errors.As(err, &e) {
			t.Errorf("error = %v (%T), want wrapped context.DeadlineExceeded", err, err)
		}
		if !strings.HasPrefix(err.Error(), "erp: GET Company") {
			t.Errorf("error = %q, want it to name the call", err)
		}
		if got := len(f.requests()) - before; got != 1 {
			t.Errorf("requests = %d, want 1", got)
		}
	})
	t.Run("caller's cancellation", func(t *testing.T) {
		c := MustClient(t, f.URL)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		before := len(f.requests())
		_, err := c.SalesOrder(ctx, "SO-1")
		if !errors.Is(err, context.Canceled) {
			t.Errorf("error = %v, want context.Canceled", err)
		}
		if got := len(f.requests()) - before; got != 0 {
			t.Errorf("requests = %d, want 0", got)
		}
	})
}

func TestTransportError(t *testing.T) {
	f := newFakeERP(t, func(w http.ResponseWriter, r *http.Request, n int) {})
	base := f.URL
	f.Close()
	c := MustClient(t, base, erp.WithRetry(3, time.Millisecond, time.Millisecond))
	_, err := c.Warehouses(testContext(t), "")
	var e *erp.Error
	if !errors.As(err, &e) || e.Kind != erp.KindTransport || e.Status != 0 || e.Err == nil {
		t.Fatalf("error = %#v, want a transport *Error with its cause", err)
	}
	if !errors.Is(err, erp.ErrTransport) || !e.Retryable() {
		t.Errorf("errors.Is(ErrTransport) = %v, Retryable = %v", errors.Is(err, erp.ErrTransport), e.Retryable())
	}
	if !strings.HasPrefix(err.Error(), "erp: GET Warehouse: transport error: ") {
		t.Errorf("Error() = %q", err)
	}
}

func TestBreaker(t *testing.T) {
	var mu sync.Mutex
	status := 503
	f := newFakeERP(t, func(w http.ResponseWriter, r *http.Request, n int) {
		mu.Lock()
		s := status
		mu.Unlock()
		if s == 200 {
			reply(w, 200, []byte(`{"message":"pong"}`))
			return
		}
		reply(w, s, []byte(`{"exc_type":"X"}`))
	})
	setStatus := func(s int) { mu.Lock(); status = s; mu.Unlock() }
	const openFor = 400 * time.Millisecond
	c := MustClient(t, f.URL, erp.WithBreaker(3, openFor))
	ctx := testContext(t)

	// 4xx answers prove ERPNext is up: they never open the breaker.
	setStatus(404)
	for range 10 {
		if err := c.Ping(ctx); !errors.Is(err, erp.ErrNotFound) {
			t.Fatalf("Ping = %v, want ErrNotFound", err)
		}
	}
	if got := c.BreakerState(); got != erp.BreakerClosed {
		t.Fatalf("after 10 404s BreakerState = %q, want closed", got)
	}

	setStatus(503)
	for i := range 3 {
		if got := c.BreakerState(); got != erp.BreakerClosed {
			t.Fatalf("after %d failures BreakerState = %q, want closed", i, got)
		}
		if err := c.Ping(ctx); !errors.Is(err, erp.ErrServer) {
			t.Fatalf("Ping = %v, want ErrServer", err)
		}
	}
	if got := c.BreakerState(); got != erp.BreakerOpen {
		t.Fatalf("after 3 failures BreakerState = %q, want open", got)
	}
	before := len(f.requests())
	err := c.Ping(ctx)
	var e *erp.Error
	if !errors.As(err, &e) || e.Kind != erp.KindCircuitOpen || !e.Retryable() {
		t.Fatalf("Ping while open = %v, want retryable ErrCircuitOpen", err)
	}
	if e.RetryAfter <= 0 || e.RetryAfter > openFor {
		t.Errorf("RetryAfter = %s, want in (0, %s]", e.RetryAfter, openFor)
	}
	// A read fails fast too, without retrying against the open breaker.
	if _, err := c.Companies(ctx); !errors.Is(err, erp.ErrCircuitOpen) {
		t.Errorf("Companies while open = %v, want ErrCircuitOpen", err)
	}
	if got := len(f.requests()) - before; got != 0 {
		t.Errorf("requests while open = %d, want 0", got)
	}

	waitForState(t, c, erp.BreakerHalfOpen, time.Second)
	// A failed probe opens it again.
	if err := c.Ping(ctx); !errors.Is(err, erp.ErrServer) {
		t.Fatalf("probe = %v, want ErrServer", err)
	}
	if got := c.BreakerState(); got != erp.BreakerOpen {
		t.Fatalf("after a failed probe BreakerState = %q, want open", got)
	}

	setStatus(200)
	waitForState(t, c, erp.BreakerHalfOpen, time.Second)
	if err := c.Ping(ctx); err != nil {
		t.Fatalf("probe = %v, want success", err)
	}
	if got := c.BreakerState(); got != erp.BreakerClosed {
		t.Errorf("after a good probe BreakerState = %q, want closed", got)
	}
}

// waitForState polls the breaker until it reaches want or within passes.
func waitForState(tb testing.TB, c *erp.Client, want erp.BreakerState, within time.Duration) {
	tb.Helper()
	deadline := time.Now().Add(within)
	for c.BreakerState() != want {
		if time.Now().After(deadline) {
			tb.Fatalf("BreakerState = %q after %s, want %q", c.BreakerState(), within, want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestObserverSeesEveryAttempt(t *testing.T) {
	f := newFakeERP(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if n == 1 {
			reply(w, 502, []byte("bad gateway"))
			return
		}
		reply(w, 200, MustReadFile(t, "sales_order.json"))
	})
	type obs struct {
		Method, Route string
		Status        int
	}
	var mu sync.Mutex
	var got []obs
	c := MustClient(t, f.URL, erp.WithObserver(func(method, route string, status int, d time.Duration) {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, obs{method, route, status})
		if d <= 0 {
			t.Errorf("duration %s, want > 0", d)
		}
	}))
	if _, err := c.SalesOrder(testContext(t), "SAL-ORD-2025-00042"); err != nil {
		t.Fatal(err)
	}
	want := []obs{{"GET", "/api/resource/Sales Order", 502}, {"GET", "/api/resource/Sales Order", 200}}
	mu.Lock()
	defer mu.Unlock()
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("observations (-want +got):\n%s", diff)
	}
}

func TestUnexpectedBodies(t *testing.T) {
	tests := []struct {
		name string
		body string
		opts []erp.Option
	}{
		{name: "HTML login page with 200", body: "<html><body>Login to ERPNext</body></html>"},
		{name: "no data member", body: `{"message":"ok"}`},
		{name: "body over the read limit", body: `{"data":{"name":"` + strings.Repeat("x", 200) + `"}}`, opts: []erp.Option{erp.WithMaxBodyBytes(100)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeERP(t, func(w http.ResponseWriter, r *http.Request, n int) { reply(w, 200, []byte(tt.body)) })
			c := MustClient(t, f.URL, tt.opts...)
			_, err := c.GetDoc(testContext(t), "Item", "A")
			if !errors.Is(err, erp.ErrUnexpected) || erp.IsRetryable(err) {
				t.Errorf("GetDoc error = %v, want non-retryable ErrUnexpected", err)
			}
			if n := len(f.requests()); n != 1 {
				t.Errorf("requests = %d, want 1", n)
			}
		})
	}
}

func TestConnectionsAreReused(t *testing.T) {
	var mu sync.Mutex
	conns := 0
	f := newFakeERP(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if n%2 == 0 { // error bodies are drained too
			reply(w, 404, MustReadFile(t, "errors/404_does_not_exist.json"))
			return
		}
		reply(w, 200, MustReadFile(t, "sales_order.json"))
	}, func(s *http.Server) {
		s.ConnState = func(_ net.Conn, s http.ConnState) {
			if s == http.StateNew {
				mu.Lock()
				conns++
				mu.Unlock()
			}
		}
	})
	c := MustClient(t, f.URL)
	for range 20 {
		_, _ = c.SalesOrder(testContext(t), "SAL-ORD-2025-00042")
	}
	if n := len(f.requests()); n != 20 {
		t.Fatalf("requests = %d, want 20", n)
	}
	mu.Lock()
	defer mu.Unlock()
	if conns != 1 {
		t.Errorf("20 sequential requests opened %d connections, want 1", conns)
	}
}

func TestRedirectIsReportedNotFollowed(t *testing.T) {
	f := newFakeERP(t, func(w http.ResponseWriter, r *http.Request, n int) {
		http.Redirect(w, r, "https://erp.example.com"+r.URL.Path, http.StatusMovedPermanently)
	})
	c := MustClient(t, f.URL)
	_, err := c.UpdateDoc(testContext(t), "Sales Order", "SO-1", map[string]any{"po_no": "x"})
	var e *erp.Error
	if !errors.As(err, &e) || e.Kind != erp.KindUnexpected || e.Status != 301 || !strings.Contains(e.Message, "https://erp.example.com/api/resource/Sales Order/SO-1") {
		t.Fatalf("error = %v, want an unexpected 301 naming the new location", err)
	}
	if reqs := f.requests(); len(reqs) != 1 || reqs[0].Method != "PUT" {
		t.Errorf("requests = %+v, want the one PUT", reqs)
	}
}
