package erp_test

import (
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/erpnext-otp/otp/erp"
)

// TestBreakerFaultShare sends 200 pings of which 15 % fail, in bursts of 6
// at the end of every 40: the ratio rule keeps the breaker closed; a rule
// of 5 failures in a row (the earlier one) opens it on the first burst.
func TestBreakerFaultShare(t *testing.T) {
	consecutive := erp.DefaultBreakerPolicy()
	consecutive.ConsecutiveFailures = 5
	tests := []struct {
		name     string
		policy   erp.BreakerPolicy
		wantOpen bool
	}{
		{"default policy", erp.DefaultBreakerPolicy(), false},
		{"five in a row", consecutive, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeERP(t, func(w http.ResponseWriter, r *http.Request, n int) {
				if (n-1)%40 >= 34 {
					reply(w, 502, []byte(`{"exc_type":"X"}`))
					return
				}
				reply(w, 200, []byte(`{"message":"pong"}`))
			})
			c := MustClient(t, f.URL, erp.WithBreakerPolicy(tt.policy))
			ctx := testContext(t)
			failed, opened := 0, false
			for range 200 {
				if err := c.Ping(ctx); err != nil {
					if !errors.Is(err, erp.ErrServer) && !errors.Is(err, erp.ErrCircuitOpen) {
						t.Fatalf("Ping = %v, want nil, ErrServer or ErrCircuitOpen", err)
					}
					failed++
				}
				if c.BreakerState() == erp.BreakerOpen {
					opened = true
					break
				}
			}
			if opened != tt.wantOpen {
				t.Errorf("breaker opened = %v, want %v (%d pings failed)", opened, tt.wantOpen, failed)
			}
			if !tt.wantOpen && failed != 30 {
				t.Errorf("failed pings = %d, want 30 (15 %% of 200)", failed)
			}
		})
	}
}

// TestBreakerHalfOpenResumes: ERPNext down opens the breaker; once ERPNext
// answers again, the first requests after the open time are the probes,
// one more while they run is refused unsent, and their success closes the
// breaker so that all traffic flows again.
func TestBreakerHalfOpenResumes(t *testing.T) {
	var mu sync.Mutex
	up := false
	hold := make(chan struct{}) // probes wait here until released
	arrived := make(chan struct{}, 10)
	f := newFakeERP(t, func(w http.ResponseWriter, r *http.Request, n int) {
		mu.Lock()
		u := up
		mu.Unlock()
		if !u {
			reply(w, 503, []byte(`{"exc_type":"X"}`))
			return
		}
		select {
		case arrived <- struct{}{}:
		default:
		}
		<-hold
		reply(w, 200, []byte(`{"message":"pong"}`))
	})
	release := sync.OnceFunc(func() { close(hold) })
	t.Cleanup(release) // before the server's Close, which waits for the handlers
	policy := erp.BreakerPolicy{FailureRatio: 0.5, MinRequests: 4, Window: time.Minute, OpenFor: 50 * time.Millisecond, Probes: 3}
	c := MustClient(t, f.URL, erp.WithBreakerPolicy(policy))
	ctx := testContext(t)

	for i := range 4 {
		if got := c.BreakerState(); got != erp.BreakerClosed {
			t.Fatalf("after %d failures BreakerState = %q, want closed", i, got)
		}
		if err := c.Ping(ctx); !errors.Is(err, erp.ErrServer) {
			t.Fatalf("Ping = %v, want ErrServer", err)
		}
	}
	if got := c.BreakerState(); got != erp.BreakerOpen {
		t.Fatalf("after 4 failures BreakerState = %q, want open", got)
	}

	mu.Lock()
	up = true
	mu.Unlock()
	waitForState(t, c, erp.BreakerHalfOpen, 5*time.Second)

	errs := make(chan error, 3)
	for range 3 {
		go func() { errs <- c.Ping(ctx) }()
	}
	for range 3 {
		<-arrived
	}
	before := len(f.requests())
	if err := c.Ping(ctx); !errors.Is(err, erp.ErrCircuitOpen) || !erp.IsRetryable(err) {
		t.Errorf("Ping beyond the probes = %v, want a retryable ErrCircuitOpen", err)
	}
	if got := len(f.requests()) - before; got != 0 {
		t.Errorf("requests beyond the probes = %d, want 0", got)
	}
	release()
	for range 3 {
		if err := <-errs; err != nil {
			t.Errorf("probe = %v, want success", err)
		}
	}
	if got := c.BreakerState(); got != erp.BreakerClosed {
		t.Fatalf("after 3 good probes BreakerState = %q, want closed", got)
	}
	for range 20 {
		if err := c.Ping(ctx); err != nil {
			t.Fatalf("Ping after recovery = %v", err)
		}
	}
}

