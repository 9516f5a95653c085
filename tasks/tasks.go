// Package tasks names OTP's background tasks and builds them: type names,
// payloads, constructors and enqueue options, shared by the server (which
// enqueues) and the worker (which handles).
package tasks

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/hibiken/asynq"
)

// Task type names, "noun:verb" as in asynq's README.
const (
	TypePromiseOrder  = "order:promise"
	TypeSupplyChanged = "supply:changed"
	TypeReconcile     = "orders:reconcile"
	TypeSettleBook    = "book:settle"
)

// Queue names. Promises for orders people just saved go first.
const (
	QueuePromise   = "promise"
	QueueSupply    = "supply"
	QueueReconcile = "reconcile"
)

// Queues is the asynq server's queue priority table.
var Queues = map[string]int{QueuePromise: 6, QueueSupply: 3, QueueReconcile: 1}

// Retention keeps a finished task's id for this long, so that Frappe's
// repeated delivery of the same save is recognised as a duplicate.
const Retention = 24 * time.Hour

// ErrBadPayload marks a payload that will never decode: the task is archived,
// not retried.
var ErrBadPayload = errors.New("tasks: bad payload")

// PromiseOrder asks for one Sales Order to be promised.
type PromiseOrder struct {
	SalesOrder string `json:"sales_order"`
	// Modified is the order's `modified` in the delivery that caused the task;
	// empty for a reconcile or supply-driven re-promise.
	Modified string `json:"modified,omitempty"`
	// Event is the webhook event or "reconcile"/"supply", for logs and the dashboard.
	Event string `json:"event,omitempty"`
	// Trace joins the task to the request that caused it (request_id,
	// traceparent); it does not enter the task id.
	Trace
}

// A promise task's retries and time limit; Versions.EnqueuePromise
// writes the same ones.
const (
	promiseMaxRetry = 10
	promiseTimeout  = 2 * time.Minute
)

// NewPromiseOrderTask builds the task for p. Its id is derived from the
// order and its modified timestamp, so one save gives one task however many
// times Frappe delivers it.
func NewPromiseOrderTask(p PromiseOrder, opts ...asynq.Option) (*asynq.Task, error) {
	if p.SalesOrder == "" {
		return nil, fmt.Errorf("%w: sales_order is required", ErrBadPayload)
	}
	body, err := json.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("tasks: encode %s: %w", TypePromiseOrder, err)
	}
	base := []asynq.Option{
		asynq.TaskID(PromiseOrderID(p.SalesOrder, p.Modified)),
		asynq.Queue(QueuePromise),
		asynq.Retention(Retention),
		asynq.MaxRetry(promiseMaxRetry),
		asynq.Timeout(promiseTimeout),
	}
	return asynq.NewTask(TypePromiseOrder, body, append(base, opts...)...), nil
}

// PromiseOrderID is the task id of one saved version of an order.
func PromiseOrderID(salesOrder, modified string) string {
	return "promise:" + digest(salesOrder, modified)
}

// DecodePromiseOrder decodes a PromiseOrder payload; a bad one is wrapped
// with asynq.SkipRetry so it is archived at once.
func DecodePromiseOrder(t *asynq.Task) (PromiseOrder, error) {
	var p PromiseOrder
	if err := json.Unmarshal(t.Payload(), &p); err != nil {
		return p, fmt.Errorf("%w: %s: %v: %w", ErrBadPayload, t.Type(), err, asynq.SkipRetry)
	}
	if p.SalesOrder == "" {
		return p, fmt.Errorf("%w: %s: sales_order is empty: %w", ErrBadPayload, t.Type(), asynq.SkipRetry)
	}
	return p, nil
}

// SupplyChanged reports that supply or demand for some items changed: a
// Purchase Order, Purchase Receipt, Delivery Note or Stock Entry was saved.
type SupplyChanged struct {
	DocType  string   `json:"doctype"`
	Name     string   `json:"name"`
	Modified string   `json:"modified,omitempty"`
	Event    string   `json:"event,omitempty"`
	Items    []string `json:"items,omitempty"`
	// Trace joins the task to the request that caused it; it does not
	// enter the task id.
	Trace
}

