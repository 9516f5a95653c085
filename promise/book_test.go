package promise

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// bookNow is Tuesday 2026-12-01, 09:00 UTC: intake today.
const bookNow = "2026-12-01 09:00:00"

func soAt(t *testing.T, name string, created int, submitted bool, desired string, lines ...Line) Order {
	t.Helper()
	o := Order{Name: name, Confirm: true, Submitted: submitted, Lines: lines,
		Created: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(created) * time.Minute)}
	if desired != "" {
		o.DesiredDate = MustDate(t, desired)
	}
	return o
}

func ln(id, item string, qty float64) Line {
	return Line{ID: id, ItemCode: item, Warehouse: wh, Qty: qty}
}

func MustAllocate(tb testing.TB, bk Book, rules Rules) *Allocation {
	tb.Helper()
	a, err := Allocate(MustTime(tb, time.UTC, bookNow), bk, satSun(), rules)
	if err != nil {
		tb.Fatalf("Allocate: %v", err)
	}
	return a
}

func MustPlan(tb testing.TB, a *Allocation, name string) Plan {
	tb.Helper()
	p, err := a.Plan(name)
	if err != nil {
		tb.Fatalf("Plan(%s): %v", name, err)
	}
	return p
}

// brief is what a sales person reads on an order.
type brief struct {
	Promise    string
	Confidence Confidence
	Status     Status
	Kinds      []SourceKind
}

func briefOf(p Plan) brief {
	b := brief{Promise: p.PromiseDate.String(), Confidence: p.Confidence, Status: p.Status}
	for _, l := range p.Lines {
		for _, s := range l.Sources {
			if !slices.Contains(b.Kinds, s.Kind) {
				b.Kinds = append(b.Kinds, s.Kind)
			}
		}
	}
	return b
}

