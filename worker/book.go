package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
	"golang.org/x/sync/errgroup"
	"golang.org/x/time/rate"

	"github.com/erpnext-otp/otp/erp"
	"github.com/erpnext-otp/otp/planner"
	"github.com/erpnext-otp/otp/promise"
)

// Redis keys of the order book's passes. Every event that may change the
// book increments GenKey; a pass notes the generation it started at, and
// when it ends DoneKey holds the newest generation a finished pass covers.
// An event whose generation is covered needs no pass of its own: that is
// how a burst of saves coalesces into a few passes.
const (
	GenKey      = "otp:book:gen"
	DoneKey     = "otp:book:done"
	bookLockKey = "otp:lock:book"
	// ownWritePrefix + order name holds the `modified` of OTP's last write
	// to the order: the webhook that write fires is recognised with no
	// ERPNext request.
	ownWritePrefix = "otp:written:"
	ownWriteTTL    = time.Hour
)

// setMaxScript raises KEYS[1] to ARGV[1], never lowers it.
var setMaxScript = redis.NewScript(`
local cur = tonumber(redis.call('GET', KEYS[1]) or '0')
if tonumber(ARGV[1]) > cur then redis.call('SET', KEYS[1], ARGV[1]) end
return 0`)

// passStats is what one pass of the book did.
type passStats struct {
	orders, written, unchanged, skipped, failed int
}

// reallocate makes sure the book is re-allocated after an event: it takes
// a generation, and returns once a pass that started at or after it has
// finished, running that pass itself when no other worker is. Passes never
// overlap (one lock for the book), and each reads the whole book afresh, so
// whichever worker runs it, the result is the same.
// focus is the order whose save the task carries ("" for the sweep and
// supply changes): its promise goes into the task's result.
func (w *Worker) reallocate(ctx context.Context, log *slog.Logger, focus string) error {
	gen, err := w.d.Redis.Incr(ctx, GenKey).Result()
	if err != nil {
		return fmt.Errorf("worker: note the change: %w", err)
	}
	for {
		done, err := w.d.Redis.Get(ctx, DoneKey).Int64()
		if err != nil && !errors.Is(err, redis.Nil) {
			return fmt.Errorf("worker: read the book's last pass: %w", err)
		}
		if done >= gen {
			notePass(ctx, nil)
			return nil // a pass that started after this change has finished
		}
		l, err := w.tryLock(ctx, bookLockKey)
		if err != nil {
			return err
		}
		if l == nil {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(w.d.PassPoll):
			}
			continue
		}
		// Let the rest of a burst note its changes first: one pass covers them all.
		select {
		case <-ctx.Done():
			l.release()
			return ctx.Err()
		case <-time.After(w.d.PassGather):
		}
		start, err := w.d.Redis.Get(ctx, GenKey).Int64()
		if err != nil {
			l.release()
			return fmt.Errorf("worker: read the book's generation: %w", err)
		}
		t0 := w.d.Now()
		st, err := w.pass(ctx, log, l, focus)
		notePass(ctx, &st)
		if err == nil {
			err = setMaxScript.Run(context.WithoutCancel(ctx), w.d.Redis, []string{DoneKey}, strconv.FormatInt(start, 10)).Err()
		}
		l.release()
		log.InfoContext(ctx, "book allocated", "generation", start, "orders", st.orders, "written", st.written,
			"unchanged", st.unchanged, "skipped", st.skipped, "failed", st.failed,
			"duration_ms", w.d.Now().Sub(t0).Milliseconds(), "err", err)
		if err != nil {
			return err
		}
	}
}

