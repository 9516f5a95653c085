package worker

import (
	"context"
	"errors"
	"log/slog"

	"github.com/erpnext-otp/otp/erp"
)

// notPromisedPrefix starts the status OTP writes on an order it
// deliberately does not promise, so that sales staff can tell "not
// promised on purpose" from "OTP never saw it".
const notPromisedPrefix = "Not promised: "

// markNotPromised handles a save of an order the book does not hold: On
// Hold, Closed, Completed, fully delivered, or with nothing left for our
// stock to ship (drop-ship only). It writes why in the status field, once,
// and clears the promise it held: the order no longer books anything, so
// the date is not one OTP would keep. The next pass that finds the order in
// the book again writes its promise and a status of OK. An order that is
// in the book after all (a pass by another task covered this save) is
// left to the book.
func (w *Worker) markNotPromised(ctx context.Context, log *slog.Logger, name string) error {
	so, err := w.d.ERP.SalesOrder(ctx, name)
	if errors.Is(err, erp.ErrNotFound) {
		return nil
	}
	if err != nil {
		return classify(err, "worker: read %s", name)
	}
	reason := skipReason(so)
	if reason == "" && !w.d.Planner.HasLines(so) {
		reason = "nothing left to ship from our stock (delivered, or drop-shipped by the supplier)"
	}
	if reason == "" || so.DocStatus == 2 {
		return nil // in the book, or cancelled: a cancelled order cannot be written
	}
	noteSkipped(ctx, so.Name, reason)
	status := notPromisedPrefix + reason
	fields := map[string]any{}
	if so.PromiseStatus != status {
		fields[erp.FieldPromiseStatus] = status
	}
	for field, have := range map[string]string{
		erp.FieldPromiseDate: so.PromiseDate, erp.FieldConfidence: so.Confidence, erp.FieldExplanation: so.Explanation,
	} {
		if have != "" {
			fields[field] = nil
		}
	}
	var lines map[string]map[string]any
	for _, it := range so.Items {
		if it.LinePromiseDate != "" || it.LineConfidence != "" {
			if lines == nil {
				lines = map[string]map[string]any{}
			}
			lines[it.Name] = map[string]any{erp.FieldLinePromiseDate: nil, erp.FieldLineConfidence: nil}
		}
	}
	if len(fields) == 0 && lines == nil {
		return nil
	}
	if err := w.writes.wait(ctx); err != nil {
		return err
	}
	updated, err := w.d.ERP.UpdateSalesOrder(ctx, so, fields, lines)
	if errors.Is(err, erp.ErrTimestampMismatch) {
		return nil // saved again meanwhile: that save's task decides
	}
	if err != nil {
		w.writes.noteLimit(err)
		return classify(err, "worker: write why %s is not promised", so.Name)
	}
	if err := w.d.Redis.Set(ctx, ownWritePrefix+so.Name, updated.Modified, ownWriteTTL).Err(); err != nil {
		log.WarnContext(ctx, "worker: own write not noted", "err", err)
	}
	log.InfoContext(ctx, "not promised", "reason", reason)
	return nil
}
