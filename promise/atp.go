package promise

import (
	"cmp"
	"math"
	"slices"
	"sort"
	"strings"
)

// eps is the float tolerance: differences below it count as zero.
const eps = 1e-9

// lot is one piece of supply for an item in a warehouse: the stock on hand
// (counted at today) or an open Purchase Order line.
type lot struct {
	eff      Date // the day it counts in ATP
	expected Date // the PO's own date
	qty      float64
	po       string
	stock    bool // stock on hand, else a PO line
	overdue  bool
}

func (l lot) kind() SourceKind {
	if l.stock {
		return SourceStock
	}
	return SourcePurchaseOrder
}

// lotLess orders lots by the day they count, stock before POs, then by the
// PO's own date, name and quantity: a total order up to identical lots.
func lotLess(a, b lot) int {
	switch {
	case a.eff != b.eff:
		return cmp.Compare(a.eff, b.eff)
	case a.stock != b.stock:
		if a.stock {
			return -1
		}
		return 1
	case a.expected != b.expected:
		return cmp.Compare(a.expected, b.expected)
	case a.po != b.po:
		return strings.Compare(a.po, b.po)
	}
	return cmp.Compare(a.qty, b.qty)
}

// Ranks order claims needed on the same day: negative stock first, then
// the supply's fixed claims (reservations, Supply.Demand), then bookings in
// sequence.
const (
	rankNegativeStock = iota
	rankFixed
	rankBooked
)

// claim is a quantity of an item in a warehouse needed by a day: a fixed
// claim, or a line's booking.
type claim struct {
	need Date
	rank int32
	seq  int32 // the booking order's position in the sequence
	line int32 // the booking line in book.lines, -1 for a fixed claim
	qty  float64
}

// claimLess is first needed, first served; on a day, fixed claims first,
// then bookings in sequence and line order.
func claimLess(a, b claim) int {
	switch {
	case a.need != b.need:
		return cmp.Compare(a.need, b.need)
	case a.rank != b.rank:
		return cmp.Compare(a.rank, b.rank)
	case a.seq != b.seq:
		return cmp.Compare(a.seq, b.seq)
	case a.line != b.line:
		return cmp.Compare(a.line, b.line)
	}
	return cmp.Compare(a.qty, b.qty)
}

// smallSort is the length up to which sortLots and sortClaims sort by
// insertion. A group holds a few lots and a dozen claims or so, and the
// book sorts thousands of groups: an insertion sort that decides most
// steps on the day costs a fraction of slices.SortFunc's call a
// comparison. lotLess and claimLess are total orders up to identical
// elements, so both sorts give the same result.
const smallSort = 16

// sortLots sorts lots by lotLess (see smallSort).
func sortLots(l []lot) {
	if len(l) > smallSort {
		slices.SortFunc(l, lotLess)
		return
	}
	for i := 1; i < len(l); i++ {
		x := l[i]
		j := i
		for ; j > 0 && (x.eff < l[j-1].eff || (x.eff == l[j-1].eff && lotLess(x, l[j-1]) < 0)); j-- {
			l[j] = l[j-1]
		}
		l[j] = x
	}
}

// sortClaims sorts claims by claimLess (see smallSort).
func sortClaims(c []claim) {
	if len(c) > smallSort {
		slices.SortFunc(c, claimLess)
		return
	}
	for i := 1; i < len(c); i++ {
		x := c[i]
		j := i
		for ; j > 0 && (x.need < c[j-1].need || (x.need == c[j-1].need && claimLess(x, c[j-1]) < 0)); j-- {
			c[j] = c[j-1]
		}
		c[j] = x
	}
}

// group is the supply of one item in one warehouse and the claims on it.
// Its fields are in the order the book reads them, so that finding a
// group and then placing a line on it read few cache lines.
type group struct {
	wh   string
	next int // the item's next group, -1 for none
	// While the book is built: how many receipts and demand records fall
	// on it (book.nLines counts its lines), to size lots and claims.
	nLots, nClaims int32
	prepared       bool // see book.prepareGroup
	tree           residual
	claims         []claim // the supply's fixed claims, then bookings; sorted by claimLess once pegged
	lots           []lot   // sorted by lotLess
	item           string
	onHand         float64 // Σ Bin.actual_qty
	reserved       float64 // Σ reserved for production and sub-contracting
	// After pegging: the cumulative quantity of the lots, and of the
	// claims, in their order.
	lotCum, claimCum []float64
}