// NewSupplyChangedTask builds the task for s, with an id derived from the
// document and its modified timestamp.
func NewSupplyChangedTask(s SupplyChanged, opts ...asynq.Option) (*asynq.Task, error) {
	if s.DocType == "" || s.Name == "" {
		return nil, fmt.Errorf("%w: doctype and name are required", ErrBadPayload)
	}
	body, err := json.Marshal(s)
	if err != nil {
		return nil, fmt.Errorf("tasks: encode %s: %w", TypeSupplyChanged, err)
	}
	base := []asynq.Option{
		asynq.TaskID(SupplyChangedID(s)),
		asynq.Queue(QueueSupply),
		asynq.Retention(Retention),
		asynq.MaxRetry(10),
		asynq.Timeout(5 * time.Minute),
	}
	return asynq.NewTask(TypeSupplyChanged, body, append(base, opts...)...), nil
}

// SupplyChangedID is the task id NewSupplyChangedTask gives s: one per saved
// version of the document and event, so Frappe's repeated delivery of one
// save is one task. Only DocType, Name, Modified and Event enter it.
func SupplyChangedID(s SupplyChanged) string {
	return "supply:" + digest(s.DocType, s.Name, s.Modified, s.Event)
}

// DecodeSupplyChanged decodes a SupplyChanged payload.
func DecodeSupplyChanged(t *asynq.Task) (SupplyChanged, error) {
	var s SupplyChanged
	if err := json.Unmarshal(t.Payload(), &s); err != nil {
		return s, fmt.Errorf("%w: %s: %v: %w", ErrBadPayload, t.Type(), err, asynq.SkipRetry)
	}
	return s, nil
}

// Reconcile is the periodic sweep's payload: who scheduled it, so that the
// dashboard shows a readable payload rather than none.
type Reconcile struct {
	Source string `json:"source"` // "scheduler" or "manual"
}

// NewReconcileTask builds the periodic sweep that re-promises orders a lost
// webhook missed.
func NewReconcileTask(opts ...asynq.Option) *asynq.Task {
	return NewReconcileTaskFrom(Reconcile{Source: "scheduler"}, opts...)
}

// NewReconcileTaskFrom builds the sweep with the payload r.
func NewReconcileTaskFrom(r Reconcile, opts ...asynq.Option) *asynq.Task {
	body, _ := json.Marshal(r) // a struct of one string always encodes
	// Retained like the others, so that the dashboard shows its result.
	base := []asynq.Option{asynq.Queue(QueueReconcile), asynq.MaxRetry(3), asynq.Timeout(10 * time.Minute), asynq.Retention(Retention)}
	return asynq.NewTask(TypeReconcile, body, append(base, opts...)...)
}

// NewSettleBookTask builds the follow-up that runs a pass of the order
// book if changes noted in the window starting at bucket are still
// uncovered then (the worker that held the book died). One a window: its
// id is the window's.
func NewSettleBookTask(bucket time.Time, opts ...asynq.Option) *asynq.Task {
	base := []asynq.Option{
		asynq.TaskID("book:settle:" + bucket.UTC().Format(time.RFC3339)),
		asynq.Queue(QueuePromise),
		asynq.Retention(Retention),
		asynq.MaxRetry(10),
		asynq.Timeout(10 * time.Minute),
	}
	return asynq.NewTask(TypeSettleBook, []byte(`{"source":"follow-up"}`), append(base, opts...)...)
}

// digest joins parts unambiguously, as "len:part;" each, and hashes them:
// order names may hold any character, and asynq ids are Redis key parts.
// The ids must not change between releases (a redelivery after an upgrade
// is still a duplicate), so the joined bytes are fixed
// (TestDigestIsStable). Every webhook takes one: the parts are joined on
// the stack.
func digest(parts ...string) string {
	var scratch [256]byte
	b := scratch[:0]
	for _, p := range parts {
		b = strconv.AppendInt(b, int64(len(p)), 10)
		b = append(b, ':')
		b = append(b, p...)
		b = append(b, ';')
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:16])
}
