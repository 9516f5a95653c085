package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
	"golang.org/x/sync/errgroup"
	"golang.org/x/time/rate"

	"github.com/erpnext-otp/otp/erp"
	"github.com/erpnext-otp/otp/planner"
	"github.com/erpnext-otp/otp/promise"
	"github.com/erpnext-otp/otp/tasks"
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
	// savedAtPrefix + order name holds the `modified` of the order's
	// newest save a task has seen, and when the task saw it: a pass skips,
	// with no ERPNext request, an order saved again since its book was
	// read (the save's own pass writes it).
	savedAtPrefix = "otp:book:savedat:"
)

// setMaxScript raises KEYS[1] to ARGV[1], never lowers it.
var setMaxScript = redis.NewScript(`
local cur = tonumber(redis.call('GET', KEYS[1]) or '0')
if tonumber(ARGV[1]) > cur then redis.call('SET', KEYS[1], ARGV[1]) end
return 0`)

// passStats is what one pass of the book did.
type passStats struct {
	orders, written, unchanged, skipped, failed int
	// How long the pass read the book, allocated it and planned its saved
	// orders, waited for the pass before to write, and wrote; planRest is
	// how long it planned the other orders, meanwhile.
	read, allocate, wait, write, planRest time.Duration
}

// savedKey holds the Sales Orders saved since the last pass began: a pass
// tells those it does not find in the book that they are not promised.
const savedKey = "otp:book:saved"

// drainScript takes the set's members and empties it, at once.
var drainScript = redis.NewScript(`
local m = redis.call('SMEMBERS', KEYS[1])
redis.call('DEL', KEYS[1])
return m`)

// reallocate notes a change to the book and makes sure a pass covers it.
// focus is the order whose save the task carries ("" for the sweep and
// supply changes). When no pass holds the book, this task runs passes
// until the book is current. When one does, it returns at once: the worker
// running it reads the generation again after its pass has written and
// runs another pass for the changes that came meanwhile, and a follow-up
// task, due once the book's lock would have expired, runs one should that
// worker die. A task waits for another's pass only to write after it
// (passOnce), so a burst of saves neither fills the worker slots nor runs
// a pass each.
func (w *Worker) reallocate(ctx context.Context, log *slog.Logger, focus string) error {
	if focus != "" {
		if err := w.d.Redis.SAdd(ctx, savedKey, focus).Err(); err != nil {
			return fmt.Errorf("worker: note the save: %w", err)
		}
	}
	if err := w.d.Redis.Incr(ctx, GenKey).Err(); err != nil {
		return fmt.Errorf("worker: note the change: %w", err)
	}
	return w.drain(ctx, log, focus)
}

// drain runs passes while the book has changes no pass has covered.
func (w *Worker) drain(ctx context.Context, log *slog.Logger, focus string) error {
	began, ran := w.d.Now(), false
	for {
		current, err := w.covered(ctx)
		if err != nil || current {
			return err
		}
		if ran && w.d.Enqueuer != nil && w.d.Now().Sub(began) >= w.d.PassBudget {
			// Saves keep coming: hand the next pass to a task of its own
			// rather than run into this task's timeout.
			return w.enqueueSettle(ctx, tasks.NewSettleBookTask(w.d.Now()))
		}
		l, err := w.tryLock(ctx, bookLockKey)
		if err != nil {
			return err
		}
		if l == nil {
			notePass(ctx, nil)
			return w.followUp(ctx)
		}
		if err := w.passOnce(ctx, log, l, focus); err != nil {
			return err
		}
		ran, focus = true, "" // the task's own order is covered: its result is noted
	}
}

// covered reports whether a finished pass started after every change noted.
func (w *Worker) covered(ctx context.Context) (bool, error) {
	vals, err := w.d.Redis.MGet(ctx, GenKey, DoneKey).Result()
	if err != nil {
		return false, fmt.Errorf("worker: read the book's generations: %w", err)
	}
	num := func(v any) int64 {
		s, _ := v.(string)
		n, _ := strconv.ParseInt(s, 10, 64)
		return n
	}
	return num(vals[1]) >= num(vals[0]), nil
}

