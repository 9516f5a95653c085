// Package worker holds OTP's asynq handlers: promise one order, supply
// changed, reconcile sweep; and the write-back of a promise to ERPNext.
package worker

import (
	"context"
	"log/slog"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/erpnext-otp/otp/erp"
	"github.com/erpnext-otp/otp/planner"
	"github.com/erpnext-otp/otp/tasks"
)

// ERP is the part of the ERPNext client the worker uses. It is satisfied by
// *erp.Client.
type ERP interface {
	planner.Reader
	UpdateSalesOrder(ctx context.Context, so *erp.SalesOrder, fields map[string]any, lineFields map[string]map[string]any) (*erp.SalesOrder, error)
	AddComment(ctx context.Context, doctype, name, content string) error
	SalesOrdersModifiedSince(ctx context.Context, since, afterName string, limit int) ([]erp.SalesOrderSummary, error)
	// SalesOrdersWithItems names the draft and submitted open orders with a
	// non-drop-ship line for one of the items: the orders a supply change
	// re-promises.
	SalesOrdersWithItems(ctx context.Context, items []string) ([]string, error)
	// GetDoc reads any document; the supply handler reads a changed
	// document's items with it when the webhook did not send them.
	GetDoc(ctx context.Context, doctype, name string) (map[string]any, error)
}

// Enqueuer enqueues tasks; *asynq.Client satisfies it.
type Enqueuer interface {
	EnqueueContext(ctx context.Context, t *asynq.Task, opts ...asynq.Option) (*asynq.TaskInfo, error)
}

// Defaults for the Deps fields that may be left zero.
const (
	DefaultLockTTL           = 2*time.Minute + 10*time.Second // the promise task's timeout, and a margin
	DefaultSupplyDebounce    = 15 * time.Second
	DefaultReconcileBatch    = 200
	DefaultReconcileLookback = 24 * time.Hour
	DefaultReconcileSettle   = 2 * time.Minute
)

// Deps are the worker's dependencies and settings.
type Deps struct {
	ERP      ERP
	Planner  *planner.Planner
	Versions *tasks.Versions
	Enqueuer Enqueuer
	Redis    redis.UniversalClient // per-order locks and the reconcile cursor
	// APIUser is the ERPNext user OTP writes as (a dedicated user,
	// DESIGN.md §4): a delivery of a save by this user, of the version just
	// read, is the echo of our own write-back and is not promised again.
	APIUser  string
	Logger   *slog.Logger
	Now      func() time.Time
	Location *time.Location // ERPNext's timezone, for promised_at and the first reconcile cursor

	// LockTTL bounds how long a crashed worker can hold an order's lock.
	LockTTL time.Duration
	// SupplyDebounce is the window in which supply changes for one order
	// coalesce into one re-promise, run when the window closes.
	SupplyDebounce time.Duration
	// ReconcileBatch is the most orders one sweep enqueues.
	ReconcileBatch int
	// ReconcileLookback is where the first sweep starts, before now.
	ReconcileLookback time.Duration
	// ReconcileSettle is how old a save must be before the sweep passes it.
	// Frappe stamps `modified` when the save starts and commits when it
	// ends, so a save stamped just before the cursor can become visible
	// after the cursor moved on; staying this far behind now lets every
	// transaction that was running commit first.
	ReconcileSettle time.Duration
}

// Worker handles OTP's tasks.
type Worker struct {
	d   Deps
	log *slog.Logger
}

// New returns a Worker; zero settings in d get their defaults.
func New(d Deps) *Worker {
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Location == nil {
		d.Location = time.UTC
	}
	if d.LockTTL <= 0 {
		d.LockTTL = DefaultLockTTL
	}
	if d.SupplyDebounce <= 0 {
		d.SupplyDebounce = DefaultSupplyDebounce
	}
	if d.ReconcileBatch <= 0 {
		d.ReconcileBatch = DefaultReconcileBatch
	}
	if d.ReconcileLookback <= 0 {
		d.ReconcileLookback = DefaultReconcileLookback
	}
	if d.ReconcileSettle <= 0 {
		d.ReconcileSettle = DefaultReconcileSettle
	}
	return &Worker{d: d, log: d.Logger}
}

// Register routes OTP's task types to w's handlers.
func (w *Worker) Register(mux *asynq.ServeMux) {
	mux.HandleFunc(tasks.TypePromiseOrder, w.HandlePromiseOrder)
	mux.HandleFunc(tasks.TypeSupplyChanged, w.HandleSupplyChanged)
	mux.HandleFunc(tasks.TypeReconcile, w.HandleReconcile)
}
