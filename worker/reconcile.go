package worker

import (
	"context"
	"errors"
	"fmt"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/erpnext-otp/otp/tasks"
)

// CursorKey is the Redis key holding the reconcile sweep's cursor: the
// `modified` of the last Sales Order it enqueued.
const CursorKey = "otp:reconcile:cursor"

// cursorLayout is Frappe's Datetime with microseconds, as `modified` is kept.
const cursorLayout = "2006-01-02 15:04:05.000000"

// HandleReconcile catches what lost webhooks missed (Frappe drops a
// delivery after 3 tries, erpnext-reference.md §1.4): it lists the open
// Sales Orders modified after the cursor, oldest first and at most
// ReconcileBatch, enqueues a PromiseOrder task for each, and advances the
// cursor. A task's id is that of the webhook delivery of the same save, so an
// order whose webhook did arrive is a conflict, which counts as done. The
// first sweep starts ReconcileLookback before now.
func (w *Worker) HandleReconcile(ctx context.Context, _ *asynq.Task) error {
	since, err := w.d.Redis.Get(ctx, CursorKey).Result()
	if errors.Is(err, redis.Nil) {
		since = w.d.Now().Add(-w.d.ReconcileLookback).In(w.d.Location).Format(cursorLayout)
	} else if err != nil {
		return fmt.Errorf("worker: read reconcile cursor: %w", err)
	}
	orders, err := w.d.ERP.SalesOrdersModifiedSince(ctx, since, w.d.ReconcileBatch)
	if err != nil {
		return classify(err, "worker: reconcile: list orders modified since %s", since)
	}
	queued, known := 0, 0
	cursor := since
	defer func() {
		// Advance past what was enqueued, even when a later enqueue failed.
		if cursor != since {
			if err := w.d.Redis.Set(context.WithoutCancel(ctx), CursorKey, cursor, 0).Err(); err != nil {
				w.log.ErrorContext(ctx, "worker: reconcile: cursor not saved; the next sweep repeats these orders", "err", err)
			}
		}
	}()
	for _, o := range orders {
		task, err := tasks.NewPromiseOrderTask(tasks.PromiseOrder{SalesOrder: o.Name, Modified: o.Modified, Event: "reconcile"})
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
		cursor = o.Modified
	}
	w.log.InfoContext(ctx, "reconciled", "since", since, "orders", len(orders), "queued", queued, "already_queued", known,
		"cursor", cursor, "more", len(orders) == w.d.ReconcileBatch)
	return nil
}
