package planner

import (
	"context"
	"iter"
	"slices"
	"strings"
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
	mu     sync.Mutex            // one read of the book at a time
	orders map[string]*bookEntry // the book's orders, by name; nil: none kept
	newest time.Time             // the newest `modified` read
	fullAt time.Time             // when the whole book was last read
}

// bookEntries reads the open order book, ordered by order name. With a
// kept book younger than Config.BookRefresh it reads only the orders
// modified since (less changeMargin) and those in saved, and brings the
// kept book up to date, turning only those into entries; otherwise, or
// when those do not fit one request, it reads the whole book and keeps
// it. So it does too while the ERPNext client's breaker is not closed:
// half-open, it lets only a few probes through, and the changes can take
// two requests.
func (p *Planner) bookEntries(ctx context.Context, saved []string) ([]*bookEntry, error) {
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
			k.apply(p, changed, saved)
			return k.entries(), nil
		}
	}
	lines, err := p.r.OpenOrderBook(ctx, p.cfg.BookPage)
	if err != nil {
		return nil, err
	}
	k.orders = map[string]*bookEntry{}
	k.newest = time.Time{}
	k.apply(p, lines, nil)
	k.fullAt = p.now()
	return k.entries(), nil
}

// apply brings the kept book up to date with the lines of changed orders:
// an order that left the book (cancelled, closed, completed) is dropped,
// and so is one of saved that was not read (deleted).
func (k *keptBook) apply(p *Planner, changed []erp.SalesOrderLine, saved []string) {
	read := map[string]bool{}
	for rows := range byOrder(changed) {
		first := rows[0]
		read[first.SalesOrder] = true
		if first.InBook() {
			k.orders[first.SalesOrder] = p.entryOf(rows)
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

// entries returns the kept book's orders in name order, as a whole read
// gives them.
func (k *keptBook) entries() []*bookEntry {
	out := make([]*bookEntry, 0, len(k.orders))
	for _, e := range k.orders {
		out = append(out, e)
	}
	slices.SortFunc(out, func(a, b *bookEntry) int { return strings.Compare(a.order.Name, b.order.Name) })
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
