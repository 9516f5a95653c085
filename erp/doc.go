// Package erp is OTP's client for the ERPNext (Frappe v15) REST API: typed
// reads and writes, error types, retries, a circuit breaker and timeouts.
//
// Every read is ONE HTTP request however many items it covers (Frappe "in"
// filters, limit_page_length=0, child columns read from the parent side),
// so the round trips of a promise do not grow with its lines. Reads are
// retried with exponential backoff and jitter on rate limiting, 5xx,
// transport errors and timeouts; writes are sent once and left to the
// caller's queue to retry; a read waits for Retry-After only within a
// budget (WithRetryAfterMax). A circuit breaker counts only failures that
// say ERPNext is unwell (transport, timeout, 5xx, 429), never a 404 or a
// 417; it opens on a failure ratio over a rolling window and closes after
// a few good probes (BreakerPolicy, docs/erpnext-faults.md).
//
// Failures are *Error values, matched with errors.Is against the sentinels
// (ErrNotFound, ErrValidation, ErrTimestampMismatch, ...) or with errors.As;
// IsRetryable tells a queue whether to try again. The caller's own context
// ending is returned as ctx.Err(), wrapped.
//
// Usage:
//
//	c, err := erp.New("https://erp.example.com", key, secret,
//		erp.WithTimeout(15*time.Second), erp.WithLogger(logger))
//	if err != nil {
//		return err
//	}
//	so, err := c.SalesOrder(ctx, "SAL-ORD-2025-00042")
//	if errors.Is(err, erp.ErrNotFound) {
//		return nil // deleted since the webhook fired
//	}
//	if err != nil {
//		return err
//	}
//	bins, err := c.Bins(ctx, []string{"WIDGET-01", "GADGET-02"}, nil)
//	// ...
//	_, err = c.UpdateSalesOrder(ctx, so,
//		map[string]any{erp.FieldPromiseDate: "2025-03-18", erp.FieldConfidence: "HIGH"},
//		map[string]map[string]any{so.Items[0].Name: {erp.FieldLinePromiseDate: "2025-03-18"}})
//	if erp.IsRetryable(err) {
//		// let the queue retry later
//	}
package erp
