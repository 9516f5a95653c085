package erp

import (
	"context"
	"errors"
	"sync"
	"time"
)

// Probe asks ERPNext, on a timer, whether it answers and accepts OTP's API
// key, so that health, readiness and erpnext_connection_status tell the
// truth without a caller (docs/operations.md, "Probes"). Its checks go
// through the client, so an open circuit breaker answers them without a
// request to ERPNext; the last real error is kept meanwhile.
type Probe struct {
	check   func(ctx context.Context) error
	timeout time.Duration
	now     func() time.Time

	mu     sync.Mutex
	status ProbeStatus
}

// ProbeStatus is what the last check found.
type ProbeStatus struct {
	Connected bool
	// CheckedAt is when the last check ended; zero before the first.
	CheckedAt time.Time
	// LastError is the last failure's message, kept after ERPNext recovers
	// and while the breaker is open; LastErrorAt is when it happened.
	LastError   string
	LastErrorAt time.Time
	// Err is that failure itself, for a hint at what to fix.
	Err error
	// Failures counts consecutive failed checks.
	Failures int
}

// NewProbe returns a probe that runs check (for example a *Client's
// LoggedUser) bounded by timeout, on the clock now (time.Now when nil).
func NewProbe(check func(ctx context.Context) error, timeout time.Duration, now func() time.Time) *Probe {
	if now == nil {
		now = time.Now
	}
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	return &Probe{check: check, timeout: timeout, now: now}
}

// ClientProbe probes c with LoggedUser: it fails when ERPNext is down and
// when it refuses the API key.
func ClientProbe(c *Client, timeout time.Duration, now func() time.Time) *Probe {
	return NewProbe(func(ctx context.Context) error {
		_, err := c.LoggedUser(ctx)
		return err
	}, timeout, now)
}

// Check asks ERPNext once and records the answer.
func (p *Probe) Check(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	return p.Record(p.check(ctx))
}

// Record records the answer to a check made elsewhere (start-up asks
// ERPNext itself, and /ready must not wait for the next probe to know).
func (p *Probe) Record(err error) error {
	at := p.now()
	p.mu.Lock()
	defer p.mu.Unlock()
	p.status.CheckedAt, p.status.Connected = at, err == nil
	if err == nil {
		p.status.Failures = 0
		return nil
	}
	p.status.Failures++
	if !errors.Is(err, ErrCircuitOpen) || p.status.LastError == "" {
		p.status.LastError, p.status.LastErrorAt, p.status.Err = err.Error(), at, err
	}
	return err
}

// Status returns what the last check found.
func (p *Probe) Status() ProbeStatus {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.status
}
