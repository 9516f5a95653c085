package worker

import (
	"context"
	"fmt"
	"html"

	"github.com/hibiken/asynq"

	"github.com/erpnext-otp/otp/erp"
	"github.com/erpnext-otp/otp/planner"
	"github.com/erpnext-otp/otp/promise"
	"github.com/erpnext-otp/otp/tasks"
)

// promisedAtLayout is Frappe's Datetime format.
const promisedAtLayout = "2006-01-02 15:04:05"

// HandlePromiseOrder handles a saved Sales Order: a save may change the
// book (its own promise, and those of the orders behind it), so it
// re-allocates the book and writes back every order whose promise changed.
//
//  1. a task for an order version older than one already delivered
//     (tasks.Versions) returns at once, with no ERPNext request;
//  2. so does the webhook fired by OTP's own write-back: the `modified` it
//     carries is the one that write produced;
//  3. otherwise the book is re-allocated (see reallocate): a burst of saves
//     coalesces into a few passes.
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
	if p.Modified != "" {
		ours, err := w.ownMark(ctx, p.SalesOrder)
		if err != nil {
			return fmt.Errorf("worker: %w", err)
		}
		if ours == p.Modified {
			log.InfoContext(ctx, "skipped", "reason", "our own write-back")
			noteSkipped(ctx, p.SalesOrder, "our own write-back")
			return nil
		}
	}
	if p.Modified != "" {
		// Before the change is noted: a pass that starts after it skips
		// the order's older version without asking ERPNext (savedSince).
		if err := w.noteSaved(ctx, p.SalesOrder, p.Modified); err != nil {
			log.WarnContext(ctx, "worker: save not noted; a pass reads the order to find it changed", "err", err)
		}
	}
	return w.reallocate(ctx, log, p.SalesOrder)
}

// skipReason says, for a sales person, why so is not promised, or "" when
// it is. Not promised:
//   - cancelled (docstatus 2): it will never ship, and cannot be written;
//   - Closed and Completed: nothing more will ship;
//   - On Hold: sales paused it and ERPNext stops reserving its stock
//     (stock_balance.py, docs/erpnext.md); a date would be one
//     nobody plans to meet. Releasing the hold changes its status through
//     db_set, which fires on_change (docs/erpnext.md), and that re-promises it;
//   - per_delivered ≥ 100: everything is delivered (status "To Bill").
//
// Drafts are promised: that is when sales staff quote a date.
func skipReason(so *erp.SalesOrder) string {
	switch {
	case so.DocStatus == 2:
		return "order is cancelled"
	case !erp.SalesOrderOpen(so.Status):
		return "order is " + so.Status
	case so.PerDelivered >= 100:
		return "fully delivered"
	}
	return ""
}

// current is what OTP's fields on an order hold now, read either from the
// order itself or from the order book's listing.
type current struct {
	promiseDate, confidence, status, explanation, firstPromiseDate string
	lines                                                          map[string]planner.WrittenLine // by row name
}

func orderView(so *erp.SalesOrder) current { return writtenView(writtenOf(so)) }

func writtenView(w planner.Written) current {
	return current{promiseDate: w.PromiseDate, confidence: w.Confidence, status: w.Status,
		explanation: w.Explanation, firstPromiseDate: w.FirstPromiseDate, lines: w.Lines}
}

// changes returns the custom fields of the order (and of its lines, by row
// name) whose values differ from plan; both are empty when nothing changed,
// and lines is nil when no line changed. promised_at and the fingerprint
// are left out of the comparison: they change on every computation.
func changes(cur current, plan promise.Plan) (map[string]any, map[string]map[string]any) {
	fields := map[string]any{}
	set := func(field, have, want string) {
		if have != want {
			fields[field] = nullable(want)
		}
	}
	set(erp.FieldPromiseDate, cur.promiseDate, plan.PromiseDate.String())
	set(erp.FieldConfidence, cur.confidence, string(plan.Confidence))
	set(erp.FieldPromiseStatus, cur.status, string(plan.Status))
	set(erp.FieldExplanation, cur.explanation, plan.Explanation)
	// Set once, never overwritten: promise accuracy is measured against it.
	if cur.firstPromiseDate == "" && !plan.PromiseDate.IsZero() {
		fields[erp.FieldFirstPromiseDate] = plan.PromiseDate.String()
	}

	lines := map[string]map[string]any{}
	for _, lp := range plan.Lines {
		have, ok := cur.lines[lp.LineID]
		if !ok {
			continue // a row the order no longer has
		}
		row := map[string]any{}
		if d := lp.PromiseDate.String(); have.PromiseDate != d {
			row[erp.FieldLinePromiseDate] = nullable(d)
		}
		if c := string(lp.Confidence); have.Confidence != c {
			row[erp.FieldLineConfidence] = nullable(c)
		}
		if len(row) > 0 {
			lines[lp.LineID] = row
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
