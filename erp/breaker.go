package erp

import (
	"errors"
	"fmt"
	"time"

	"github.com/sony/gobreaker/v2"
)

// BreakerPolicy says when the circuit breaker opens and how it closes again
// (docs/erpnext-faults.md).
//
// Closed, it counts the requests that finished in the last Window (a
// rolling window of ten buckets) and opens when at least MinRequests of them
// finished and at least FailureRatio of those failed, or when
// ConsecutiveFailures failed in a row (0: that rule is off). Only failures
// that say ERPNext is unwell count (transport errors, timeouts, 5xx, 429).
//
// Open, it refuses every request for OpenFor, then turns half-open: it lets
// Probes requests through, closes when all of them succeed and opens again
// for OpenFor as soon as one fails. Requests beyond the probes, while they
// run, are refused as if it were open.
type BreakerPolicy struct {
	FailureRatio        float64
	MinRequests         uint32
	Window              time.Duration
	ConsecutiveFailures uint32
	OpenFor             time.Duration
	Probes              uint32
}

// DefaultBreakerPolicy is the policy of a client built without
// WithBreakerPolicy: half the requests of the last 10 s failing, at least 10
// of them, opens it for 5 s; three good probes close it. A steady 15 % fault
// share never opens it, and traffic resumes within OpenFor of ERPNext
// answering again.
func DefaultBreakerPolicy() BreakerPolicy {
	return BreakerPolicy{
		FailureRatio: 0.5,
		MinRequests:  10,
		Window:       10 * time.Second,
		OpenFor:      5 * time.Second,
		Probes:       3,
	}
}

// windowBuckets is how many buckets the rolling window is cut into: a
// failure leaves the count within a tenth of Window of turning Window old.
const windowBuckets = 10

func (p BreakerPolicy) validate() error {
	switch {
	case p.FailureRatio <= 0 || p.FailureRatio > 1:
		return fmt.Errorf("erp: breaker failure ratio %v must be in (0, 1]", p.FailureRatio)
	case p.MinRequests < 1:
		return fmt.Errorf("erp: breaker minimum requests %d must be at least 1", p.MinRequests)
	case p.Window < windowBuckets*time.Millisecond:
		return fmt.Errorf("erp: breaker window %s must be at least %s", p.Window, windowBuckets*time.Millisecond)
	case p.OpenFor <= 0:
		return fmt.Errorf("erp: breaker open time %s must be positive", p.OpenFor)
	case p.Probes < 1:
		return fmt.Errorf("erp: breaker probes %d must be at least 1", p.Probes)
	}
	return nil
}

// readyToTrip is the closed breaker's rule, given the window's counts.
// Requests still in flight are in n.Requests but not yet in the totals, so
// the ratio is taken over finished requests only.
func (p BreakerPolicy) readyToTrip(n gobreaker.Counts) bool {
	if p.ConsecutiveFailures > 0 && n.ConsecutiveFailures >= p.ConsecutiveFailures {
		return true
	}
	finished := n.TotalSuccesses + n.TotalFailures
	return finished >= p.MinRequests && float64(n.TotalFailures) >= p.FailureRatio*float64(finished)
}

// newBreaker builds the client's breaker from its policy.
func (c *Client) newBreaker() *gobreaker.TwoStepCircuitBreaker[struct{}] {
	p := c.policy
	return gobreaker.NewTwoStepCircuitBreaker[struct{}](gobreaker.Settings{
		Name:         "erpnext",
		MaxRequests:  p.Probes,
		Interval:     p.Window,
		BucketPeriod: p.Window / windowBuckets,
		Timeout:      p.OpenFor,
		ReadyToTrip:  p.readyToTrip,
		IsExcluded:   func(err error) bool { return errors.Is(err, errNotCounted) },
		OnStateChange: func(_ string, from, to gobreaker.State) {
			if to == gobreaker.StateOpen {
				c.mu.Lock()
				c.openedAt = time.Now() // gobreaker's own clock
				c.mu.Unlock()
			}
			c.logger.Warn("erp: circuit breaker changed state", "from", from.String(), "to", to.String(), "base_url", c.base)
		},
	})
}