// The numbered cases of the order-book issue, with the dates worked out by
// hand. One item, 10 on hand at Stores - WH, lead time 30 days; today is
// Tuesday 2026-12-01; 1 processing and 1 buffer working day.
func TestBookCases(t *testing.T) {
	items := map[string]Item{"W": {Code: "W", IsStockItem: true, LeadTimeDays: 30}}
	onHand := Supply{Items: items, Stock: []Stock{stock("W", 10)}}
	rules := DefaultRules()
	// Lead time: today + 30 = Thu 2026-12-31 → ship-ready Fri 1 Jan → promise Mon 4 Jan.
	const leadTime = "2027-01-04"

	t.Run("the first order keeps its stock after a second one asks", func(t *testing.T) {
		a := soAt(t, "SO-A", 1, true, "2026-12-21", ln("1", "W", 10)) // wanted in 20 days
		b := soAt(t, "SO-B", 2, true, "2026-12-07", ln("1", "W", 10)) // wanted in 5 days, saved after
		got := MustAllocate(t, Book{Orders: []Order{b, a}, Supply: onHand}, rules)
		// SO-A ships on the day it asked for, from stock; SO-B waits for the lead time.
		want := map[string]brief{
			"SO-A": {Promise: "2026-12-21", Confidence: ConfidenceHigh, Status: StatusOK, Kinds: []SourceKind{SourceStock}},
			"SO-B": {Promise: leadTime, Confidence: ConfidenceLow, Status: StatusOK, Kinds: []SourceKind{SourceLeadTime}},
		}
		for name, w := range want {
			if diff := cmp.Diff(w, briefOf(MustPlan(t, got, name))); diff != "" {
				t.Errorf("%s (-want +got):\n%s", name, diff)
			}
		}
		p := MustPlan(t, got, "SO-B")
		if p.WorkingDaysLate != 20 || p.OnTime == nil || *p.OnTime {
			t.Errorf("SO-B: late %d working days, on time %v; want 20 and false", p.WorkingDaysLate, p.OnTime)
		}
	})

	t.Run("cancelling, closing or reducing the first frees the stock for the second", func(t *testing.T) {
		a := soAt(t, "SO-A", 1, true, "2026-12-21", ln("1", "W", 10))
		b := soAt(t, "SO-B", 2, true, "2026-12-07", ln("1", "W", 6))
		before := MustAllocate(t, Book{Orders: []Order{a, b}, Supply: onHand}, rules)
		if p := MustPlan(t, before, "SO-B"); p.PromiseDate.String() != leadTime {
			t.Fatalf("SO-B behind SO-A: %s, want the lead time %s", p.PromiseDate, leadTime)
		}
		reduced := soAt(t, "SO-A", 1, true, "2026-12-21", ln("1", "W", 4))
		for name, book := range map[string][]Order{
			"cancelled or closed (out of the book)": {b},
			"reduced from 10 to 4":                  {b, reduced},
		} {
			t.Run(name, func(t *testing.T) {
				got := MustAllocate(t, Book{Orders: book, Supply: onHand}, rules)
				if diff := cmp.Diff(brief{Promise: "2026-12-07", Confidence: ConfidenceHigh, Status: StatusOK,
					Kinds: []SourceKind{SourceStock}}, briefOf(MustPlan(t, got, "SO-B"))); diff != "" {
					t.Errorf("SO-B (-want +got):\n%s", diff)
				}
			})
		}
	})

	t.Run("an order needing goods later lets a sooner one ship from stock, a PO covers it", func(t *testing.T) {
		supply := onHand
		supply.Receipts = []Receipt{po(t, "PO-1", "W", 10, "2026-12-15")}
		a := soAt(t, "SO-A", 1, true, "2026-12-31", ln("1", "W", 10)) // needs goods in 30 days
		b := soAt(t, "SO-B", 2, true, "2026-12-04", ln("1", "W", 10)) // needs them in 3
		got := MustAllocate(t, Book{Orders: []Order{a, b}, Supply: supply}, rules)
		want := map[string]brief{
			// PO-1 on the 15th is 14 days out (> 7): a far PO is LOW.
			"SO-A": {Promise: "2026-12-31", Confidence: ConfidenceLow, Status: StatusOK, Kinds: []SourceKind{SourcePurchaseOrder}},
			"SO-B": {Promise: "2026-12-04", Confidence: ConfidenceHigh, Status: StatusOK, Kinds: []SourceKind{SourceStock}},
		}
		for name, w := range want {
			if diff := cmp.Diff(w, briefOf(MustPlan(t, got, name))); diff != "" {
				t.Errorf("%s (-want +got):\n%s", name, diff)
			}
		}
		if nd := MustPlan(t, got, "SO-A").Lines[0].NeedDate.String(); nd != "2026-12-29" {
			t.Errorf("SO-A books for %s, want 2026-12-29 (Thu 31 less 1 buffer and 1 processing day)", nd)
		}
	})

	t.Run("a ship-complete order waiting for a PO holds its other line from its ship date", func(t *testing.T) {
		supply := Supply{Items: map[string]Item{
			"W": {Code: "W", IsStockItem: true, LeadTimeDays: 30},
			"X": {Code: "X", IsStockItem: true},
		}, Stock: []Stock{stock("W", 10)}, Receipts: []Receipt{
			po(t, "PO-X", "X", 5, "2026-12-10"),
			po(t, "PO-W", "W", 10, "2026-12-08"),
		}}
		a := soAt(t, "SO-A", 1, true, "2026-12-04", ln("1", "W", 10), ln("2", "X", 5))
		b := soAt(t, "SO-B", 2, true, "2026-12-04", ln("1", "W", 10))
		got := MustAllocate(t, Book{Orders: []Order{a, b}, Supply: supply}, rules)
		// SO-A: X on Thu 10 → ship-ready Fri 11 → promise Mon 14, 6 working
		// days late; its W is needed on Thu 10 only, when PO-W (Tue 8) is in.
		pa := MustPlan(t, got, "SO-A")
		if pa.PromiseDate.String() != "2026-12-14" || pa.Lines[0].NeedDate.String() != "2026-12-10" || pa.WorkingDaysLate != 6 {
			t.Errorf("SO-A promise %s (%d late), W booked for %s; want 2026-12-14 (6), 2026-12-10",
				pa.PromiseDate, pa.WorkingDaysLate, pa.Lines[0].NeedDate)
		}
		if got := pa.Lines[0].Sources; len(got) != 1 || got[0].PurchaseOrder != "PO-W" {
			t.Errorf("SO-A's W comes from %+v, want PO-W", got)
		}
		// So SO-B ships its W from stock on the day it asked for.
		if diff := cmp.Diff(brief{Promise: "2026-12-04", Confidence: ConfidenceHigh, Status: StatusOK,
			Kinds: []SourceKind{SourceStock}}, briefOf(MustPlan(t, got, "SO-B"))); diff != "" {
			t.Errorf("SO-B (-want +got):\n%s", diff)
		}
	})

	t.Run("a draft never displaces a submitted order", func(t *testing.T) {
		draft := soAt(t, "SO-D", 0, false, "2026-12-04", ln("1", "W", 10)) // created first
		sub := soAt(t, "SO-S", 5, true, "2026-12-21", ln("1", "W", 10))
		got := MustAllocate(t, Book{Orders: []Order{draft, sub}, Supply: onHand}, rules)
		if p := MustPlan(t, got, "SO-S"); p.PromiseDate.String() != "2026-12-21" || p.Confidence != ConfidenceHigh {
			t.Errorf("submitted: %s %s, want 2026-12-21 HIGH", p.PromiseDate, p.Confidence)
		}
		if p := MustPlan(t, got, "SO-D"); p.PromiseDate.String() != leadTime {
			t.Errorf("draft: %s, want the lead time %s", p.PromiseDate, leadTime)
		}
		if !slices.Equal(got.Names(), []string{"SO-S", "SO-D"}) {
			t.Errorf("sequence %v, want the submitted order first", got.Names())
		}
	})

	t.Run("two orders for a month out are not both shown from the same units", func(t *testing.T) {
		a := soAt(t, "SO-A", 1, true, "2026-12-31", ln("1", "W", 10))
		b := soAt(t, "SO-B", 2, true, "2026-12-31", ln("1", "W", 10))
		got := MustAllocate(t, Book{Orders: []Order{a, b}, Supply: onHand}, rules)
		if pa, pb := MustPlan(t, got, "SO-A"), MustPlan(t, got, "SO-B"); pa.PromiseDate.String() != "2026-12-31" || pb.PromiseDate.String() != leadTime {
			t.Errorf("SO-A %s, SO-B %s; want 2026-12-31 and %s", pa.PromiseDate, pb.PromiseDate, leadTime)
		}
	})

	t.Run("delivery-date sequence serves the earliest requested first", func(t *testing.T) {
		r := rules
		r.Sequence = EarliestDeliveryFirst
		a := soAt(t, "SO-A", 1, true, "2026-12-21", ln("1", "W", 10))
		b := soAt(t, "SO-B", 2, true, "2026-12-07", ln("1", "W", 10))
		got := MustAllocate(t, Book{Orders: []Order{a, b}, Supply: onHand}, r)
		if p := MustPlan(t, got, "SO-B"); p.PromiseDate.String() != "2026-12-07" {
			t.Errorf("SO-B: %s, want 2026-12-07", p.PromiseDate)
		}
	})
}

