// Package worker holds OTP's asynq handlers: every event that may change the
// order book (an order saved, supply changed, the periodic sweep)
// re-allocates the book, and the worker writes back the orders whose
// promise changed.
package worker

import (
	"context"
	"log/slog"
	"sync/atomic"
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
	LastComment(ctx context.Context, doctype, name, owner string) (*erp.Comment, error)
	LoggedUser(ctx context.Context) (string, error)
}

// Enqueuer enqueues tasks; *asynq.Client satisfies it.
type Enqueuer interface {
	EnqueueContext(ctx context.Context, t *asynq.Task, opts ...asynq.Option) (*asynq.TaskInfo, error)
}

// Defaults for the Deps fields that may be left zero.
const (
	// DefaultLockTTL is how long the book's lock (and the write stage's)
	// lives unless renewed (every third of it, while a pass runs). It is how long a worker
	// killed mid-pass holds up every other pass: 30 s kept the book stale
	// that long after a kill -9; 10 s leaves a renewal two tries to get
	// through a Redis blip.
	DefaultLockTTL          = 10 * time.Second
	DefaultWriteRate        = 20 // writes per second toward ERPNext
	DefaultWriteConcurrency = 4
	DefaultPassGather       = 10 * time.Millisecond
	DefaultPassBudget       = 30 * time.Second
)

// Deps are the worker's dependencies and settings.
type Deps struct {
	ERP      ERP
	Planner  *planner.Planner
	Versions *tasks.Versions
	Redis    redis.UniversalClient // the book's lock and generations, own-write marks
	// Enqueuer schedules the follow-up pass that covers a change should
	// the worker running the book's pass die; nil schedules none.
	Enqueuer Enqueuer
	Logger   *slog.Logger
	Now      func() time.Time
	Location *time.Location // ERPNext's timezone, for promised_at
	// APIUser is OTP's own API user, the owner of its timeline comments;
	// when empty the worker asks ERPNext once.
	APIUser string

	// LockTTL bounds how long a crashed worker can hold the book's lock
	// or the write stage's (a live one renews them).
	LockTTL time.Duration
	// WriteRate is the most orders a second a worker process writes back
	// (one PUT each, its comment and fresh read not counted), and
	// WriteConcurrency how many it writes at once.
	WriteRate        float64
	WriteConcurrency int
	// PassGather is how long a pass waits, once it holds the book, for the
	// rest of a burst of changes; PassBudget how long one task runs passes
	// while changes keep coming before it hands on to a task of its own
	// (promise tasks time out after two minutes).
	PassGather time.Duration
	PassBudget time.Duration
}

// Worker handles OTP's tasks.
type Worker struct {
	d      Deps
	log    *slog.Logger
	writes *writeGate
	user   userCache
	// noMarker is set once a write shows the site has no erp.FieldCommented.
	noMarker atomic.Bool
	// noCommentRead is set once ERPNext refuses OTP a read of Comments.
	noCommentRead atomic.Bool
	// stage is this worker's write stage (writeStage); own what its last
	// pass wrote there.
	stage chan struct{}
	own   ownWrites
	// unwritten counts the jobs of the pass in the write stage not yet
	// written (awaitWriteTail).
	unwritten atomic.Int64
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
	if d.WriteRate <= 0 {
		d.WriteRate = DefaultWriteRate
	}
	if d.WriteConcurrency <= 0 {
		d.WriteConcurrency = DefaultWriteConcurrency
	}
	if d.PassGather <= 0 {
		d.PassGather = DefaultPassGather
	}
	if d.PassBudget <= 0 {
		d.PassBudget = DefaultPassBudget
	}
	return &Worker{d: d, log: d.Logger, writes: newWriteGate(d.WriteRate), user: userCache{name: d.APIUser}, stage: make(chan struct{}, 1)}
}

// Register routes OTP's task types to w's handlers.
func (w *Worker) Register(mux *asynq.ServeMux) {
	mux.HandleFunc(tasks.TypePromiseOrder, w.HandlePromiseOrder)
	mux.HandleFunc(tasks.TypeSupplyChanged, w.HandleSupplyChanged)
	mux.HandleFunc(tasks.TypeReconcile, w.HandleReconcile)
	mux.HandleFunc(tasks.TypeSettleBook, w.HandleSettleBook)
}
