package worker

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/erpnext-otp/otp/tasks"
)

// CursorKey is the Redis key holding the reconcile sweep's cursor: the
// `modified` and name of the last Sales Order it passed, as
// "<modified>|<name>" (a bare "<modified>", as older versions wrote it,
// resumes at that instant's first order).
const CursorKey = "otp:reconcile:cursor"

// cursorLayout is Frappe's Datetime with microseconds, as `modified` is kept.
const cursorLayout = "2006-01-02 15:04:05.000000"

// cursor is a position in the order (modified, name) that the sweep lists in.
type cursor struct{ modified, name string }

// parseCursor reads a stored cursor. `modified` never holds "|", so the
// first one separates it from the name, which may hold anything.
func parseCursor(s string) cursor {
	m, n, _ := strings.Cut(s, "|")
	return cursor{modified: m, name: n}
}

func (c cursor) String() string { return c.modified + "|" + c.name }

// HandleReconcile catches what lost webhooks missed (Frappe drops a
// delivery after 3 tries, erpnext-reference.md §1.4): it lists the open
// Sales Orders after the cursor in (modified, name) order, at most
// ReconcileBatch, enqueues a PromiseOrder task for each, and advances the
// cursor. The cursor is a keyset, not a time alone: orders sharing one
// `modified` (one Delivery Note db_sets several orders in one transaction)
// that did not fit in a page are the next page's first rows. A task's id is
// that of the webhook delivery of the same save, so an order whose webhook
// did arrive is a conflict, which counts as done. An order whose last save
// was OTP's own write-back (modified_by is APIUser) is passed over: that
// write was computed from a fresh read of the order, so no save before it
// can have been missed, and supply changes since come as their own tasks.
// The first sweep starts ReconcileLookback before now.
func (w *Worker) HandleReconcile(ctx context.Context, _ *asynq.Task) error {
	var from cursor
	stored, err := w.d.Redis.Get(ctx, CursorKey).Result()
	switch {
	case errors.Is(err, redis.Nil):
		from.modified = w.d.Now().Add(-w.d.ReconcileLookback).In(w.d.Location).Format(cursorLayout)
	case err != nil:
		return fmt.Errorf("worker: read reconcile cursor: %w", err)
	default:
		from = parseCursor(stored)
	}
	orders, err := w.d.ERP.SalesOrdersModifiedSince(ctx, from.modified, from.name, w.d.ReconcileBatch)
	if err != nil {
		return classify(err, "worker: reconcile: list orders after %s", from)
	}
	// Saves newer than this may belong to transactions still committing:
	// the next sweep takes them (see Deps.ReconcileSettle).
	horizon := w.d.Now().Add(-w.d.ReconcileSettle).In(w.d.Location).Format(cursorLayout)
	queued, known, ours, unsettled := 0, 0, 0, 0
	at := from
	defer func() {
		// Advance past what was enqueued, even when a later enqueue failed.
		if at != from {
			if err := w.d.Redis.Set(context.WithoutCancel(ctx), CursorKey, at.String(), 0).Err(); err != nil {
				w.log.ErrorContext(ctx, "worker: reconcile: cursor not saved; the next sweep repeats these orders", "err", err)
			}
		}
	}()
	for i, o := range orders {
		if modifiedAfter(o.Modified, horizon) {
			unsettled = len(orders) - i
			break
		}
		if w.d.APIUser != "" && o.ModifiedBy == w.d.APIUser {
			ours++
			at = cursor{modified: o.Modified, name: o.Name}
			continue
		}
		task, err := tasks.NewPromiseOrderTask(tasks.PromiseOrder{SalesOrder: o.Name, Modified: o.Modified, Event: "reconcile", Trace: tasks.TraceFrom(ctx)})
		if err != nil {
			return fmt.Errorf("worker: reconcile: %w: %w", err, asynq.SkipRetry)
		}
		dup, err := w.enqueue(ctx, task)
		if err != nil {
			return fmt.Errorf("worker: reconcile: enqueue %s: %w", o.Name, err)
		}
		if dup {
			known++
		} else {
			queued++
		}
		at = cursor{modified: o.Modified, name: o.Name}
	}
	w.log.InfoContext(ctx, "reconciled", "from", from.String(), "orders", len(orders), "queued", queued, "already_queued", known, "own_writes", ours, "unsettled", unsettled,
		"cursor", at.String(), "more", len(orders) == w.d.ReconcileBatch)
	noteQueued(ctx, queued)
	return nil
}

// modifiedAfter compares a Frappe `modified` with a cursorLayout time. Both
// are "YYYY-MM-DD HH:MM:SS" plus a fraction, so they compare as text once the
// fraction is padded: Frappe drops a zero microsecond part (str(datetime)).
func modifiedAfter(modified, t string) bool {
	if len(modified) == len("2006-01-02 15:04:05") {
		modified += ".000000"
	}
	return modified > t
}