func TestBookInvalidOrderIsLeftOut(t *testing.T) {
	items := map[string]Item{"W": {Code: "W", IsStockItem: true}}
	good := soAt(t, "SO-1", 1, true, "", ln("1", "W", 4))
	bad := soAt(t, "SO-2", 0, true, "", ln("1", "W", -1))
	a := MustAllocate(t, Book{Orders: []Order{bad, good, good}, Supply: Supply{Items: items, Stock: []Stock{stock("W", 5)}}}, DefaultRules())
	if _, err := a.Plan("SO-2"); !errors.Is(err, ErrInvalidInput) {
		t.Errorf("Plan(SO-2) = %v, want ErrInvalidInput", err)
	}
	if _, err := a.Plan("SO-9"); !errors.Is(err, ErrUnknownOrder) {
		t.Errorf("Plan(SO-9) = %v, want ErrUnknownOrder", err)
	}
	if p := MustPlan(t, a, "SO-1"); p.Status != StatusOK {
		t.Errorf("SO-1: %s, want OK", p.Status)
	}
}

// genBook draws a random book: a few items and warehouses so that orders
// collide, stock, POs (some overdue), reservations, lead times, drafts and
// multi-line orders, creation times with ties.
func genBook(tb testing.TB, r *rand.Rand) (time.Time, Book, Calendar, Rules) {
	tb.Helper()
	s := genScenario(tb, r)
	s.supply.Demand = nil
	today := DateOf(s.now.In(s.rules.Location))
	items := []string{"I0", "I1", "I2"}
	whs := []string{"W0", "W1"}
	qty := func(maxQ int) float64 { return float64(1+r.IntN(maxQ)) / float64(1+r.IntN(2)) }
	bk := Book{Supply: s.supply}
	for k := range 1 + r.IntN(9) {
		o := Order{Name: fmt.Sprintf("SO-%02d", k), Confirm: true, Submitted: r.IntN(5) != 0,
			Created: time.Date(2026, 11, 1, 0, r.IntN(20), 0, 0, time.UTC)}
		if r.IntN(6) != 0 {
			o.DesiredDate = today + Date(r.IntN(30)-3)
		}
		for j := range 1 + r.IntN(3) {
			l := Line{ID: fmt.Sprint(j + 1), ItemCode: items[r.IntN(3)], Warehouse: whs[r.IntN(2)], Qty: qty(12)}
			if r.IntN(4) == 0 && !o.DesiredDate.IsZero() {
				l.RequestedDate = o.DesiredDate - Date(r.IntN(5))
			}
			o.Lines = append(o.Lines, l)
		}
		bk.Orders = append(bk.Orders, o)
	}
	return s.now, bk, s.cal, s.rules
}

type bookCase struct {
	now   time.Time
	book  Book
	cal   Calendar
	rules Rules
	mut   mutation
}

func (c bookCase) plans(tb testing.TB) map[string]Plan {
	tb.Helper()
	a, err := allocate(c.now, c.book, c.cal, c.rules, c.mut)
	if err != nil {
		tb.Fatalf("Allocate: %v", err)
	}
	out := map[string]Plan{}
	for _, o := range c.book.Orders {
		p, err := a.Plan(o.Name)
		if err != nil {
			tb.Fatalf("Plan(%s): %v", o.Name, err)
		}
		out[o.Name] = p
	}
	return out
}

// seniorFirst returns the submitted orders of the book in first-come order.
func seniorFirst(bk Book) []Order {
	var out []Order
	for _, o := range bk.Orders {
		if o.Submitted {
			out = append(out, o)
		}
	}
	slices.SortStableFunc(out, func(a, b Order) int {
		if c := a.Created.Compare(b.Created); c != 0 {
			return c
		}
		if a.Name < b.Name {
			return -1
		}
		return 1
	})
	return out
}

type gk struct{ item, wh string }

// spec recomputes, from the plans alone, what the book must hold: each
// fulfillable submitted order claims the known supply of each stock line
// on the day its goods must be there for its promise (processing and buffer
// working days before it, never before the line's availability).
type spec struct {
	c       bookCase
	today   Date
	overdue Date
}

func newSpec(tb testing.TB, c bookCase) spec {
	today := DateOf(c.now.In(c.rules.Location))
	od, err := c.cal.NextWorkingDay(today+1, c.rules.NoWeekends)
	if err != nil {
		tb.Fatal(err)
	}
	return spec{c: c, today: today, overdue: od}
}

// supply returns the net supply events of a group: +lots, −reservations.
func (s spec) supply(g gk) map[Date]float64 {
	ev := map[Date]float64{}
	for _, st := range s.c.book.Supply.Stock {
		if st.ItemCode == g.item && st.Warehouse == g.wh {
			ev[s.today] += st.ActualQty - st.ReservedForProduction - st.ReservedForSubcontract
		}
	}
	for _, r := range s.c.book.Supply.Receipts {
		if r.ItemCode == g.item && r.Warehouse == g.wh && r.Qty > 0 {
			d := r.Date
			if d < s.today {
				d = s.overdue
			}
			ev[d] += r.Qty
		}
	}
	return ev
}

// need is the day a line's goods must be there for promise.
func (s spec) need(tb testing.TB, l LinePlan) Date {
	n := s.c.rules.ProcessingDays + s.c.rules.BufferDays
	for d := l.PromiseDate; d >= l.AvailableDate; d-- {
		if !s.c.cal.IsWorkingDay(d, s.c.rules.NoWeekends) {
			continue
		}
		if got, err := s.c.cal.AddWorkingDays(d, n, s.c.rules.NoWeekends); err == nil && got <= l.PromiseDate {
			return d
		}
	}
	return l.AvailableDate
}

func known(l LinePlan) float64 {
	q := 0.0
	for _, src := range l.Sources {
		if src.Kind != SourceLeadTime {
			q += src.Qty
		}
	}
	return q
}

func (s spec) stockLine(l LinePlan) bool {
	it, ok := s.c.book.Supply.Items[l.ItemCode]
	return !ok || (it.IsStockItem && !it.Disabled)
}

// claims returns the claims of the given orders' plans, by group.
func (s spec) claims(tb testing.TB, orders []Order, plans map[string]Plan) map[gk]map[Date]float64 {
	out := map[gk]map[Date]float64{}
	for _, o := range orders {
		p := plans[o.Name]
		if !p.CanFulfill {
			continue
		}
		for _, l := range p.Lines {
			if !s.stockLine(l) || known(l) <= eps {
				continue
			}
			g := gk{l.ItemCode, l.Warehouse}
			if out[g] == nil {
				out[g] = map[Date]float64{}
			}
			out[g][s.need(tb, l)] += known(l)
		}
	}
	return out
}

// cum returns the days of ev sorted, and the running sum at each.
func cum(evs ...map[Date]float64) ([]Date, []float64) {
	sum := map[Date]float64{}
	for _, ev := range evs {
		for d, v := range ev {
			sum[d] += v
		}
	}
	var days []Date
	for d := range sum {
		days = append(days, d)
	}
	slices.Sort(days)
	vals := make([]float64, len(days))
	s := 0.0
	for i, d := range days {
		s += sum[d]
		vals[i] = s
	}
	return days, vals
}

func negate(m map[Date]float64) map[Date]float64 {
	out := make(map[Date]float64, len(m))
	for d, v := range m {
		out[d] = -v
	}
	return out
}

// checkKeepable: replaying every booking against the supply never goes
// below zero on any day (below where the supply alone already was).
func (s spec) checkKeepable(tb testing.TB, plans map[string]Plan) error {
	for g, cl := range s.claims(tb, seniorFirst(s.c.book), plans) {
		base := s.supply(g)
		days, with := cum(base, negate(cl))
		for i, d := range days {
			b := 0.0
			for bd, v := range base {
				if bd <= d {
					b += v
				}
			}
			if with[i] < math.Min(0, b)-1e-6 {
				return fmt.Errorf("%v: %v left on %s after the bookings (supply alone %v)", g, with[i], d, b)
			}
		}
	}
	return nil
}

// checkNoIdleStock: no line could be available earlier from supply that no
// order ahead of it claimed. Orders with two lines on one item and
// warehouse are left out (their lines consume in line order).
func (s spec) checkNoIdleStock(tb testing.TB, plans map[string]Plan) error {
	seniors := seniorFirst(s.c.book)
	var drafts []Order
	for _, o := range s.c.book.Orders {
		if !o.Submitted {
			drafts = append(drafts, o)
		}
	}
	check := func(o Order, ahead []Order) error {
		p := plans[o.Name]
		seen := map[gk]int{}
		for _, l := range p.Lines {
			seen[gk{l.ItemCode, l.Warehouse}]++
		}
		cl := s.claims(tb, ahead, plans)
		for _, l := range p.Lines {
			g := gk{l.ItemCode, l.Warehouse}
			if !s.stockLine(l) || seen[g] > 1 {
				continue
			}
			days, vals := cum(s.supply(g), negate(cl[g]))
			days = append([]Date{s.today}, days...)
			vals = append([]float64{0}, vals...)
			for i := range days {
				if days[i] < s.today {
					continue
				}
				atp := math.Inf(1)
				for j := i; j < len(days); j++ {
					atp = math.Min(atp, vals[j])
				}
				// The value at day i counts only if it is the last entry of that day.
				if i+1 < len(days) && days[i+1] == days[i] {
					continue
				}
				if atp < l.QtyRequired-1e-6 {
					continue
				}
				avail, err := s.c.cal.NextWorkingDay(days[i], s.c.rules.NoWeekends)
				if err != nil {
					return err
				}
				avail = max(avail, s.intake(tb))
				if l.AvailableDate.IsZero() || avail < l.AvailableDate {
					return fmt.Errorf("%s line %s (%s): available %s from supply no order ahead claims, promised from %q",
						o.Name, l.LineID, l.ItemCode, avail, l.AvailableDate)
				}
				break
			}
		}
		return nil
	}
	for k, o := range seniors {
		if err := check(o, seniors[:k]); err != nil {
			return err
		}
	}
	for _, o := range drafts {
		if err := check(o, seniors); err != nil {
			return err
		}
	}
	return nil
}

func (s spec) intake(tb testing.TB) Date {
	loc := s.c.now.In(s.c.rules.Location)
	h, m, sec := loc.Clock()
	r := s.c.rules
	after := h > r.CutoffHour || (h == r.CutoffHour && (m > r.CutoffMinute || (m == r.CutoffMinute && (sec > 0 || loc.Nanosecond() > 0))))
	if s.c.cal.IsWorkingDay(s.today, r.NoWeekends) && !after {
		return s.today
	}
	d, err := s.c.cal.NextWorkingDay(s.today+1, r.NoWeekends)
	if err != nil {
		tb.Fatal(err)
	}
	return d
}

// checkSeniority: a new order appended last changes no submitted order's
// promise date.
func checkSeniority(tb testing.TB, c bookCase, plans map[string]Plan, r *rand.Rand) error {
	newer := c
	newer.book.Orders = slices.Clone(c.book.Orders)
	o := Order{Name: "SO-NEW", Confirm: true, Submitted: true, Created: time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC),
		DesiredDate: DateOf(c.now) + Date(r.IntN(10))}
	for j := range 1 + r.IntN(3) {
		o.Lines = append(o.Lines, Line{ID: fmt.Sprint(j + 1), ItemCode: fmt.Sprintf("I%d", r.IntN(3)),
			Warehouse: fmt.Sprintf("W%d", r.IntN(2)), Qty: float64(1 + r.IntN(20))})
	}
	newer.book.Orders = append(newer.book.Orders, o)
	after := newer.plans(tb)
	for _, so := range c.book.Orders {
		if so.Submitted && after[so.Name].PromiseDate != plans[so.Name].PromiseDate {
			return fmt.Errorf("%s moved from %s to %s when a newer order came", so.Name, plans[so.Name].PromiseDate, after[so.Name].PromiseDate)
		}
	}
	return nil
}

const bookRuns = 3000

