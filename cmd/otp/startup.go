package main

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/erpnext-otp/otp/erp"
)

// Start-up waits for ERPNext the same way in every role (serve, work, all):
// the listeners start first, so /health answers and /ready says 503 with the
// reason; then OTP asks ERPNext whose API key it holds, until ERPNext
// answers, with a backoff that doubles from startupBackoffMin to
// startupBackoffMax (or longer when ERPNext sends Retry-After, up to the same
// cap). Each attempt is one call of the ERPNext client (its own retries
// included, each request bounded by REQUEST_TIMEOUT) and is logged with
// the variable to check. Workers start once ERPNext has answered. Nothing exits
// because ERPNext is down, rate-limiting or refusing the key: a supervisor
// restarting OTP would not fix any of these, a readiness probe shows them.
const (
	startupBackoffMin = time.Second
	startupBackoffMax = 30 * time.Second
)

// erpWait is what start-up knows about ERPNext so far, for /ready and the
// banner.
type erpWait struct {
	mu       sync.Mutex
	answered bool
	attempts int
	last     error
	// cause is the last failure that was not the circuit breaker's: an
	// open breaker says only that earlier tries failed, cause says why.
	cause error
}

func (w *erpWait) record(err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.attempts++
	w.answered, w.last = err == nil, err
	switch {
	case err == nil:
		w.cause = nil // what start-up saw no longer explains a later failure
	case !errors.Is(err, erp.ErrCircuitOpen):
		w.cause = err
	}
}

// check is what to check for err, the last failure: with the breaker
// open, what its cause calls for.
func (w *erpWait) check(err error) string {
	w.mu.Lock()
	cause := w.cause
	w.mu.Unlock()
	if errors.Is(err, erp.ErrCircuitOpen) && cause != nil {
		return erpHint(cause) + "; the circuit breaker opened after: " + cause.Error()
	}
	return erpHint(err)
}

// pending returns "" once ERPNext has answered, else why start-up is
// still waiting.
func (w *erpWait) pending() string {
	w.mu.Lock()
	answered, attempts, last := w.answered, w.attempts, w.last
	w.mu.Unlock()
	switch {
	case answered:
		return ""
	case last == nil:
		return "waiting for ERPNext: not asked yet"
	}
	return fmt.Sprintf("waiting for ERPNext (attempt %d): check %s: %v", attempts, w.check(last), last)
}

// erpHint names what to check for a failed call to ERPNext: the variable
// first, then why.
func erpHint(err error) string {
	switch {
	case errors.Is(err, erp.ErrAuth), errors.Is(err, erp.ErrPermission):
		return "ERPNEXT_API_KEY and ERPNEXT_API_SECRET (ERPNext refused them: they must be the API key and secret of OTP's API user, from its User form's API Access)"
	case errors.Is(err, erp.ErrTransport), errors.Is(err, erp.ErrTimeout), errors.Is(err, context.DeadlineExceeded):
		return "ERPNEXT_BASE_URL (nothing answered there: is it the site's URL, reachable from here? REQUEST_TIMEOUT bounds each request)"
	case errors.Is(err, erp.ErrNotFound), errors.Is(err, erp.ErrBadRequest), errors.Is(err, erp.ErrUnexpected):
		return "ERPNEXT_BASE_URL (what answers there is not a Frappe site's REST API)"
	case errors.Is(err, erp.ErrRateLimited), errors.Is(err, erp.ErrServer), errors.Is(err, erp.ErrCircuitOpen):
		return "nothing to change (ERPNext is rate-limiting or failing; OTP keeps asking)"
	}
	return "ERPNEXT_BASE_URL, ERPNEXT_API_KEY and ERPNEXT_API_SECRET"
}

// startupDelay is the wait before attempt n+1 (n ≥ 1): doubling from lo,
// at least what ERPNext asked for in Retry-After, at most hi.
func startupDelay(n int, err error, lo, hi time.Duration) time.Duration {
	d := lo
	for i := 1; i < n && d < hi; i++ {
		d *= 2
	}
	var e *erp.Error
	if errors.As(err, &e) && e.RetryAfter > d {
		d = e.RetryAfter
	}
	return min(d, hi)
}

// askERPNext makes one attempt: who is OTP's API user? The client bounds
// each request by REQUEST_TIMEOUT and retries a few times itself; one
// deadline over all of that (as start-up had) cut its retries short.
func (m *Main) askERPNext(ctx context.Context, attempt int) (string, error) {
	user, err := m.ERP.LoggedUser(ctx)
	if ctx.Err() != nil {
		return "", ctx.Err() // stopped: not ERPNext's answer
	}
	m.erpWait.record(err)
	_ = m.probe.Record(err)
	if err == nil && attempt > 1 {
		m.Logger.Info("ERPNext answered: starting", "attempt", attempt, "base_url", m.ERP.BaseURL(), "user", user)
	}
	return user, err
}

// awaitERPNext asks ERPNext once and, when it answers, starts what needs it
// (the workers). Otherwise it keeps asking in the background, logging each
// attempt, until ERPNext answers or Close stops it.
func (m *Main) awaitERPNext(ctx context.Context) error {
	user, err := m.askERPNext(ctx, 1)
	if err == nil {
		return m.erpNextReady(ctx, user)
	}
	if ctx.Err() != nil {
		return nil // stopping before anything started
	}
	lo, hi := m.startupBackoff[0], m.startupBackoff[1]
	if lo <= 0 || hi <= 0 {
		lo, hi = startupBackoffMin, startupBackoffMax
	}
	wctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	m.stopWait = func() { cancel(); <-done }
	m.warnWaiting(1, err, startupDelay(1, err, lo, hi))
	go func() { // ends when ERPNext answers or stopWait cancels it
		defer close(done)
		for n := 1; ; n++ {
			t := time.NewTimer(startupDelay(n, err, lo, hi))
			select {
			case <-wctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
			user, err = m.askERPNext(wctx, n+1)
			switch {
			case wctx.Err() != nil:
				return
			case err == nil:
				if err := m.erpNextReady(wctx, user); err != nil {
					m.fail(err)
				}
				return
			}
			m.warnWaiting(n+1, err, startupDelay(n+1, err, lo, hi))
		}
	}()
	return nil
}

func (m *Main) warnWaiting(attempt int, err error, retryIn time.Duration) {
	m.Logger.Warn("waiting for ERPNext: workers start when it answers; /ready answers 503 until then",
		"attempt", attempt, "retry_in", retryIn.String(), "check", m.erpWait.check(err), "base_url", m.ERP.BaseURL(), "err", err)
}

// erpNextReady starts what waited for ERPNext.
func (m *Main) erpNextReady(ctx context.Context, user string) error {
	if m.apiUser == "" {
		m.apiUser = user // ERPNEXT_API_USER unset
	}
	if m.Roles&roleWork != 0 {
		return m.startWorker(ctx)
	}
	return nil
}