// followUp makes sure a pass runs even if the worker now holding the book
// dies before it covers the change: one task per lock lifetime, due when
// the lock would have expired.
func (w *Worker) followUp(ctx context.Context) error {
	if w.d.Enqueuer == nil {
		return nil
	}
	bucket := w.d.Now().Truncate(w.d.LockTTL)
	return w.enqueueSettle(ctx, tasks.NewSettleBookTask(bucket, asynq.ProcessAt(bucket.Add(2*w.d.LockTTL))))
}

// enqueueSettle queues a pass of the book; one already queued with its id
// will do.
func (w *Worker) enqueueSettle(ctx context.Context, t *asynq.Task) error {
	_, err := w.d.Enqueuer.EnqueueContext(ctx, t)
	if err != nil && !errors.Is(err, asynq.ErrTaskIDConflict) {
		return fmt.Errorf("worker: queue a pass of the book: %w", err)
	}
	return nil
}

// HandleSettleBook is the follow-up: a pass if changes are still uncovered.
func (w *Worker) HandleSettleBook(ctx context.Context, _ *asynq.Task) error {
	return w.drain(ctx, w.log.With("event", "follow-up"), "")
}

// passOnce runs one pass: it reads and allocates the book while holding
// the book's lock, takes the write stage once the pass before it has
// written, and lets go of the book before it writes, so the next pass reads
// while this one writes. Passes write in the order they read: a pass's
// writes never land before those of a pass that read an older book.
func (w *Worker) passOnce(ctx context.Context, log *slog.Logger, l *lock, focus string) error {
	held := true
	letGo := func() {
		if held {
			held = false
			l.release()
		}
	}
	defer letGo()
	// Let the rest of a burst note its changes first: one pass covers them all.
	if err := sleep(ctx, w.d.PassGather); err != nil {
		return err
	}
	if err := w.awaitWriteTail(ctx); err != nil {
		return err
	}
	start, err := w.d.Redis.Get(ctx, GenKey).Int64()
	if err != nil {
		return fmt.Errorf("worker: read the book's generation: %w", err)
	}
	saved, err := drainScript.Run(ctx, w.d.Redis, []string{savedKey}).StringSlice()
	if err != nil {
		return fmt.Errorf("worker: read the saved orders: %w", err)
	}
	t0 := w.d.Now()
	var st passStats
	a, err := w.allocate(ctx, log, focus, saved, &st)
	defer a.pre.stop()
	var wl *lock
	if err == nil {
		wl, err = w.writeStage(ctx)
	}
	letGo()
	if err == nil {
		w.handOn(ctx, log, start)
		err = w.writePass(ctx, log, wl, a, &st)
		w.leaveWriteStage(wl)
	}
	notePass(ctx, &st)
	if err == nil {
		err = setMaxScript.Run(context.WithoutCancel(ctx), w.d.Redis, []string{DoneKey}, strconv.FormatInt(start, 10)).Err()
	}
	if err != nil && len(saved) > 0 {
		// The next pass tells them again.
		if aerr := w.d.Redis.SAdd(context.WithoutCancel(ctx), savedKey, saved).Err(); aerr != nil {
			log.WarnContext(ctx, "worker: saved orders not kept for the next pass", "err", aerr)
		}
	}
	log.InfoContext(ctx, "book allocated", "generation", start, "orders", st.orders, "written", st.written,
		"unchanged", st.unchanged, "skipped", st.skipped, "failed", st.failed, "saved", len(saved),
		"duration_ms", w.d.Now().Sub(t0).Milliseconds(), "read_ms", st.read.Milliseconds(),
		"allocate_ms", st.allocate.Milliseconds(), "wait_ms", st.wait.Milliseconds(),
		"write_ms", st.write.Milliseconds(), "plan_rest_ms", st.planRest.Milliseconds(), "err", err)
	return err
}

