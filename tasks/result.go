package tasks

import (
	"context"
	"encoding/json"
	"sync"
)

// Task outcomes, as a Result reports them.
const (
	OutcomeWritten   = "written"   // a promise was written to ERPNext
	OutcomeUnchanged = "unchanged" // computed, equal to what the order has: nothing written
	OutcomeSkipped   = "skipped"   // not promised; Reason says why
	OutcomeFailed    = "failed"    // the handler returned an error; Error says which
	OutcomeDone      = "done"      // a supply or reconcile task that ran to its end
)

// Result is what a task did, written as JSON through asynq's ResultWriter
// so that the dashboard shows it (asynqmon renders JSON results as text).
type Result struct {
	Outcome     string `json:"outcome"`
	Reason      string `json:"reason,omitempty"`
	Error       string `json:"error,omitempty"`
	SalesOrder  string `json:"sales_order,omitempty"`
	Customer    string `json:"customer,omitempty"`
	PromiseDate string `json:"promise_date,omitempty"`
	Confidence  string `json:"confidence,omitempty"`
	Status      string `json:"status,omitempty"`
	// OrdersWritten counts Sales Orders written (a promise task: 0 or 1);
	// OrdersQueued the re-promises a supply or reconcile task queued.
	OrdersWritten   int     `json:"orders_written"`
	OrdersQueued    int     `json:"orders_queued,omitempty"`
	ERPNextRequests int     `json:"erpnext_requests"`
	DurationMS      float64 `json:"duration_ms"`
	RequestID       string  `json:"request_id,omitempty"`
}

// Recorder collects a task's Result while its handler runs. Its methods
// are safe on a nil *Recorder (a handler run without one, in tests).
type Recorder struct {
	mu sync.Mutex
	r  Result
}

type recorderKey struct{}

// WithRecorder returns ctx carrying a new Recorder.
func WithRecorder(ctx context.Context) (context.Context, *Recorder) {
	rec := &Recorder{}
	return context.WithValue(ctx, recorderKey{}, rec), rec
}

// RecorderFrom returns ctx's Recorder, or nil.
func RecorderFrom(ctx context.Context) *Recorder {
	rec, _ := ctx.Value(recorderKey{}).(*Recorder)
	return rec
}

// Update changes the Result under the recorder's lock.
func (rec *Recorder) Update(f func(*Result)) {
	if rec == nil {
		return
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	f(&rec.r)
}

// CountERPNextRequest counts one HTTP request to ERPNext made for the task.
func (rec *Recorder) CountERPNextRequest() {
	rec.Update(func(r *Result) { r.ERPNextRequests++ })
}

// Result returns a copy of what was recorded.
func (rec *Recorder) Result() Result {
	if rec == nil {
		return Result{}
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return rec.r
}

// DecodeResult decodes a task's result as the dashboard API returns it.
func DecodeResult(b []byte) (Result, error) {
	var r Result
	err := json.Unmarshal(b, &r)
	return r, err
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }
