package promise

import (
	"cmp"
	"math"
	"slices"
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

// Ranks order needs due on the same day: negative stock first, then other
// orders' demand, then this order's lines in line order.
const (
	rankNegativeStock = iota
	rankCompeting
	rankOwn
)

// need is demand on an item in a warehouse due on a day.
type need struct {
	due  Date
	rank int32
	qty  float64
	line int // the group's line for rankOwn, else -1
}

// group is the supply and demand picture of one item in one warehouse.
type group struct {
	item, wh string
	onHand   float64 // Σ Bin.actual_qty
	reserved float64 // Σ reserved for production and sub-contracting
	nLots    int     // receipts counted while bucketing
	nNeeds   int     // needs counted while bucketing
	sorted   bool
	lots     []lot  // sorted by lotLess
	needs    []need // competing demand, sorted by needLess
	lines    []int  // this order's lines on the group, in line order
}

// sort puts lots and needs in order, once. Elements that compare equal are
// interchangeable, so an unstable sort still gives one answer whatever the
// input order.
func (g *group) sort() {
	if !g.sorted {
		slices.SortFunc(g.lots, lotLess)
		slices.SortFunc(g.needs, needLess)
		g.sorted = true
	}
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

// needLess orders needs by due day, then rank, line and quantity.
func needLess(a, b need) int {
	switch {
	case a.due != b.due:
		return cmp.Compare(a.due, b.due)
	case a.rank != b.rank:
		return cmp.Compare(a.rank, b.rank)
	case a.line != b.line:
		return cmp.Compare(a.line, b.line)
	}
	return cmp.Compare(a.qty, b.qty)
}

// outcomeKind says how a stock line is covered.
type outcomeKind int

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
	kind  outcomeKind
	start Date    // the raw day the line's supply is there (before rolling to a working day)
	avail Date    // availability: a working day on or after the intake day; zero for a shortage
	take  float64 // quantity taken from known supply
	alloc []allocPart
}

// timeline is the net change of supply minus demand per day, sorted by day.
type timeline struct {
	dates []Date
	delta []float64
	cum   []float64
	suf   []float64 // suf[i] = min(cum[i:]); suf[len] = +Inf
}

// reset loads the lots and needs (both sorted by day), reusing t's arrays.
func (t *timeline) reset(lots []lot, needs []need) {
	t.dates, t.delta = t.dates[:0], t.delta[:0]
	i, j := 0, 0
	for i < len(lots) || j < len(needs) {
		var d Date
		var v float64
		if j >= len(needs) || (i < len(lots) && lots[i].eff <= needs[j].due) {
			d, v = lots[i].eff, lots[i].qty
			i++
		} else {
			d, v = needs[j].due, -needs[j].qty
			j++
		}
		if n := len(t.dates); n > 0 && t.dates[n-1] == d {
			t.delta[n-1] += v
		} else {
			t.dates = append(t.dates, d)
			t.delta = append(t.delta, v)
		}
	}
}

// add records qty more demand on day d.
func (t *timeline) add(d Date, qty float64) {
	i, found := slices.BinarySearch(t.dates, d)
	if found {
		t.delta[i] -= qty
		return
	}
	t.dates = slices.Insert(t.dates, i, d)
	t.delta = slices.Insert(t.delta, i, -qty)
}

// prepare computes the cumulative net and its suffix minimum.
func (t *timeline) prepare() {
	n := len(t.dates)
	t.cum = slices.Grow(t.cum[:0], n)[:n]
	t.suf = slices.Grow(t.suf[:0], n+1)[:n+1]
	s := 0.0
	for i, v := range t.delta {
		s += v
		t.cum[i] = s
	}
	t.suf[n] = math.Inf(1)
	for i := n - 1; i >= 0; i-- {
		t.suf[i] = math.Min(t.cum[i], t.suf[i+1])
	}
}

// atp returns ATP(d) = min over t >= d of S(t) − D(t) (DESIGN.md §5.2).
// prepare must have been called.
func (t *timeline) atp(d Date) float64 {
	k, found := slices.BinarySearch(t.dates, d)
	if found {
		k++
	}
	cur := 0.0
	if k > 0 {
		cur = t.cum[k-1]
	}
	return math.Min(cur, t.suf[k])
}

// earliest returns the earliest day d >= today with ATP(d) >= q. ATP is
// non-decreasing in d and only changes on event days, so the answer is
// today or an event day.
func (t *timeline) earliest(today Date, q float64) (Date, bool) {
	if t.atp(today) >= q-eps {
		return today, true
	}
	k, _ := slices.BinarySearch(t.dates, today+1)
	for i := k; i < len(t.dates); i++ {
		if t.suf[i] >= q-eps {
			return t.dates[i], true
		}
	}
	return 0, false
}

// horizon is the last day anything is known to happen (today at least).
func (t *timeline) horizon(today Date) Date {
	if n := len(t.dates); n > 0 && t.dates[n-1] > today {
		return t.dates[n-1]
	}
	return today
}

// groupEnv is what planning a group needs from the engine.
type groupEnv struct {
	cal    *workCal
	today  Date
	intake Date
	qty    []float64 // per order line
	lead   []int     // per order line: lead-time days, 0 for none
}

// availOf rolls a raw day forward to a working day, never before the intake day.
func (env *groupEnv) availOf(d Date) (Date, error) {
	if d < env.intake {
		return env.intake, nil
	}
	return env.cal.next(d)
}

// planGroup finds each of the group's order lines a day, in line order, with
// each found line's quantity joining the demand on that day; then it
// attributes supply lots to lines. The returned outcomes are indexed like
// g.lines. lots may differ from g.lots (what-if analysis for expedite_po).
// t is scratch space; it ends holding the timeline after the order, prepared.
func planGroup(env *groupEnv, g *group, lots []lot, t *timeline) ([]outcome, error) {
	t.reset(lots, g.needs)
	outs := make([]outcome, len(g.lines))
	own := make([]need, 0, len(g.lines))
	for k, li := range g.lines {
		t.prepare()
		q := env.qty[li]
		o := outcome{}
		var consumeOn Date
		d, found := t.earliest(env.today, q)
		var knownAvail Date
		if found {
			var err error
			if knownAvail, err = env.availOf(d); err != nil {
				return nil, err
			}
		}
		var ltStart, ltAvail Date
		if lt := env.lead[li]; lt > 0 {
			ltStart = env.today.AddDays(lt)
			var err error
			if ltAvail, err = env.availOf(ltStart); err != nil {
				return nil, err
			}
		}
		switch {
		case found && (ltAvail.IsZero() || knownAvail <= ltAvail):
			// Known supply, unless the replenishment lead time is
			// sooner (SAP's RLT: beyond it, ATP confirms at the lead time).
			o = outcome{kind: coveredBySupply, start: d, avail: knownAvail, take: q}
			consumeOn = d
		case !ltAvail.IsZero():
			take := clamp(t.atp(ltAvail), 0, q)
			o = outcome{kind: coveredByLeadTime, start: ltStart, avail: ltAvail, take: take}
			consumeOn = ltAvail
		default:
			h := t.horizon(env.today)
			o = outcome{kind: shortOfSupply, start: h, take: clamp(t.atp(h), 0, q)}
			consumeOn = h
		}
		if o.take > eps {
			t.add(consumeOn, o.take)
			own = append(own, need{due: consumeOn, qty: o.take, rank: rankOwn, line: k})
		}
		outs[k] = o
	}
	attribute(lots, g.needs, own, outs)
	t.prepare()
	return outs, nil
}

// attribute hands supply lots to demand first-come first-served: needs in
// due order (other orders before this order's lines on the same day) take
// lots in arrival order. Each line's quantity then comes from lots that
// arrive no later than its day: everything due by that day fits in the
// supply arrived by then, because ATP held when the day was chosen.
func attribute(lots []lot, competing, own []need, outs []outcome) {
	if len(own) == 0 {
		return
	}
	all := make([]need, 0, len(competing)+len(own))
	all = append(all, competing...)
	all = append(all, own...)
	slices.SortStableFunc(all, needLess)
	last := all[0].due
	for _, n := range own {
		last = max(last, n.due)
	}
	rem := make([]float64, len(lots))
	for i, l := range lots {
		rem[i] = l.qty
	}
	p := 0
	for _, n := range all {
		if n.due > last {
			break // nothing of ours is due after this
		}
		r := n.qty
		for r > eps && p < len(lots) {
			if rem[p] <= eps {
				p++
				continue
			}
			q := math.Min(rem[p], r)
			rem[p] -= q
			r -= q
			if n.rank == rankOwn {
				outs[n.line].alloc = append(outs[n.line].alloc, allocPart{lot: p, qty: q})
			}
		}
	}
}

func clamp(v, lo, hi float64) float64 {
	return math.Max(lo, math.Min(hi, v))
}