// handOn queues a pass of the book, to read it while this pass writes,
// when changes came while this pass read it: their tasks found the book
// held and ended, and this task runs the next pass only once it has
// written. A save arriving later finds the book free and runs it itself.
// The task keeps no record once done (its id is the generation read).
func (w *Worker) handOn(ctx context.Context, log *slog.Logger, start int64) {
	if w.d.Enqueuer == nil {
		return
	}
	gen, err := w.d.Redis.Get(ctx, GenKey).Int64()
	if err == nil && gen > start {
		err = w.enqueueSettle(ctx, tasks.NewSettleBookTask(w.d.Now(),
			asynq.TaskID("book:next:"+strconv.FormatInt(start, 10)), asynq.Retention(0)))
	}
	if err != nil {
		log.WarnContext(ctx, "worker: the next pass not queued; this task runs it once it has written", "err", err)
	}
}

// allocation is a pass's book, read and allocated, and its orders' plans
// with what their fields held when the book was read. The orders saved
// since the last pass (and the task's own) are planned first, the others
// while the pass waits for the write stage and writes those (planRest): a
// sales person waits on a saved order's promise, not on the plans of the
// thousand orders it did not move.
type allocation struct {
	focus string
	saved []string
	books []allocatedBook
	first []planned // the saved orders' plans
	// The other orders' plans, how many of them could not be promised and
	// how long planning them took, once restDone is closed.
	rest        []planned
	restSkipped int
	restTook    time.Duration
	restDone    chan struct{}
	inBook      map[string]bool
	pre         *prefetches
	bookAt      time.Time // when the pass began reading the book
	doneAt      time.Time // when it had planned the saved orders
}

// allocatedBook is one company's book, allocated.
type allocatedBook struct {
	al          *promise.Allocation
	names       []string // in the allocation's sequence
	written     map[string]planner.Written
	fingerprint string
}

// planned is one order's plan.
type planned struct {
	name        string
	written     planner.Written
	plan        promise.Plan
	fingerprint string
}

// allocate reads every company's book (and begins the saved orders' reads
// for their writes: prefetch), allocates it and plans the saved orders.
func (w *Worker) allocate(ctx context.Context, log *slog.Logger, focus string, saved []string, st *passStats) (*allocation, error) {
	a := &allocation{focus: focus, saved: saved, inBook: map[string]bool{}, bookAt: time.Now()} // real time, as noteSaved's
	a.pre = w.prefetch(ctx, saved)
	books, err := w.d.Planner.Books(ctx, saved)
	st.read = time.Since(a.bookAt)
	if errors.Is(err, erp.ErrPermission) {
		return a, fmt.Errorf("worker: read the order book: %w: %w", err, asynq.SkipRetry)
	}
	if err != nil {
		return a, classify(err, "worker: read the order book")
	}
	fps := make([]chan string, len(books))
	for i, bk := range books {
		// The fingerprint hashes the whole book: it is worked out on the
		// other core while the book is allocated.
		fps[i] = make(chan string, 1)
		go func() { fps[i] <- planner.Fingerprint(bk.Inputs) }() // ends with the hash
		al, err := w.d.Planner.Allocate(bk.Inputs)
		if err != nil {
			return a, fmt.Errorf("worker: allocate the book of %q: %w: %w", bk.Company, err, asynq.SkipRetry)
		}
		ab := allocatedBook{al: al, names: al.Names(), written: bk.Written}
		for _, name := range ab.names {
			a.inBook[name] = true
		}
		st.orders += len(ab.names)
		a.books = append(a.books, ab)
	}
	for i := range a.books {
		a.books[i].fingerprint = <-fps[i]
	}
	first := a.firstNames()
	var skipped int
	a.first, skipped = a.plan(ctx, log, func(name string) bool { return first[name] })
	st.skipped += skipped
	a.doneAt = time.Now()
	st.allocate = a.doneAt.Sub(a.bookAt) - st.read
	a.restDone = make(chan struct{})
	go a.planRest(ctx, log, first) // ends with the book's plans
	return a, nil
}

// firstNames are the orders planned and written first: the saved ones
// and the task's own.
func (a *allocation) firstNames() map[string]bool {
	first := make(map[string]bool, len(a.saved)+1)
	for _, name := range a.saved {
		first[name] = true
	}
	if a.focus != "" {
		first[a.focus] = true
	}
	return first
}

// planRest plans the orders that are not first, while the pass waits for
// the write stage and writes those; waitRest returns their plans.
func (a *allocation) planRest(ctx context.Context, log *slog.Logger, first map[string]bool) {
	defer close(a.restDone)
	t0 := time.Now()
	a.rest, a.restSkipped = a.plan(ctx, log, func(name string) bool { return !first[name] })
	a.restTook = time.Since(t0)
}

// waitRest returns the plans of planRest once it is done.
func (a *allocation) waitRest() []planned {
	<-a.restDone
	return a.rest
}

// plan plans the books' orders for which want is true, in the books'
// sequence, and counts those that cannot be promised.
func (a *allocation) plan(ctx context.Context, log *slog.Logger, want func(name string) bool) (ps []planned, skipped int) {
	for _, ab := range a.books {
		for _, name := range ab.names {
			if !want(name) {
				continue
			}
			plan, err := ab.al.Summary(name) // all the order's fields hold
			if err != nil {
				// The order's own data cannot be promised; the rest of the book can.
				log.WarnContext(ctx, "order not promised", "sales_order", name, "err", err)
				skipped++
				continue
			}
			ps = append(ps, planned{name: name, written: ab.written[name], plan: plan, fingerprint: ab.fingerprint})
		}
	}
	return ps, skipped
}

// writePass writes back exactly the orders whose promise differs from what
// they hold, or whose promise is not yet on their timeline (see
// needsComment), the saved orders first; then it tells each saved order
// the book does not hold why it is not promised. It runs in the write
// stage: what the pass before wrote after this one read the book is what
// the orders hold (ownWrites).
func (w *Worker) writePass(ctx context.Context, log *slog.Logger, l *lock, a *allocation, st *passStats) error {
	writeAt := time.Now()
	st.wait = writeAt.Sub(a.doneAt)
	// Orders whose last comment may not be the one their marker names.
	unsure, err := w.d.Redis.SMembers(ctx, commentingKey).Result()
	if err != nil {
		return fmt.Errorf("worker: read the orders being commented: %w", err)
	}
	recheck := make(map[string]bool, len(unsure))
	for _, name := range unsure {
		recheck[name] = true
	}
	earlier := w.own.take()
	ws := w.startWrites(ctx, log, l, st)
	// jobs returns the write jobs of ps, counting the orders left as they are.
	jobs := func(ps []planned) []writeJob {
		var out []writeJob
		unchanged := 0
		for _, p := range ps {
			name, written := p.name, p.written
			var doc *erp.SalesOrder
			if rec, ok := earlier[name]; ok && rec.base == written.Modified {
				// Written by the pass before, after this one read it: only
				// OTP's fields changed, and the plan still holds.
				doc, written = rec.doc, writtenOf(rec.doc)
			}
			fields, lines := changes(writtenView(written), p.plan)
			if name == a.focus {
				notePlan(ctx, name, written.Customer, p.plan, false)
			}
			if len(fields) == 0 && len(lines) == 0 && !w.needsComment(written.Commented, p.plan) && !recheck[name] {
				unchanged++
				continue
			}
			j := writeJob{name: name, written: written, doc: doc, plan: p.plan, fingerprint: p.fingerprint, focus: name == a.focus, recheck: recheck[name], bookAt: a.bookAt}
			if doc == nil {
				j.pre = a.pre.get(name)
			}
			out = append(out, j)
		}
		ws.count(func(st *passStats) { st.unchanged += unchanged })
		return out
	}
	ws.add(jobs(a.first))
	rest := a.waitRest()
	ws.count(func(st *passStats) { st.skipped += a.restSkipped; st.planRest = a.restTook })
	ws.add(jobs(rest))
	err = ws.wait()
	st.write = time.Since(writeAt)
	var gone []any // left the book: their timeline no longer matters
	for _, name := range unsure {
		if !a.inBook[name] {
			gone = append(gone, name)
		}
	}
	if len(gone) > 0 {
		if serr := w.d.Redis.SRem(ctx, commentingKey, gone...).Err(); serr != nil {
			log.WarnContext(ctx, "worker: orders that left the book still noted as being commented", "err", serr)
		}
	}
	for _, name := range a.saved {
		if a.inBook[name] {
			continue
		}
		if merr := w.markNotPromised(ctx, log.With("sales_order", name), name); merr != nil {
			st.failed++
			if err == nil {
				err = merr
			}
		}
	}
	return err
}

// writeJob is one order whose promise changed.
type writeJob struct {
	name        string
	written     planner.Written // the order as the book read it (its modified, its comment marker)
	doc         *erp.SalesOrder // the order as OTP's last write left it, or nil
	plan        promise.Plan
	fingerprint string
	pre         *prefetched // its reads begun alongside the book's, or nil
	focus       bool        // the task's own order
	recheck     bool        // a comment may have been posted that its marker does not name
	fresh       bool        // read the order afresh, whatever the book and the pass before read
	bookAt      time.Time   // when the pass began reading the book
}

// passWrites writes a pass's jobs as they are added, a few at a time and
// no faster than the write rate. A retryable failure of one order does not
// stop the others; the pass then fails so the task is retried, and the
// retry writes only what is still different.
type passWrites struct {
	w    *Worker
	ctx  context.Context
	gctx context.Context
	log  *slog.Logger
	l    *lock
	g    *errgroup.Group

	mu       sync.Mutex // guards st and firstErr
	st       *passStats
	firstErr error
}

func (w *Worker) startWrites(ctx context.Context, log *slog.Logger, l *lock, st *passStats) *passWrites {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(w.d.WriteConcurrency)
	return &passWrites{w: w, ctx: ctx, gctx: gctx, log: log, l: l, g: g, st: st}
}

// add starts writing jobs; it waits while WriteConcurrency writes run.
func (ws *passWrites) add(jobs []writeJob) {
	w := ws.w
	w.unwritten.Add(int64(len(jobs)))
	for _, j := range jobs {
		ws.g.Go(func() error {
			defer w.unwritten.Add(-1)
			outcome, err := w.writeOne(ws.gctx, ws.log.With("sales_order", j.name), ws.l, j)
			ws.count(func(st *passStats) {
				switch {
				case err != nil:
					st.failed++
					ws.log.WarnContext(ws.ctx, "promise not written", "sales_order", j.name, "err", err)
					if ws.firstErr == nil {
						ws.firstErr = err
					}
				case outcome == outcomeWritten:
					st.written++
				case outcome == outcomeUnchanged:
					st.unchanged++
				default:
					st.skipped++
				}
			})
			return nil
		})
	}
}

// count changes the pass's stats while writes may run.
func (ws *passWrites) count(f func(*passStats)) {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	f(ws.st)
}

// wait waits for the writes added and returns the first failure.
func (ws *passWrites) wait() error {
	_ = ws.g.Wait() // the jobs report through firstErr
	return ws.firstErr
}

type writeOutcome int

const (
	outcomeWritten writeOutcome = iota
	outcomeUnchanged
	outcomeSkipped
)

