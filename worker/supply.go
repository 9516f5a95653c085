package worker

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/hibiken/asynq"

	"github.com/erpnext-otp/otp/tasks"
)

// HandleSupplyChanged re-promises the open orders a supply change affects: a
// Purchase Order, Purchase Receipt, Delivery Note or Stock Entry was saved.
// The items come in the payload, or else from the document (one request).
// One SalesOrdersWithItems request finds the open orders, drafts and
// submitted ones alike, with a non-drop-ship line for those items, and each
// gets a PromiseOrder task. Drafts are included although they reserve
// nothing: they are promised (sales staff quote from them), and the
// reconcile sweep would not catch them, as it only sees orders saved since
// its cursor.
//
// A storm of supply events coalesces: an order's task id is its name and the
// SupplyDebounce window the event fell in, and the task runs when that window
// closes, so every change inside the window is seen by the one run, and a
// change after it falls in the next window. asynq.ErrTaskIDConflict (already
// queued) is success.
func (w *Worker) HandleSupplyChanged(ctx context.Context, t *asynq.Task) error {
	s, err := tasks.DecodeSupplyChanged(t)
	if err != nil {
		return err
	}
	log := w.log.With("doctype", s.DocType, "name", s.Name, "event", s.Event)
	items := s.Items
	if len(items) == 0 {
		if s.DocType == "" || s.Name == "" {
			return fmt.Errorf("%w: %s: no items and no document: %w", tasks.ErrBadPayload, t.Type(), asynq.SkipRetry)
		}
		doc, err := w.d.ERP.GetDoc(ctx, s.DocType, s.Name)
		if err != nil {
			return classify(err, "worker: read %s %s", s.DocType, s.Name)
		}
		items = itemCodes(doc)
	}
	if len(items) == 0 {
		log.InfoContext(ctx, "supply change with no items: nothing to re-promise")
		return nil
	}

	orders, err := w.d.ERP.SalesOrdersWithItems(ctx, items)
	if err != nil {
		return classify(err, "worker: open orders for %s %s", s.DocType, s.Name)
	}

	window := w.d.Now().Truncate(w.d.SupplyDebounce)
	runAt := window.Add(w.d.SupplyDebounce)
	version := "supply@" + window.UTC().Format(time.RFC3339Nano)
	queued, coalesced := 0, 0
	for _, order := range orders {
		task, err := tasks.NewPromiseOrderTask(
			tasks.PromiseOrder{SalesOrder: order, Event: "supply", Trace: tasks.TraceFrom(ctx)},
			asynq.TaskID(tasks.PromiseOrderID(order, version)),
			asynq.ProcessAt(runAt),
		)
		if err != nil {
			return fmt.Errorf("worker: %w: %w", err, asynq.SkipRetry)
		}
		dup, err := w.enqueue(ctx, task)
		if err != nil {
			return fmt.Errorf("worker: re-promise %s after %s %s: %w", order, s.DocType, s.Name, err)
		}
		if dup {
			coalesced++
		} else {
			queued++
		}
	}
	log.InfoContext(ctx, "supply changed", "items", len(items), "orders", len(orders), "queued", queued, "coalesced", coalesced)
	noteQueued(ctx, queued)
	return nil
}

// enqueue enqueues t and reports whether a task with its id was already
// there, which counts as success.
func (w *Worker) enqueue(ctx context.Context, t *asynq.Task) (dup bool, err error) {
	_, err = w.d.Enqueuer.EnqueueContext(ctx, t)
	if errors.Is(err, asynq.ErrTaskIDConflict) {
		return true, nil
	}
	return false, err
}

// itemCodes are the distinct item_code values of a document's "items" rows
// (Purchase Order, Purchase Receipt, Delivery Note and Stock Entry all call
// their table that).
func itemCodes(doc map[string]any) []string {
	rows, _ := doc["items"].([]any)
	var codes []string
	for _, r := range rows {
		row, _ := r.(map[string]any)
		code, _ := row["item_code"].(string)
		if code != "" && !slices.Contains(codes, code) {
			codes = append(codes, code)
		}
	}
	return codes
}
