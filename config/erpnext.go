package config

import (
	"time"

	"github.com/erpnext-otp/otp/erp"
)

// validateERPNextFaults checks the breaker and Retry-After variables.
func (c *Config) validateERPNextFaults(bad func(v, format string, args ...any)) {
	if r := c.BreakerFailureRatio; r <= 0 || r > 1 {
		bad("OTP_ERPNEXT_BREAKER_FAILURE_RATIO", "must be a share above 0 and at most 1, got %v", r)
	}
	for _, n := range []struct {
		v   string
		val int
	}{
		{"OTP_ERPNEXT_BREAKER_MIN_REQUESTS", c.BreakerMinRequests},
		{"OTP_ERPNEXT_BREAKER_PROBES", c.BreakerProbes},
	} {
		if n.val < 1 {
			bad(n.v, "must be at least 1, got %d", n.val)
		}
	}
	if c.BreakerWindow < time.Second {
		bad("OTP_ERPNEXT_BREAKER_WINDOW", "must be at least 1s, got %v", c.BreakerWindow)
	}
	if c.BreakerOpen <= 0 {
		bad("OTP_ERPNEXT_BREAKER_OPEN", "must be positive, got %v", c.BreakerOpen)
	}
	if c.RetryAfterMax < 0 {
		bad("OTP_ERPNEXT_RETRY_AFTER_MAX", "must not be negative, got %v", c.RetryAfterMax)
	}
}

// BreakerPolicy returns the OTP_ERPNEXT_BREAKER_* variables as the ERPNext
// client's breaker policy.
func (c Config) BreakerPolicy() erp.BreakerPolicy {
	return erp.BreakerPolicy{
		FailureRatio: c.BreakerFailureRatio,
		MinRequests:  uint32(max(c.BreakerMinRequests, 0)),
		Window:       c.BreakerWindow,
		OpenFor:      c.BreakerOpen,
		Probes:       uint32(max(c.BreakerProbes, 0)),
	}
}