// writeOne brings the order to its plan: its fields and the comment
// marker in one PUT with `modified`, so a save by someone in between is
// never overwritten (417: that save's webhook re-allocates), and, when the
// marker says the plan's promise was not commented, the timeline comment
// (ensureComment posts it only when OTP's last comment states another
// promise). The POST and the PUT go at once: the order is noted as being
// commented (commentingKey) before either, so a PUT that lands while its
// POST fails leaves an order that every pass rechecks until its timeline
// states what its marker names; the job then fails, and the retried pass
// posts it. An order changed, closed or gone since the book was read is
// left to the pass its change caused. A 429, 5xx, timeout or open breaker
// on any step fails the job with a retryable error; the retry redoes only
// what is still missing.
//
// The fresh read of the order and the read of OTP's last comment do not
// depend on each other and go at once (for a saved order, alongside the
// book's read: prefetch). When nothing but the order's own fields is due
// (no line changed, its marker names the plan), neither is needed: the
// PUT carries the book's `modified`. So a promise costs, after the book,
// one round trip (a saved order, or fields only) or two.
//
// A write refused because the order changed since its version was read is
// made once more on the order read afresh: when the change is the pass
// before's write (ownVersion), this pass's plan is written over it.
func (w *Worker) writeOne(ctx context.Context, log *slog.Logger, l *lock, j writeJob) (writeOutcome, error) {
	if w.savedSince(ctx, j) {
		log.InfoContext(ctx, "skipped", "reason", "saved since the book was read")
		return outcomeSkipped, nil
	}
	out, err := w.writeFrom(ctx, log, l, j)
	if !errors.Is(err, errStale) {
		return out, err
	}
	// A comment may have been posted alongside the refused PUT: the order
	// is in commentingKey, and its timeline is read again.
	j.pre, j.doc, j.fresh, j.recheck = nil, nil, true, true
	out, err = w.writeFrom(ctx, log, l, j)
	if errors.Is(err, errStale) {
		// The save's own pass writes it.
		log.InfoContext(ctx, "skipped", "reason", "saved while it was being written")
		return outcomeSkipped, nil
	}
	return out, err
}

// writeFrom is one attempt of writeOne, from the job's reads.
func (w *Worker) writeFrom(ctx context.Context, log *slog.Logger, l *lock, j writeJob) (writeOutcome, error) {
	plan := j.plan
	key := commentKey(plan)
	if fields, lines := changes(writtenView(j.written), plan); lines == nil && len(fields) > 0 &&
		j.written.Commented == key && !j.recheck && !j.fresh {
		// The book's list holds every field compared, and it lists only
		// open orders with a line left: the PUT's `modified` vouches that
		// none of it changed since.
		if err := w.writes.wait(ctx); err != nil {
			return outcomeSkipped, err
		}
		w.stamp(j, fields, nil)
		return w.put(ctx, log, l, &erp.SalesOrder{Name: j.name, Modified: j.written.Modified, Customer: j.written.Customer}, j, fields, nil, false)
	}
	so, last, err := w.readForWrite(ctx, log, j)
	if err != nil || so == nil {
		return outcomeSkipped, err
	}
	if reason := skipReason(so); reason != "" || (so.Modified != j.written.Modified && !w.ownVersion(ctx, so)) {
		log.InfoContext(ctx, "skipped", "reason", cmpOr(reason, "saved since the book was read"))
		return outcomeSkipped, nil
	}
	fields, lines := changes(orderView(so), plan)
	needComment := w.needsComment(so.Commented, plan) || j.recheck
	if len(fields) == 0 && len(lines) == 0 && !needComment {
		return outcomeUnchanged, nil
	}
	// One token of the write rate per order, whatever its requests.
	if err := w.writes.wait(ctx); err != nil {
		return outcomeSkipped, err
	}
	post := false
	switch {
	case so.Commented == key && !j.recheck:
	case !w.readsTimeline(so.Commented, j.recheck):
		if w.writtenSince(ctx, so) {
			// The pass before wrote the order, and maybe its comment,
			// after this one read it: read both afresh.
			return outcomeSkipped, errStale
		}
		post = true // the marker names OTP's last comment, and it states another promise
	default:
		c, err := last()
		if err != nil {
			return outcomeSkipped, err
		}
		if post = !states(c, plan); !post {
			log.InfoContext(ctx, "comment already on the timeline", "comment", c.Name)
		}
	}
	if len(fields) == 0 && len(lines) == 0 && so.Commented == key {
		// Only the timeline needed checking.
		if post {
			if err := w.writes.pause(ctx); err != nil {
				return outcomeSkipped, err
			}
			if err := w.postComment(ctx, l, so.Name, plan); err != nil {
				return outcomeSkipped, err
			}
		}
		w.commented(ctx, log, so.Name) // it states the plan now
		if post {
			log.InfoContext(ctx, "comment posted again", "promise_date", plan.PromiseDate, "confidence", plan.Confidence)
			return outcomeWritten, nil
		}
		return outcomeUnchanged, nil
	}
	w.stamp(j, fields, lines)
	if so.Commented != key {
		fields[erp.FieldCommented] = key
	}
	return w.put(ctx, log, l, so, j, fields, lines, post)
}