// pass allocates every company's book and writes back exactly the orders
// whose promise differs from what they hold, or whose promise is not yet
// on their timeline (see needsComment).
func (w *Worker) pass(ctx context.Context, log *slog.Logger, l *lock, focus string) (passStats, error) {
	var st passStats
	books, err := w.d.Planner.Books(ctx)
	if errors.Is(err, erp.ErrPermission) {
		return st, fmt.Errorf("worker: read the order book: %w: %w", err, asynq.SkipRetry)
	}
	if err != nil {
		return st, classify(err, "worker: read the order book")
	}
	l.keep(ctx)
	var jobs []writeJob
	for _, bk := range books {
		a, err := w.d.Planner.Allocate(bk.Inputs)
		if err != nil {
			return st, fmt.Errorf("worker: allocate the book of %q: %w: %w", bk.Company, err, asynq.SkipRetry)
		}
		var fingerprint string
		for _, name := range a.Names() {
			st.orders++
			plan, err := a.Plan(name)
			if err != nil {
				// The order's own data cannot be promised; the rest of the book can.
				log.WarnContext(ctx, "order not promised", "sales_order", name, "err", err)
				st.skipped++
				continue
			}
			fields, lines := changes(writtenView(bk.Written[name]), plan)
			if name == focus {
				notePlan(ctx, name, bk.Written[name].Customer, plan, false)
			}
			if len(fields) == 0 && len(lines) == 0 && !w.needsComment(bk.Written[name].Commented, plan) {
				st.unchanged++
				continue
			}
			if fingerprint == "" {
				fingerprint = planner.Fingerprint(bk.Inputs)
			}
			jobs = append(jobs, writeJob{name: name, modified: bk.Written[name].Modified, plan: plan, fingerprint: fingerprint,
				focus: name == focus})
		}
	}
	return st, w.writeAll(ctx, log, l, jobs, &st)
}

// writeJob is one order whose promise changed.
type writeJob struct {
	name, modified string // modified as the book read it
	plan           promise.Plan
	fingerprint    string
	focus          bool // the task's own order
}

// writeAll writes the jobs, a few at a time and no faster than the write
// rate. A retryable failure of one order does not stop the others; the pass
// then fails so the task is retried, and the retry writes only what is
// still different.
func (w *Worker) writeAll(ctx context.Context, log *slog.Logger, l *lock, jobs []writeJob, st *passStats) error {
	var (
		mu       sync.Mutex
		firstErr error
	)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(w.d.WriteConcurrency)
	for _, j := range jobs {
		g.Go(func() error {
			outcome, err := w.writeOne(gctx, log.With("sales_order", j.name), l, j)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err != nil:
				st.failed++
				log.WarnContext(ctx, "promise not written", "sales_order", j.name, "err", err)
				if firstErr == nil {
					firstErr = err
				}
			case outcome == outcomeWritten:
				st.written++
			case outcome == outcomeUnchanged:
				st.unchanged++
			default:
				st.skipped++
			}
			l.keep(gctx)
			return nil
		})
	}
	_ = g.Wait() // the jobs report through firstErr
	return firstErr
}

type writeOutcome int

const (
	outcomeWritten writeOutcome = iota
	outcomeUnchanged
	outcomeSkipped
)

