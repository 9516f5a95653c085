package worker

import (
	"context"
	"errors"
	"fmt"
	"html"
	"log/slog"

	"github.com/hibiken/asynq"

	"github.com/erpnext-otp/otp/erp"
	"github.com/erpnext-otp/otp/planner"
	"github.com/erpnext-otp/otp/promise"
	"github.com/erpnext-otp/otp/tasks"
)

// promisedAtLayout is Frappe's Datetime format.
const promisedAtLayout = "2006-01-02 15:04:05"

// HandlePromiseOrder promises one Sales Order and writes the promise back:
//
//  1. a task for an order version older than one already delivered
//     (tasks.Versions) returns at once, with no ERPNext request;
//  2. the order's lock is taken (ErrOrderLocked if another worker has it);
//  3. the order is read fresh; cancelled, closed, completed, on hold and
//     fully delivered orders are skipped (see skipReason), and so is the
//     echo of our own write-back;
//  4. the planner gathers the inputs and the engine plans;
//  5. when the plan differs from what is on the order, ONE PUT writes it,
//     and a timeline comment follows when the date or confidence changed.
//
// Because the write-back compares before writing, the webhook fired by our
// own save finds nothing to change: the loop settles after one write.
func (w *Worker) HandlePromiseOrder(ctx context.Context, t *asynq.Task) error {
	p, err := tasks.DecodePromiseOrder(t)
	if err != nil {
		return err
	}
	log := w.log.With("sales_order", p.SalesOrder, "modified", p.Modified, "event", p.Event)

	superseded, err := w.d.Versions.Superseded(ctx, p.SalesOrder, p.Modified)
	if err != nil {
		return fmt.Errorf("worker: %w", err)
	}
	if superseded {
		log.InfoContext(ctx, "superseded: a newer save of the order is queued")
		noteSkipped(ctx, p.SalesOrder, "superseded by a newer save")
		return nil
	}

	unlock, err := w.lock(ctx, p.SalesOrder)
	if err != nil {
		return err
	}
	defer unlock()

	so, err := w.d.ERP.SalesOrder(ctx, p.SalesOrder)
	if err != nil {
		return classify(err, "worker: read %s", p.SalesOrder)
	}
	noteOrder(ctx, so)
	if reason := skipReason(so); reason != "" {
		log.InfoContext(ctx, "skipped", "reason", reason)
		noteSkipped(ctx, so.Name, reason)
		return nil
	}
	if w.ownWrite(p, so) {
		log.InfoContext(ctx, "skipped", "reason", "our own write-back")
		noteSkipped(ctx, so.Name, "our own write-back")
		return nil
	}

	in, err := w.d.Planner.ForOrder(ctx, so)
	if errors.Is(err, planner.ErrNothingToPromise) {
		log.InfoContext(ctx, "skipped", "reason", "nothing left to deliver")
		noteSkipped(ctx, so.Name, "nothing left to deliver")
		return nil
	}
	if err != nil {
		return classify(err, "worker: promise %s", p.SalesOrder)
	}
	plan, err := w.d.Planner.Plan(in)
	if err != nil {
		// The engine rejects inputs it cannot plan; asking again will not
		// change them, and the next save of the order makes a new task.
		return fmt.Errorf("worker: plan %s: %w: %w", p.SalesOrder, err, asynq.SkipRetry)
	}
	return w.writeBack(ctx, log, so, in, plan)
}

// skipReason says why so is not promised, or "" when it is. Skipped:
//   - cancelled (docstatus 2): it will never ship, and cannot be written;
//   - Closed and Completed: nothing more will ship;
//   - On Hold: sales paused it and ERPNext stops reserving its stock
//     (stock_balance.py, erpnext-reference.md §3.3); a date would be one
//     nobody plans to meet. Releasing the hold changes its status through
//     db_set, which fires on_change (§1.2), and that re-promises it;
//   - per_delivered ≥ 100: everything is delivered (status "To Bill").
//
// Drafts are promised: that is when sales staff quote a date.
func skipReason(so *erp.SalesOrder) string {
	switch {
	case so.DocStatus == 2:
		return "cancelled"
	case so.Status == "Closed", so.Status == "Completed", so.Status == "On Hold":
		return "status " + so.Status
	case so.PerDelivered >= 100:
		return "fully delivered"
	}
	return ""
}

// ownWrite reports whether the task is the webhook echo of our own
// write-back: the version it was made for is the one just read, saved by
// OTP's API user (erpnext-reference.md §1.10, mitigation 2). What we wrote
// is what we would write again, and supply changes come as their own tasks.
func (w *Worker) ownWrite(p tasks.PromiseOrder, so *erp.SalesOrder) bool {
	return w.d.APIUser != "" && p.Modified != "" && so.Modified == p.Modified && so.ModifiedBy == w.d.APIUser
}