// TestRetryAfterBound: a read waits for Retry-After only while its waits
// stay within WithRetryAfterMax; past that it returns the retryable 429
// at once, RetryAfter set.
func TestRetryAfterBound(t *testing.T) {
	tests := []struct {
		name         string
		bound        time.Duration
		limited      int // answers of 429 Retry-After: 1 before the 200
		wantRequests int
		wantErr      bool
	}{
		{"no waiting at all", 0, 1, 1, true},
		{"one wait within the bound", 1500 * time.Millisecond, 1, 2, false},
		{"a second wait would pass the bound", 1500 * time.Millisecond, 2, 2, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeERP(t, func(w http.ResponseWriter, r *http.Request, n int) {
				if n <= tt.limited {
					w.Header().Set("Retry-After", "1")
					reply(w, 429, MustReadFile(t, "errors/429_rate_limited.json"))
					return
				}
				reply(w, 200, []byte(`{"data":[{"name":"A","is_stock_item":1}]}`))
			})
			c := MustClient(t, f.URL, erp.WithRetryAfterMax(tt.bound))
			_, err := c.Items(testContext(t), []string{"A"})
			var e *erp.Error
			switch {
			case tt.wantErr && (!errors.As(err, &e) || e.Kind != erp.KindRateLimited || !e.Retryable() || e.RetryAfter != time.Second):
				t.Errorf("Items error = %v, want a retryable 429 with RetryAfter 1s", err)
			case !tt.wantErr && err != nil:
				t.Errorf("Items error = %v, want success", err)
			}
			if got := len(f.requests()); got != tt.wantRequests {
				t.Errorf("requests = %d, want %d", got, tt.wantRequests)
			}
		})
	}
}

// BenchmarkBreakerResume measures how long traffic takes to resume once
// ERPNext answers again: each iteration opens the breaker (ERPNext down),
// brings ERPNext back at once, and pings every millisecond until a ping
// succeeds. resume-ms is that time; with the open time at 50 ms it should
// be just above 50.
func BenchmarkBreakerResume(b *testing.B) {
	var mu sync.Mutex
	up := false
	f := newFakeERP(b, func(w http.ResponseWriter, r *http.Request, n int) {
		mu.Lock()
		u := up
		mu.Unlock()
		if !u {
			reply(w, 503, []byte(`{"exc_type":"X"}`))
			return
		}
		reply(w, 200, []byte(`{"message":"pong"}`))
	})
	setUp := func(v bool) { mu.Lock(); up = v; mu.Unlock() }
	const openFor = 50 * time.Millisecond
	policy := erp.BreakerPolicy{FailureRatio: 0.5, MinRequests: 4, Window: time.Minute, OpenFor: openFor, Probes: 1}
	c := MustClient(b, f.URL, erp.WithBreakerPolicy(policy))
	ctx := testContext(b)
	var total time.Duration
	for b.Loop() {
		setUp(false)
		for c.BreakerState() != erp.BreakerOpen {
			_ = c.Ping(ctx)
		}
		setUp(true)
		start := time.Now()
		for c.Ping(ctx) != nil {
			time.Sleep(time.Millisecond)
		}
		total += time.Since(start)
	}
	b.ReportMetric(float64(total)/float64(time.Millisecond)/float64(b.N), "resume-ms")
}