// readForWrite reads the order fresh and returns it with a function that
// gives OTP's last comment on it; a nil order, with no error, when it is
// gone. It takes the pass's prefetch when that read the version the book
// holds, and otherwise reads the order and, when a comment may be due,
// the last comment at once.
func (w *Worker) readForWrite(ctx context.Context, log *slog.Logger, j writeJob) (*erp.SalesOrder, func() (*erp.Comment, error), error) {
	var so *erp.SalesOrder
	last := func() (*erp.Comment, error) { return w.lastComment(ctx, log, j.name) }
	if j.doc != nil {
		return j.doc, last, nil
	}
	var soErr error
	if j.pre.take(ctx) {
		// Its failures are the write's, as a read now would be: the
		// client has retried them already. A version other than the
		// book's is read again.
		if so, soErr = j.pre.so, j.pre.soErr; soErr == nil && so.Modified != j.written.Modified {
			so = nil
		}
	}
	if so == nil && soErr == nil && (w.needsComment(j.written.Commented, j.plan) || j.recheck) && w.readsTimeline(j.written.Commented, j.recheck) {
		// The order is read now: its last comment at the same time.
		pre := make(chan lastRead, 1)
		go func() { // ends with its one request
			c, err := w.lastComment(ctx, log, j.name)
			pre <- lastRead{c, err}
		}()
		var once sync.Once
		var r lastRead
		last = func() (*erp.Comment, error) {
			once.Do(func() { r = <-pre })
			return r.c, r.err
		}
		// Not needed after all (the order was skipped): let it finish.
		defer func() { _, _ = last() }()
	}
	if so != nil {
		return so, last, nil
	}
	err := soErr
	if err == nil {
		so, err = w.d.ERP.SalesOrder(ctx, j.name)
	}
	if errors.Is(err, erp.ErrNotFound) {
		return nil, nil, nil
	}
	if err != nil {
		w.writes.noteLimit(err)
		return nil, nil, classify(err, "worker: read %s", j.name)
	}
	return so, last, nil
}

// stamp adds, when the promise itself changed (not only its comment's
// marker), when it was computed and from what.
func (w *Worker) stamp(j writeJob, fields map[string]any, lines map[string]map[string]any) {
	if len(fields) > 0 || len(lines) > 0 {
		fields[erp.FieldPromisedAt] = w.d.Now().In(w.d.Location).Format(promisedAtLayout)
		fields[erp.FieldFingerprint] = j.fingerprint
	}
}

// put writes fields and lines on so in one PUT with so's `modified` and,
// when post, posts the plan's comment at the same time (see writeOne).
func (w *Worker) put(ctx context.Context, log *slog.Logger, l *lock, so *erp.SalesOrder, j writeJob,
	fields map[string]any, lines map[string]map[string]any, post bool) (writeOutcome, error) {
	plan, key := j.plan, commentKey(j.plan)
	if so.Modified == "" {
		return outcomeSkipped, fmt.Errorf("worker: write promise on %s: no modified to write with", so.Name)
	}
	fields["modified"] = so.Modified
	if err := w.writes.pause(ctx); err != nil {
		return outcomeSkipped, err
	}
	var (
		posting sync.WaitGroup
		postErr error
	)
	if post {
		if err := w.noteCommenting(ctx, l, so.Name); err != nil {
			return outcomeSkipped, err
		}
		posting.Add(1)
		go func() { // ends with its one request
			defer posting.Done()
			postErr = w.addComment(ctx, so.Name, plan)
		}()
	}
	updated, err := w.d.ERP.UpdateSalesOrder(ctx, so, fields, lines)
	posting.Wait()
	if errors.Is(err, erp.ErrTimestampMismatch) {
		// A comment posted meanwhile is ahead of the marker: the order is
		// in commentingKey, and writeOne reads its timeline again.
		return outcomeSkipped, errStale
	}
	if err != nil {
		w.writes.noteLimit(err)
		return outcomeSkipped, classify(err, "worker: write promise on %s", so.Name)
	}
	if _, ok := fields[erp.FieldCommented]; ok && updated.Commented != key && !w.noMarker.Swap(true) {
		log.ErrorContext(ctx, "worker: Sales Order has no "+erp.FieldCommented+": run `otp migrate up`; until then a comment lost to a fault is not posted again")
	}
	w.own.note(so.Modified, updated)
	if err := w.d.Redis.Set(ctx, ownWritePrefix+so.Name, updated.Modified, ownWriteTTL).Err(); err != nil {
		log.WarnContext(ctx, "worker: own write not noted; its webhook runs a pass that writes nothing", "err", err)
	}
	if postErr != nil {
		// The fields and the marker are written and the comment is not:
		// the order stays in commentingKey, and the retried pass posts it.
		return outcomeSkipped, postErr
	}
	if post || j.recheck {
		w.commented(ctx, log, so.Name) // the marker names it now
	}
	if j.focus {
		notePlan(ctx, so.Name, so.Customer, plan, true)
	}
	log.InfoContext(ctx, "promised", "promise_date", plan.PromiseDate, "confidence", plan.Confidence,
		"status", plan.Status, "fields", len(fields), "lines", len(lines), "commented", post)
	return outcomeWritten, nil
}

