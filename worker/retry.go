package worker

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/hibiken/asynq"

	"github.com/erpnext-otp/otp/erp"
)

// Retry delays.
const (
	retryBase   = 2 * time.Second
	retryMax    = 10 * time.Minute
	maxAttempts = 30 // 2s·2^30 overflows nothing, and is far past retryMax
)

// RetryDelay is the asynq server's RetryDelayFunc: exponential from 2 s,
// capped at 10 min, with equal jitter (half fixed, half random) so that tasks
// failed together do not retry together. A 429 or 503 that carried
// Retry-After waits at least that long.
func RetryDelay(n int, err error, _ *asynq.Task) time.Duration {
	d := retryBase << min(max(n, 0), maxAttempts)
	if d > retryMax || d <= 0 {
		d = retryMax
	}
	d = d/2 + rand.N(d/2+1)
	var e *erp.Error
	if errors.As(err, &e) && e.RetryAfter > d {
		d = e.RetryAfter + rand.N(e.RetryAfter/10+1)
	}
	return d
}

// classify decides what asynq does with a failure to talk to ERPNext:
//   - retryable (429, 5xx, transport, timeout, open breaker) and a 417
//     TimestampMismatchError (the order changed under us: read it again):
//     returned as is, so asynq retries with RetryDelay;
//   - any other ERPNext answer (404 gone, 403/401 not allowed, 417
//     validation such as the credit limit, 409, 400): wrapped with
//     asynq.SkipRetry, so the task is archived at once with ERPNext's message
//     visible in the dashboard;
//   - anything else (our context ending, Redis): retried.
func classify(err error, format string, args ...any) error {
	err = fmt.Errorf(format+": %w", append(args, err)...)
	var e *erp.Error
	switch {
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return err
	case errors.Is(err, erp.ErrTimestampMismatch), erp.IsRetryable(err):
		return err
	case errors.As(err, &e):
		return fmt.Errorf("%w: %w", err, asynq.SkipRetry)
	}
	return err
}
