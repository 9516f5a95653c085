package worker

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/erpnext-otp/otp/erp"
	"github.com/erpnext-otp/otp/planner"
)

// writeLockKey is the write stage's lock: one pass writes at a time, while
// the next one reads the book (passOnce).
const writeLockKey = "otp:lock:book:write"

// stagePoll is how often a pass asks for the write stage while a pass of
// another worker holds it; a pass of this worker hands it over at once.
const stagePoll = 5 * time.Millisecond

// writeStage waits until the pass before has written and takes the write
// stage: this worker's slot, then the lock every worker shares. It is
// called while holding the book's lock, so passes take it in the order
// they read the book. leaveWriteStage gives it back.
func (w *Worker) writeStage(ctx context.Context) (*lock, error) {
	select {
	case w.stage <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	for {
		l, err := w.tryLock(ctx, writeLockKey)
		switch {
		case err != nil:
		case l != nil:
			return l, nil
		default: // another worker's pass writes
			if err = sleep(ctx, stagePoll); err == nil {
				continue
			}
			err = fmt.Errorf("worker: wait for the pass before to write: %w", err)
		}
		<-w.stage
		return nil, err
	}
}

// awaitWriteTail waits, before a pass reads the book, until this worker's
// pass in the write stage has at most two rounds of writes left: a book
// read long before its writes would find many of its orders saved again
// by then, and their writes left to the next pass.
func (w *Worker) awaitWriteTail(ctx context.Context) error {
	for w.unwritten.Load() > int64(2*w.d.WriteConcurrency) {
		if err := sleep(ctx, stagePoll); err != nil {
			return err
		}
	}
	return nil
}

// leaveWriteStage gives back what writeStage took.
func (w *Worker) leaveWriteStage(l *lock) {
	l.release()
	<-w.stage
}

// ownWrites are the orders this worker's last pass wrote: the next pass read
// the book while they were written, and may hold the version before.
type ownWrites struct {
	mu     sync.Mutex
	byName map[string]ownWrite
}

// ownWrite is one write: the version it was made on, and the order after.
type ownWrite struct {
	base string
	doc  *erp.SalesOrder
}

func (o *ownWrites) note(base string, doc *erp.SalesOrder) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.byName == nil {
		o.byName = map[string]ownWrite{}
	}
	o.byName[doc.Name] = ownWrite{base: base, doc: doc}
}

// take returns the writes noted since the last take, and forgets them: a
// pass takes them once it holds the write stage, when the pass before has
// written.
func (o *ownWrites) take() map[string]ownWrite {
	o.mu.Lock()
	defer o.mu.Unlock()
	m := o.byName
	o.byName = nil
	return m
}

// ownVersion reports whether so's version is OTP's own write. Seen by a
// pass after it read the order at another version, it is the write of the
// pass before, made on the version this pass read: passes write in the
// order they read, and a pass's writes are made on the versions it read.
// Only OTP's fields changed, so this pass's plan still holds.
func (w *Worker) ownVersion(ctx context.Context, so *erp.SalesOrder) bool {
	v, err := w.ownMark(ctx, so.Name)
	return err == nil && v == so.Modified
}

// writtenSince reports whether OTP wrote the order after the version so
// is: a pass of another worker, before this one, wrote it while this pass
// read the book. Its marker and timeline may then be newer than so's, and
// a comment posted on so's marker would repeat that pass's. Frappe's
// `modified` strings order as the times they name.
func (w *Worker) writtenSince(ctx context.Context, so *erp.SalesOrder) bool {
	v, err := w.ownMark(ctx, so.Name)
	return err == nil && v > so.Modified
}

// ownMark is the `modified` of OTP's last write of order, "" when Redis
// holds none (ownWritePrefix).
func (w *Worker) ownMark(ctx context.Context, order string) (string, error) {
	v, err := w.d.Redis.Get(ctx, ownWritePrefix+order).Result()
	if errors.Is(err, redis.Nil) {
		return "", nil
	}
	return v, err
}

// writtenOf is what OTP's fields on so hold, as the book lists them.
func writtenOf(so *erp.SalesOrder) planner.Written {
	w := planner.Written{Modified: so.Modified, Customer: so.Customer, PromiseDate: so.PromiseDate,
		Confidence: so.Confidence, Status: so.PromiseStatus, Explanation: so.Explanation,
		FirstPromiseDate: so.FirstPromiseDate, Commented: so.Commented, Lines: make(map[string]planner.WrittenLine, len(so.Items))}
	for _, it := range so.Items {
		w.Lines[it.Name] = planner.WrittenLine{PromiseDate: it.LinePromiseDate, Confidence: it.LineConfidence}
	}
	return w
}

// errStale is a write refused because the order changed after the version
// it was made on was read.
var errStale = errors.New("worker: the order changed since it was read")