// writeBack writes plan on so when it differs from what is there.
func (w *Worker) writeBack(ctx context.Context, log *slog.Logger, so *erp.SalesOrder, in planner.Inputs, plan promise.Plan) error {
	fields, lines := changes(so, plan)
	if len(fields) == 0 && len(lines) == 0 {
		log.InfoContext(ctx, "unchanged: nothing written", "promise_date", plan.PromiseDate, "confidence", plan.Confidence)
		notePlan(ctx, plan, false)
		return nil
	}
	fields[erp.FieldPromisedAt] = w.d.Now().In(w.d.Location).Format(promisedAtLayout)
	fields[erp.FieldFingerprint] = planner.Fingerprint(in)

	if _, err := w.d.ERP.UpdateSalesOrder(ctx, so, fields, lines); err != nil {
		return classify(err, "worker: write promise on %s", so.Name)
	}
	log.InfoContext(ctx, "promised", "promise_date", plan.PromiseDate, "confidence", plan.Confidence,
		"status", plan.Status, "fields", len(fields), "lines", len(lines))
	notePlan(ctx, plan, true)

	if so.PromiseDate == plan.PromiseDate.String() && so.Confidence == string(plan.Confidence) {
		return nil
	}
	// The promise is saved; a failed comment is logged, not retried: a retry
	// would find the fields equal and write nothing, and a comment posted
	// twice is worse than one missing.
	if err := w.d.ERP.AddComment(ctx, "Sales Order", so.Name, comment(plan)); err != nil {
		log.ErrorContext(ctx, "worker: timeline comment not added", "err", err)
	}
	return nil
}

// changes returns the custom fields of so (and of its lines, by row name)
// whose values differ from plan; both are empty when nothing changed, and
// lines is nil when no line changed.
// promised_at and the fingerprint are left out of the comparison: they
// change on every computation.
func changes(so *erp.SalesOrder, plan promise.Plan) (map[string]any, map[string]map[string]any) {
	fields := map[string]any{}
	set := func(field, have, want string) {
		if have != want {
			fields[field] = nullable(want)
		}
	}
	set(erp.FieldPromiseDate, so.PromiseDate, plan.PromiseDate.String())
	set(erp.FieldConfidence, so.Confidence, string(plan.Confidence))
	set(erp.FieldPromiseStatus, so.PromiseStatus, string(plan.Status))
	set(erp.FieldExplanation, so.Explanation, plan.Explanation)
	// Set once, never overwritten: promise accuracy is measured against it.
	if so.FirstPromiseDate == "" && !plan.PromiseDate.IsZero() {
		fields[erp.FieldFirstPromiseDate] = plan.PromiseDate.String()
	}

	byID := make(map[string]promise.LinePlan, len(plan.Lines))
	for _, l := range plan.Lines {
		byID[l.LineID] = l
	}
	lines := map[string]map[string]any{}
	for _, it := range so.Items {
		lp, ok := byID[it.Name]
		if !ok {
			continue // delivered lines keep what they have
		}
		row := map[string]any{}
		if d := lp.PromiseDate.String(); it.LinePromiseDate != d {
			row[erp.FieldLinePromiseDate] = nullable(d)
		}
		if c := string(lp.Confidence); it.LineConfidence != c {
			row[erp.FieldLineConfidence] = nullable(c)
		}
		if len(row) > 0 {
			lines[it.Name] = row
		}
	}
	if len(lines) == 0 {
		lines = nil // no "items" in the PUT: the table is left alone
	}
	return fields, lines
}

// nullable sends "" as JSON null, which is how ERPNext stores an empty
// field and how it reads back (absent, so "").
func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// comment is the timeline text for a changed promise, e.g.
// "Promise: 2026-12-08 (HIGH) — 6 from stock at Stores - WH; …".
func comment(plan promise.Plan) string {
	what := plan.PromiseDate.String()
	if plan.PromiseDate.IsZero() {
		what = "none, cannot fulfill"
		if plan.Status == promise.StatusCannotPromiseReliably {
			what = "none, cannot promise reliably"
		}
	}
	text := fmt.Sprintf("Promise: %s (%s)", what, plan.Confidence)
	if plan.Explanation != "" {
		text += " — " + plan.Explanation
	}
	// Comment content is HTML in Frappe's timeline.
	return html.EscapeString(text)
}
