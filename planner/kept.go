package planner

import (
	"context"
	"iter"
	"slices"
	"sync"
	"time"

	"github.com/erpnext-otp/otp/erp"
)

// DefaultBookRefresh is how long a kept book serves before the whole book
// is read again.
const DefaultBookRefresh = 10 * time.Minute

// changeMargin is how far before the newest `modified` a kept book holds
// the next read of changes begins. ERPNext stamps `modified` when a save
// begins and the save is seen once it commits: a save that commits up to
// this long after a later one began is still read. The orders a pass was
// told were saved are read by name whatever their stamp, and the whole
// book is read every Config.BookRefresh.
const changeMargin = 2 * time.Second

// keptBook is the order book as the last pass read it, so that the next
// one reads only the orders that changed (erp OrderBookChanges).
type keptBook struct {
	mu     sync.Mutex                      // one read of the book at a time
	orders map[string][]erp.SalesOrderLine // the book's orders' lines, by order; nil: none kept
	newest time.Time                       // the newest `modified` read
	fullAt time.Time                       // when the whole book was last read
}

// bookLines reads the open order book's lines, ordered by order and line.
// With a kept book younger than Config.BookRefresh it reads only the
// orders modified since (less changeMargin) and those in saved, and
// brings the kept book up to date; otherwise, or when those do not fit one
// request, it reads the whole book and keeps it. So it does too while the
// ERPNext client's breaker is not closed: half-open, it lets only a few
// probes through, and the changes can take two requests.
func (p *Planner) bookLines(ctx context.Context, saved []string) ([]erp.SalesOrderLine, error) {
	k := &p.kept
	k.mu.Lock()
	defer k.mu.Unlock()
	if p.breakerClosed() && k.orders != nil && !k.newest.IsZero() && p.now().Sub(k.fullAt) < p.cfg.BookRefresh {
		since := formatModified(k.newest.Add(-changeMargin))
		changed, complete, err := p.r.OrderBookChanges(ctx, since, saved, p.cfg.BookPage)
		if err != nil {
			return nil, err
		}
		if complete {
			k.apply(changed, saved)
			return k.lines(), nil
		}
	}
	lines, err := p.r.OpenOrderBook(ctx, p.cfg.BookPage)
	if err != nil {
		return nil, err
	}
	k.orders = map[string][]erp.SalesOrderLine{}
	k.newest = time.Time{}
	k.apply(lines, nil)
	k.fullAt = p.now()
	return lines, nil
}

// apply brings the kept book up to date with the lines of changed orders:
// an order that left the book (cancelled, closed, completed) is dropped,
// and so is one of saved that was not read (deleted).
func (k *keptBook) apply(changed []erp.SalesOrderLine, saved []string) {
	read := map[string]bool{}
	for rows := range byOrder(changed) {
		first := rows[0]
		read[first.SalesOrder] = true
		if first.InBook() {
			k.orders[first.SalesOrder] = slices.Clone(rows)
		} else {
			delete(k.orders, first.SalesOrder)
		}
		if m, ok := parseDatetime(first.Modified); ok && m.After(k.newest) {
			k.newest = m
		}
	}
	for _, name := range saved {
		if !read[name] {
			delete(k.orders, name)
		}
	}
}

// lines returns the kept book's lines, ordered by order and line as
// OpenOrderBook returns them.
func (k *keptBook) lines() []erp.SalesOrderLine {
	names := make([]string, 0, len(k.orders))
	n := 0
	for name, ls := range k.orders {
		names = append(names, name)
		n += len(ls)
	}
	slices.Sort(names)
	out := make([]erp.SalesOrderLine, 0, n)
	for _, name := range names {
		out = append(out, k.orders[name]...)
	}
	return out
}

// byOrder yields the lines of each order in turn: lines are ordered by
// order, as the book's reads return them.
func byOrder(lines []erp.SalesOrderLine) iter.Seq[[]erp.SalesOrderLine] {
	return func(yield func([]erp.SalesOrderLine) bool) {
		for i := 0; i < len(lines); {
			j := i
			for j < len(lines) && lines[j].SalesOrder == lines[i].SalesOrder {
				j++
			}
			if !yield(lines[i:j]) {
				return
			}
			i = j
		}
	}
}

// breakerClosed reports whether the ERPNext client's breaker lets every
// request through (a reader without one always does).
func (p *Planner) breakerClosed() bool {
	b, ok := p.r.(breakerState)
	return !ok || b.BreakerState() == erp.BreakerClosed
}

// datetimeLayout is how ERPNext writes a Datetime: Python's str(datetime),
// whose microseconds are left out when they are zero (the layout's
// fraction is optional when parsing).
const datetimeLayout = "2006-01-02 15:04:05.999999"

func parseDatetime(s string) (time.Time, bool) {
	t, err := time.Parse(datetimeLayout, s)
	return t, err == nil
}

func formatModified(t time.Time) string {
	if t.Nanosecond()/1000 == 0 {
		return t.Format(time.DateTime)
	}
	return t.Format("2006-01-02 15:04:05.000000")
}