// writeOne reads the order fresh and brings it to its plan: first the
// timeline comment when the order's marker says the plan's promise was
// not commented (ensureComment posts it only when OTP's last comment
// states another promise), then the fields and the marker in one PUT with
// `modified`, so a save by someone in between is never overwritten (417:
// that save's webhook re-allocates). The comment goes first: a marker is
// never written for a comment that is not there. An order changed, closed
// or gone since the book was read is left to the pass its change caused.
// A 429, 5xx, timeout or open breaker on any step fails the job with a
// retryable error; the retry redoes only what is still missing.
func (w *Worker) writeOne(ctx context.Context, log *slog.Logger, l *lock, j writeJob) (writeOutcome, error) {
	if err := w.writes.wait(ctx); err != nil {
		return outcomeSkipped, err
	}
	so, err := w.d.ERP.SalesOrder(ctx, j.name)
	if errors.Is(err, erp.ErrNotFound) {
		return outcomeSkipped, nil
	}
	if err != nil {
		w.writes.noteLimit(err)
		return outcomeSkipped, classify(err, "worker: read %s", j.name)
	}
	if reason := skipReason(so); reason != "" || so.Modified != j.modified {
		log.InfoContext(ctx, "skipped", "reason", cmpOr(reason, "saved since the book was read"))
		return outcomeSkipped, nil
	}
	plan := j.plan
	fields, lines := changes(orderView(so), plan)
	key := commentKey(plan)
	needComment := w.needsComment(so.Commented, plan)
	if len(fields) == 0 && len(lines) == 0 && !needComment {
		return outcomeUnchanged, nil
	}
	if len(fields) > 0 || len(lines) > 0 {
		// The promise itself changed, not only its comment's marker.
		fields[erp.FieldPromisedAt] = w.d.Now().In(w.d.Location).Format(promisedAtLayout)
		fields[erp.FieldFingerprint] = j.fingerprint
	}
	posted := false
	if so.Commented != key { // always so without the marker field: the last comment tells
		if posted, err = w.ensureComment(ctx, log, l, so.Name, plan); err != nil {
			return outcomeSkipped, err
		}
		fields[erp.FieldCommented] = key
	}
	fields["modified"] = so.Modified
	if err := w.writes.wait(ctx); err != nil {
		return outcomeSkipped, err
	}
	updated, err := w.d.ERP.UpdateSalesOrder(ctx, so, fields, lines)
	if errors.Is(err, erp.ErrTimestampMismatch) {
		log.InfoContext(ctx, "skipped", "reason", "saved while it was being written")
		return outcomeSkipped, nil
	}
	if err != nil {
		w.writes.noteLimit(err)
		return outcomeSkipped, classify(err, "worker: write promise on %s", so.Name)
	}
	if _, ok := fields[erp.FieldCommented]; ok && updated.Commented != key && !w.noMarker.Swap(true) {
		log.ErrorContext(ctx, "worker: Sales Order has no "+erp.FieldCommented+": run `otp migrate up`; until then a comment lost to a fault is not posted again")
	}
	if err := w.d.Redis.Set(ctx, ownWritePrefix+so.Name, updated.Modified, ownWriteTTL).Err(); err != nil {
		log.WarnContext(ctx, "worker: own write not noted; its webhook runs a pass that writes nothing", "err", err)
	}
	if j.focus {
		notePlan(ctx, so.Name, so.Customer, plan, true)
	}
	log.InfoContext(ctx, "promised", "promise_date", plan.PromiseDate, "confidence", plan.Confidence,
		"status", plan.Status, "fields", len(fields), "lines", len(lines), "commented", posted)
	return outcomeWritten, nil
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// writeGate paces writes toward ERPNext: a token bucket at the configured
// rate, and a pause for everyone when ERPNext answers 429 with Retry-After.
type writeGate struct {
	limiter *rate.Limiter
	now     func() time.Time

	mu        sync.Mutex
	notBefore time.Time
}

func newWriteGate(perSecond float64, now func() time.Time) *writeGate {
	return &writeGate{limiter: rate.NewLimiter(rate.Limit(perSecond), max(1, int(perSecond))), now: now}
}

// wait blocks until a request may go: after any 429 pause, and within the rate.
func (g *writeGate) wait(ctx context.Context) error {
	g.mu.Lock()
	pause := g.notBefore.Sub(g.now())
	g.mu.Unlock()
	if pause > 0 {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(pause):
		}
	}
	return g.limiter.Wait(ctx)
}

// noteLimit pauses every writer for a 429's Retry-After.
func (g *writeGate) noteLimit(err error) {
	var e *erp.Error
	if !errors.As(err, &e) || !errors.Is(err, erp.ErrRateLimited) {
		return
	}
	wait := max(e.RetryAfter, time.Second)
	g.mu.Lock()
	defer g.mu.Unlock()
	if t := g.now().Add(wait); t.After(g.notBefore) {
		g.notBefore = t
	}
}