// checkBook runs every invariant of the order book on n random books and
// returns the first violation.
func checkBook(tb testing.TB, mut mutation, n int, seed uint64) error {
	r := rand.New(rand.NewPCG(seed, 99))
	for i := range n {
		now, bk, cal, rules := genBook(tb, r)
		c := bookCase{now: now, book: bk, cal: cal, rules: rules, mut: mut}
		plans := c.plans(tb)
		s := newSpec(tb, c)
		if err := s.checkKeepable(tb, plans); err != nil {
			return fmt.Errorf("run %d: keepable: %w", i, err)
		}
		if err := s.checkNoIdleStock(tb, plans); err != nil {
			return fmt.Errorf("run %d: no idle stock: %w", i, err)
		}
		if err := checkSeniority(tb, c, plans, r); err != nil {
			return fmt.Errorf("run %d: seniority: %w", i, err)
		}
		shuffled := c
		shuffled.book.Orders = shuffle(r, bk.Orders)
		shuffled.book.Supply.Stock = shuffle(r, bk.Supply.Stock)
		shuffled.book.Supply.Receipts = shuffle(r, bk.Supply.Receipts)
		if diff := cmp.Diff(plans, shuffled.plans(tb)); diff != "" {
			return fmt.Errorf("run %d: deterministic: depends on input order (-first +shuffled):\n%s", i, diff)
		}
	}
	return nil
}

func TestPropertyBook(t *testing.T) {
	if err := checkBook(t, mutNone, bookRuns, 7); err != nil {
		t.Fatal(err)
	}
}

// TestPropertyBookCatchesBrokenEngines shows the invariants are not
// vacuous: each deliberately broken allocation fails them.
func TestPropertyBookCatchesBrokenEngines(t *testing.T) {
	for name, mut := range map[string]mutation{
		"books on the earliest day":          mutBookEarliest,
		"counts every order's requested qty": mutRequestedDemand,
	} {
		t.Run(name, func(t *testing.T) {
			err := checkBook(t, mut, bookRuns, 7)
			if err == nil {
				t.Fatal("no invariant failed")
			}
			t.Logf("caught: %v", err)
		})
	}
}

// TestRadixSortOrdersAsCompare checks the sequence's radix sort against a
// comparison sort, on keys with shared bytes, ties and instants before 1970.
func TestRadixSortOrdersAsCompare(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	for _, n := range []int{0, 1, 2, 3, 17, 1000} {
		keys := make([]seqKey, n)
		for k := range keys {
			keys[k] = seqKey{first: uint32(20000 + r.IntN(5)), created: uint64(r.Int64N(1<<20)-1<<19) ^ 1<<63, oi: int32(k)}
			if r.IntN(4) == 0 {
				keys[k].first = r.Uint32()
			}
			if r.IntN(3) == 0 {
				keys[k].created = r.Uint64()
			}
		}
		want := slices.Clone(keys)
		sort.SliceStable(want, func(i, j int) bool {
			x, y := want[i], want[j]
			return x.first < y.first || (x.first == y.first && x.created < y.created)
		})
		if got := radixSort(keys, make([]seqKey, n)); !slices.Equal(got, want) {
			t.Errorf("n = %d: radix sort differs from a stable comparison sort", n)
		}
	}
}

// A Summary is its order's Plan without what only a quote shows (reasons,
// blockers, options), and fails as the Plan does.
func TestPropertySummaryIsThePlansPromise(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 11))
	orders, differ := 0, 0
	for run := range bookRuns {
		now, bk, cal, rules := genBook(t, r)
		a, err := Allocate(now, bk, cal, rules)
		if err != nil {
			t.Fatalf("run %d: %v", run, err)
		}
		for _, o := range bk.Orders {
			full, ferr := a.Plan(o.Name)
			sum, serr := a.Summary(o.Name)
			if (ferr == nil) != (serr == nil) {
				t.Fatalf("run %d, %s: Plan err %v, Summary err %v", run, o.Name, ferr, serr)
			}
			if len(full.Reasons)+len(full.Options)+len(full.Blockers) > 0 {
				differ++
			}
			full.Reasons, full.Blockers, full.Options = nil, nil, nil
			if diff := cmp.Diff(full, sum); diff != "" {
				t.Fatalf("run %d, %s: Summary differs from the Plan's promise (-plan +summary):\n%s", run, o.Name, diff)
			}
			orders++
		}
	}
	if differ == 0 {
		t.Fatalf("no plan of %d had reasons or options: the test compares nothing Summary leaves out", orders)
	}
}
