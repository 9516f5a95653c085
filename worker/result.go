package worker

import (
	"context"

	"github.com/erpnext-otp/otp/promise"
	"github.com/erpnext-otp/otp/tasks"
)

// What a handler did, noted on the task's tasks.Recorder (put in the
// context by the binary's task middleware, which writes it as the task's
// asynq result and logs it with the runbook's fields). Each is one line at
// its call site; without a Recorder in ctx they do nothing.

// noteSkipped records that the task's order is not promised, and why.
func noteSkipped(ctx context.Context, order, reason string) {
	tasks.RecorderFrom(ctx).Update(func(r *tasks.Result) {
		r.Outcome, r.Reason = tasks.OutcomeSkipped, reason
		if r.SalesOrder == "" {
			r.SalesOrder = order
		}
	})
}

// notePlan records the promise the book gives the task's own order:
// written to ERPNext, or unchanged.
func notePlan(ctx context.Context, order, customer string, plan promise.Plan, written bool) {
	tasks.RecorderFrom(ctx).Update(func(r *tasks.Result) {
		r.SalesOrder, r.Customer = order, customer
		if r.Outcome != tasks.OutcomeWritten {
			r.Outcome = tasks.OutcomeUnchanged
		}
		if written {
			r.Outcome = tasks.OutcomeWritten
		}
		r.PromiseDate = ""
		if !plan.PromiseDate.IsZero() {
			r.PromiseDate = plan.PromiseDate.String()
		}
		r.Confidence, r.Status = string(plan.Confidence), string(plan.Status)
	})
}

// notePass records what the pass this task ran wrote, or that another
// task's pass covered its change.
func notePass(ctx context.Context, st *passStats) {
	tasks.RecorderFrom(ctx).Update(func(r *tasks.Result) {
		if st == nil {
			if r.Outcome == "" {
				r.Outcome, r.Reason = tasks.OutcomeUnchanged, "covered by the pass of the book another task is running"
			}
			return
		}
		r.OrdersWritten += st.written
	})
}
