package worker

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/erpnext-otp/otp/erp"
)

// A saved order is the one a pass most likely writes, and the fresh read
// its write needs does not depend on the book: a pass reads its saved
// orders while it reads the book, so the promise of a save costs the
// book's round trip and then the write, not a round trip more in between.
// A read the pass does not use (the save changed nothing OTP writes) is
// the price: one request. OTP's last comment is not read ahead: the pass
// before may comment while this one reads the book (readsTimeline).

// prefetched is what a pass read of one saved order alongside the book.
type prefetched struct {
	// state: 0 waiting for a slot, 1 reading, 2 taken over by the write
	// (which then reads itself rather than wait for a slot).
	state atomic.Int32
	done  chan struct{} // closed when the reads are over, or were never made

	so    *erp.SalesOrder
	soErr error
}

// take returns the reads once they are over, or ok false when they were
// not begun (the write reads itself then). A nil p is never begun.
func (p *prefetched) take(ctx context.Context) (ok bool) {
	if p == nil || p.state.CompareAndSwap(0, 2) {
		return false
	}
	select {
	case <-p.done:
		return true
	case <-ctx.Done():
		return false
	}
}

// prefetches are the reads of a pass's saved orders, made while it reads
// the book.
type prefetches struct {
	byName map[string]*prefetched
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// get is the prefetch of order, or nil.
func (ps *prefetches) get(order string) *prefetched {
	if ps == nil {
		return nil
	}
	return ps.byName[order]
}

// stop ends the reads no write took and waits for every one.
func (ps *prefetches) stop() {
	if ps == nil {
		return
	}
	ps.cancel()
	ps.wg.Wait()
}

// prefetch begins, for each saved order, the fresh read of the order, as
// many orders at once as the pass writes. None while the ERPNext client's
// breaker is not closed: half-open, it lets only a few probes through, and
// the book's read is the one that must go. Every read ends by stop.
func (w *Worker) prefetch(ctx context.Context, saved []string) *prefetches {
	if len(saved) == 0 {
		return nil
	}
	if b, ok := w.d.ERP.(interface{ BreakerState() erp.BreakerState }); ok && b.BreakerState() != erp.BreakerClosed {
		return nil
	}
	ctx, cancel := context.WithCancel(ctx)
	ps := &prefetches{byName: make(map[string]*prefetched, len(saved)), cancel: cancel}
	slots := make(chan struct{}, w.d.WriteConcurrency)
	for _, name := range saved {
		p := &prefetched{done: make(chan struct{})}
		ps.byName[name] = p
		ps.wg.Add(1)
		go func() { // ends with its request, or when stop cancels it
			defer ps.wg.Done()
			defer close(p.done)
			select {
			case slots <- struct{}{}:
				defer func() { <-slots }()
			case <-ctx.Done():
				return
			}
			if !p.state.CompareAndSwap(0, 1) {
				return // the write reads itself
			}
			p.so, p.soErr = w.d.ERP.SalesOrder(ctx, name)
		}()
	}
	return ps
}
