package worker

import (
	"context"
	"errors"

	"github.com/hibiken/asynq"

	"github.com/erpnext-otp/otp/erp"
)

// HandleReconcile is the periodic sweep: it re-allocates the whole book,
// which also catches what lost webhooks missed (Frappe drops a delivery
// after 3 tries, docs/erpnext.md): the pass brings the book up to date
// with every order modified since it was last read, and reads it whole
// once it is OTP_RECONCILE_INTERVAL old (planner.Books). When ERPNext
// cannot be reached the sweep is skipped with a warning instead of being
// retried into the archive: the next one catches up.
func (w *Worker) HandleReconcile(ctx context.Context, _ *asynq.Task) error {
	log := w.log.With("event", "reconcile")
	err := w.reallocate(ctx, log, "")
	if err != nil && erp.IsRetryable(err) && !errors.Is(err, context.Canceled) {
		log.WarnContext(ctx, "reconcile skipped: ERPNext unavailable; the next sweep catches up", "err", err)
		return nil
	}
	return err
}
