package worker

import (
	"context"

	"github.com/erpnext-otp/otp/erp"
	"github.com/erpnext-otp/otp/promise"
	"github.com/erpnext-otp/otp/tasks"
)

// What a handler did, noted on the task's tasks.Recorder (put in the
// context by the binary's task middleware, which writes it as the task's
// asynq result and logs it with the runbook's fields). Each is one line at
// its call site; without a Recorder in ctx they do nothing.

// noteOrder records the order a promise task read.
func noteOrder(ctx context.Context, so *erp.SalesOrder) {
	tasks.RecorderFrom(ctx).Update(func(r *tasks.Result) { r.SalesOrder, r.Customer = so.Name, so.Customer })
}

// noteSkipped records that the order is not promised, and why.
func noteSkipped(ctx context.Context, order, reason string) {
	tasks.RecorderFrom(ctx).Update(func(r *tasks.Result) {
		r.Outcome, r.Reason = tasks.OutcomeSkipped, reason
		if r.SalesOrder == "" {
			r.SalesOrder = order
		}
	})
}

// notePlan records a computed promise: written to ERPNext, or unchanged.
func notePlan(ctx context.Context, plan promise.Plan, written bool) {
	tasks.RecorderFrom(ctx).Update(func(r *tasks.Result) {
		r.Outcome = tasks.OutcomeUnchanged
		if written {
			r.Outcome, r.OrdersWritten = tasks.OutcomeWritten, 1
		}
		if !plan.PromiseDate.IsZero() {
			r.PromiseDate = plan.PromiseDate.String()
		}
		r.Confidence, r.Status = string(plan.Confidence), string(plan.Status)
	})
}

// noteQueued records how many re-promises a supply or reconcile task queued.
func noteQueued(ctx context.Context, n int) {
	tasks.RecorderFrom(ctx).Update(func(r *tasks.Result) { r.OrdersQueued += n })
}
