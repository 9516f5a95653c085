package worker

import (
	"context"

	"github.com/hibiken/asynq"

	"github.com/erpnext-otp/otp/tasks"
)

// HandleSupplyChanged re-allocates the book after a supply change: a
// Purchase Order, Purchase Receipt, Delivery Note or Stock Entry was saved.
// Every open order is re-planned, drafts included, and only those whose
// promise moved are written; a storm of supply events coalesces into a few
// passes (see reallocate).
func (w *Worker) HandleSupplyChanged(ctx context.Context, t *asynq.Task) error {
	s, err := tasks.DecodeSupplyChanged(t)
	if err != nil {
		return err
	}
	return w.reallocate(ctx, w.log.With("doctype", s.DocType, "name", s.Name, "event", s.Event), "")
}