// savedSince reports whether a task has seen a save of j's order newer
// than the book's version: its fresh read would only find that out. A
// pass runs long under load, and its orders are saved again meanwhile; they
// cost no request now. Frappe's `modified` strings order as the times they
// name. When Redis does not answer, the fresh read decides.
func (w *Worker) savedSince(ctx context.Context, j writeJob) bool {
	v, err := w.d.Redis.Get(ctx, savedAtPrefix+j.name).Result()
	if err != nil {
		return false
	}
	modified, at, _ := strings.Cut(v, "|")
	nanos, err := strconv.ParseInt(at, 10, 64)
	// Only a save seen after the pass began, of a version the book does
	// not hold: whatever that webhook said, the next pass begins after it
	// and writes the order.
	return err == nil && nanos > j.bookAt.UnixNano() && modified != j.written.Modified
}

// noteSaved records a save's `modified` for savedSince, with the real time
// (tests pin the worker's clock).
func (w *Worker) noteSaved(ctx context.Context, order, modified string) error {
	return w.d.Redis.Set(ctx, savedAtPrefix+order, modified+"|"+strconv.FormatInt(time.Now().UnixNano(), 10), ownWriteTTL).Err()
}

// lastRead is the answer of a read of OTP's last comment.
type lastRead struct {
	c   *erp.Comment
	err error
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// writeGate paces writes toward ERPNext: a token bucket at the configured
// rate, and a pause for everyone when ERPNext answers 429 with Retry-After.
// Both run on real time, as the limiter does, not on the worker's clock:
// with a clock that stands still (tests pin it) a pause measured by it
// would never end, and every later write would wait it out again.
type writeGate struct {
	limiter *rate.Limiter

	mu        sync.Mutex
	notBefore time.Time
}

func newWriteGate(perSecond float64) *writeGate {
	return &writeGate{limiter: rate.NewLimiter(rate.Limit(perSecond), max(1, int(perSecond)))}
}

// wait blocks until an order may be written: after any 429 pause, and
// within the rate (one token an order).
func (g *writeGate) wait(ctx context.Context) error {
	if err := g.pause(ctx); err != nil {
		return err
	}
	return g.limiter.Wait(ctx)
}

// pause blocks while a 429's Retry-After runs: every request toward
// ERPNext but the fresh read waits it out.
func (g *writeGate) pause(ctx context.Context) error {
	g.mu.Lock()
	pause := time.Until(g.notBefore)
	g.mu.Unlock()
	return sleep(ctx, pause)
}

// sleep waits d, or until ctx ends; a d of zero or less does not wait.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
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
	if t := time.Now().Add(wait); t.After(g.notBefore) {
		g.notBefore = t
	}
}