// outcomeKind says how a stock line is covered.
type outcomeKind uint8

const (
	coveredBySupply   outcomeKind = iota // known supply covers it
	coveredByLeadTime                    // known supply is short or later than the lead time
	shortOfSupply                        // no date: a shortage
)

// allocPart is a quantity of one lot attributed to a line.
type allocPart struct {
	lot int
	qty float64
}

// outcome is the availability of one stock line in its group.
type outcome struct {
	take  float64 // quantity taken from known supply
	start Date    // the raw day the line's supply is there (before rolling to a working day)
	avail Date    // availability: a working day on or after the intake day; zero for a shortage
	kind  outcomeKind
}

// peg hands each group's supply to its claims first needed, first served:
// claims in need order take lots in arrival order. Every booking was made
// where ATP covered it, so the supply arrived by a claim's day covers every
// claim needed by then, and each booked line's lots arrive by its need day.
func (b *book) peg() {
	for gi := range b.groups {
		g := &b.groups[gi]
		if !g.prepared {
			continue // no line on it: nothing booked, nothing to peg
		}
		sortClaims(g.claims)
		g.lotCum = cumulative(b.floats.take(len(g.lots)), len(g.lots), func(i int) float64 { return g.lots[i].qty })
		g.claimCum = cumulative(b.floats.take(len(g.claims)), len(g.claims), func(i int) float64 { return g.claims[i].qty })
		for k, c := range g.claims {
			if c.line >= 0 {
				l := &b.lines[c.line]
				l.partFrom, l.partTo = b.cover(g, g.claimCum[k]-c.qty, c.qty)
			}
		}
	}
}

func cumulative(dst []float64, n int, qty func(int) float64) []float64 {
	dst = slices.Grow(dst[:0], n)
	s := 0.0
	for i := range n {
		s += qty(i)
		dst = append(dst, s)
	}
	return dst
}

// pegAppended pegs the lines from:to of an order appended after the book
// (a draft or a quote) among the book's claims, as if it had booked: each
// line comes after every claim needed on or before its day, and after the
// order's own lines on the group needed before it (or on its day, earlier
// in the order).
func (b *book) pegAppended(from, to int) {
	for k := from; k < to; k++ {
		l := &b.lines[k]
		if l.kind != lineStock || l.out.take <= eps {
			continue
		}
		g := &b.groups[l.group]
		if len(g.lotCum) != len(g.lots) || len(g.claimCum) != len(g.claims) {
			// A group no submitted order touched since it was created.
			sortClaims(g.claims)
			g.lotCum = cumulative(g.lotCum, len(g.lots), func(i int) float64 { return g.lots[i].qty })
			g.claimCum = cumulative(g.claimCum, len(g.claims), func(i int) float64 { return g.claims[i].qty })
		}
		n := sort.Search(len(g.claims), func(i int) bool { return g.claims[i].need > l.need })
		before := 0.0
		if n > 0 {
			before = g.claimCum[n-1]
		}
		for j := from; j < to; j++ {
			o := &b.lines[j]
			if j != k && o.kind == lineStock && o.group == l.group && (o.need < l.need || (o.need == l.need && j < k)) {
				before += o.out.take
			}
		}
		l.partFrom, l.partTo = b.cover(g, before, l.out.take)
	}
}

// cover appends the parts of g's lots that lie between cumulative
// quantities from and from+qty, and returns where they are in b.parts.
func (b *book) cover(g *group, from, qty float64) (int32, int32) {
	start := int32(len(b.parts))
	i := sort.Search(len(g.lotCum), func(i int) bool { return g.lotCum[i] > from+eps })
	for left := qty; left > eps && i < len(g.lots); i++ {
		avail := g.lotCum[i] - math.Max(from, g.lotCum[i]-g.lots[i].qty)
		q := math.Min(avail, left)
		if q > eps {
			b.parts = append(b.parts, allocPart{lot: i, qty: q})
			left -= q
			from += q
		}
	}
	return start, int32(len(b.parts))
}

func clamp(v, lo, hi float64) float64 {
	return math.Max(lo, math.Min(hi, v))
}
