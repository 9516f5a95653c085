package promise

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// scenario is one random input to Compute.
type scenario struct {
	now    time.Time
	order  Order
	supply Supply
	cal    Calendar
	rules  Rules
}

func (s scenario) compute(tb testing.TB) Plan {
	tb.Helper()
	p, err := Compute(s.now, s.order, s.supply, s.cal, s.rules)
	if err != nil {
		tb.Fatalf("Compute: %v\nscenario: %+v", err, s)
	}
	return p
}

var propZones = []string{"UTC", "America/New_York", "Asia/Kolkata"}

// genScenario draws a small, dense scenario: a few items and warehouses so
// that lines, stock, POs and other orders collide often.
func genScenario(tb testing.TB, r *rand.Rand) scenario {
	tb.Helper()
	start := MustDate(tb, "2026-11-25")
	today := start + Date(r.IntN(40))
	loc := MustLocation(tb, propZones[r.IntN(len(propZones))])
	now := time.Date(today.Time().Year(), today.Time().Month(), today.Time().Day(),
		r.IntN(24), r.IntN(60), r.IntN(60), 0, loc)

	cal := satSun()
	if r.IntN(3) == 0 {
		cal.Weekend = []time.Weekday{time.Friday, time.Saturday}
	}
	cal.Holidays = map[Date]string{}
	for range r.IntN(5) {
		cal.Holidays[today+Date(r.IntN(60))-3] = "Holiday"
	}
	if r.IntN(3) == 0 { // a Holiday List whose weekly offs are Sundays only
		cal.ListFrom, cal.ListTo = today-10, today+Date(r.IntN(40))
		cal.WeeklyOffs = map[Date]bool{}
		for d := cal.ListFrom; d <= cal.ListTo; d++ {
			if d.Weekday() == time.Sunday {
				cal.WeeklyOffs[d] = true
			}
		}
	}

	rules := DefaultRules()
	rules.Location = loc
	rules.ProcessingDays, rules.BufferDays = r.IntN(3), r.IntN(3)
	rules.NoWeekends = r.IntN(4) != 0
	if r.IntN(3) == 0 {
		rules.DefaultLeadTimeDays = 3 + r.IntN(20)
	}

	items := []string{"I0", "I1", "I2"}
	whs := []string{"W0", "W1"}
	sup := Supply{Items: map[string]Item{}}
	for _, it := range items {
		item := Item{Code: it, IsStockItem: r.IntN(12) != 0, Disabled: r.IntN(25) == 0}
		if r.IntN(3) == 0 {
			item.LeadTimeDays = 2 + r.IntN(25)
		}
		sup.Items[it] = item
	}
	qty := func(maxQ int) float64 { return float64(1+r.IntN(maxQ)) / float64(1+r.IntN(2)) }
	for _, it := range items {
		for _, w := range whs {
			if r.IntN(5) < 3 {
				s := Stock{ItemCode: it, Warehouse: w, ActualQty: float64(r.IntN(20))}
				if r.IntN(15) == 0 {
					s.ActualQty = -float64(r.IntN(5))
				}
				if r.IntN(4) == 0 {
					s.ReservedForProduction = float64(r.IntN(4))
				}
				sup.Stock = append(sup.Stock, s)
			}
		}
	}
	for k := range r.IntN(7) {
		sup.Receipts = append(sup.Receipts, Receipt{ItemCode: items[r.IntN(3)], Warehouse: whs[r.IntN(2)],
			Qty: qty(10), Date: today + Date(r.IntN(46)-5), PurchaseOrder: fmt.Sprintf("PO-%d", k%4)})
	}
	for k := range r.IntN(7) {
		so := fmt.Sprintf("SO-%d", k+2)
		if r.IntN(8) == 0 {
			so = "SO-1" // the order itself: must be ignored
		}
		sup.Demand = append(sup.Demand, Demand{ItemCode: items[r.IntN(3)], Warehouse: whs[r.IntN(2)],
			Qty: qty(10), Due: today + Date(r.IntN(46)-5), SalesOrder: so})
	}
	if r.IntN(10) == 0 {
		sup.Warnings = []string{"Bin: timeout"}
	}

	order := Order{Name: "SO-1"}
	for k := range 1 + r.IntN(4) {
		order.Lines = append(order.Lines, Line{ID: fmt.Sprint(k + 1), ItemCode: items[r.IntN(3)],
			Warehouse: whs[r.IntN(2)], Qty: qty(15)})
	}
	if r.IntN(3) == 0 {
		order.DesiredDate = today + Date(r.IntN(20))
		order.DesiredDateMode = []DesiredDateMode{LatestAcceptable, StrictFail, NoEarlyDelivery}[r.IntN(3)]
	}
	return scenario{now: now, order: order, supply: sup, cal: cal, rules: rules}
}

// moreSupply adds a PO line or stock for an item and warehouse of the order.
func moreSupply(s scenario, r *rand.Rand) scenario {
	l := s.order.Lines[r.IntN(len(s.order.Lines))]
	today := DateOf(s.now.In(s.rules.Location))
	if r.IntN(2) == 0 {
		s.supply.Receipts = append(slices.Clone(s.supply.Receipts), Receipt{ItemCode: l.ItemCode, Warehouse: l.Warehouse,
			Qty: float64(1 + r.IntN(10)), Date: today + Date(r.IntN(46)-5), PurchaseOrder: "PO-NEW"})
	} else {
		s.supply.Stock = append(slices.Clone(s.supply.Stock), Stock{ItemCode: l.ItemCode, Warehouse: l.Warehouse,
			ActualQty: float64(1 + r.IntN(10))})
	}
	return s
}

// moreDemand adds another order's demand for an item and warehouse of the order.
func moreDemand(s scenario, r *rand.Rand) scenario {
	l := s.order.Lines[r.IntN(len(s.order.Lines))]
	today := DateOf(s.now.In(s.rules.Location))
	s.supply.Demand = append(slices.Clone(s.supply.Demand), Demand{ItemCode: l.ItemCode, Warehouse: l.Warehouse,
		Qty: float64(1 + r.IntN(10)), Due: today + Date(r.IntN(46)-5), SalesOrder: "SO-NEW"})
	return s
}

func totalShortage(p Plan) float64 {
	s := 0.0
	for _, l := range p.Lines {
		s += l.Shortage
	}
	return s
}

const propRuns = 3000

func TestPropertyMoreSupplyNeverLater(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := range propRuns {
		s := genScenario(t, r)
		base := s.compute(t)
		more := moreSupply(s, r)
		got := more.compute(t)
		if base.CanFulfill && (!got.CanFulfill || got.PromiseDateRaw > base.PromiseDateRaw) {
			t.Fatalf("run %d: more supply made the promise later: %s (fulfil %v) → %s (fulfil %v)\nadded: %+v",
				i, base.PromiseDateRaw, base.CanFulfill, got.PromiseDateRaw, got.CanFulfill, more.supply)
		}
		if got.PromiseDate > base.PromiseDate && !base.PromiseDate.IsZero() {
			t.Fatalf("run %d: promise %s → %s with more supply", i, base.PromiseDate, got.PromiseDate)
		}
		if totalShortage(got) > totalShortage(base)+1e-9 {
			t.Fatalf("run %d: more supply increased the shortage %v → %v", i, totalShortage(base), totalShortage(got))
		}
	}
}

func TestPropertyMoreDemandNeverEarlier(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for i := range propRuns {
		s := genScenario(t, r)
		base := s.compute(t)
		more := moreDemand(s, r)
		got := more.compute(t)
		if got.CanFulfill && (!base.CanFulfill || got.PromiseDateRaw < base.PromiseDateRaw) {
			t.Fatalf("run %d: more demand made the promise earlier: %s (fulfil %v) → %s (fulfil %v)",
				i, base.PromiseDateRaw, base.CanFulfill, got.PromiseDateRaw, got.CanFulfill)
		}
		if got.PromiseDate < base.PromiseDate && !got.PromiseDate.IsZero() {
			t.Fatalf("run %d: promise %s → %s with more demand", i, base.PromiseDate, got.PromiseDate)
		}
		if totalShortage(got) < totalShortage(base)-1e-9 {
			t.Fatalf("run %d: more demand reduced the shortage %v → %v", i, totalShortage(base), totalShortage(got))
		}
	}
}

// TestPropertyInvariants checks, on random inputs, that every date is a
// working day on or after today, that sources add up to the line (nothing
// promised twice), and that the answer does not depend on input order.
func TestPropertyInvariants(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for i := range propRuns {
		s := genScenario(t, r)
		p := s.compute(t)
		fail := func(format string, args ...any) {
			t.Helper()
			t.Fatalf("run %d: "+format+"\nplan: %+v", append([]any{i}, append(args, p)...)...)
		}
		today := DateOf(s.now.In(s.rules.Location))
		working := func(d Date) bool { return s.cal.IsWorkingDay(d, s.rules.NoWeekends) }
		checkDate := func(what string, d Date) {
			if d < today || !working(d) {
				fail("%s %s is not a working day on or after today %s", what, d, today)
			}
		}
		checkDate("raw promise", p.PromiseDateRaw)
		if p.CanFulfill != !p.PromiseDate.IsZero() {
			fail("CanFulfill %v with promise %q", p.CanFulfill, p.PromiseDate)
		}
		if !p.PromiseDate.IsZero() {
			checkDate("promise", p.PromiseDate)
		}
		if p.Adjusted && p.PromiseDate.IsZero() {
			fail("adjusted without a promise")
		}
		type lotKey struct {
			kind          SourceKind
			po, item, whs string
		}
		used := map[lotKey]float64{}
		for k, l := range p.Lines {
			if (l.Shortage > 0) == !l.AvailableDate.IsZero() {
				fail("line %d: shortage %v with availability %q", k, l.Shortage, l.AvailableDate)
			}
			if !l.AvailableDate.IsZero() {
				checkDate("line availability", l.AvailableDate)
				checkDate("line ship-ready", l.ShipReadyDate)
				checkDate("line promise", l.PromiseDate)
				if l.PromiseDate > p.PromiseDateRaw {
					fail("line %d promise %s after the order's %s", k, l.PromiseDate, p.PromiseDateRaw)
				}
			}
			got := l.Shortage
			for _, src := range l.Sources {
				got += src.Qty
				if src.AvailableDate > l.AvailableDate && !l.AvailableDate.IsZero() {
					fail("line %d: source available %s after the line %s", k, src.AvailableDate, l.AvailableDate)
				}
				if src.Kind != SourceLeadTime {
					used[lotKey{src.Kind, src.PurchaseOrder, l.ItemCode, l.Warehouse}] += src.Qty
				}
			}
			if it, ok := s.supply.Items[l.ItemCode]; ok && !it.IsStockItem && !it.Disabled {
				continue // non-stock lines have no source
			}
			if math.Abs(got-l.QtyRequired) > 1e-6 {
				fail("line %d: sources + shortage = %v, want %v", k, got, l.QtyRequired)
			}
		}
		have := map[lotKey]float64{}
		for _, st := range s.supply.Stock {
			have[lotKey{SourceStock, "", st.ItemCode, st.Warehouse}] += st.ActualQty
		}
		for _, rc := range s.supply.Receipts {
			have[lotKey{SourcePurchaseOrder, rc.PurchaseOrder, rc.ItemCode, rc.Warehouse}] += rc.Qty
		}
		for k, q := range used {
			if q > have[k]+1e-6 {
				fail("%+v: %v promised out of %v", k, q, have[k])
			}
		}

		again := s.compute(t)
		if diff := cmp.Diff(p, again); diff != "" {
			t.Fatalf("run %d: not deterministic (-first +second):\n%s", i, diff)
		}
		shuffled := s
		shuffled.supply.Stock = shuffle(r, s.supply.Stock)
		shuffled.supply.Receipts = shuffle(r, s.supply.Receipts)
		shuffled.supply.Demand = shuffle(r, s.supply.Demand)
		if diff := cmp.Diff(p, shuffled.compute(t)); diff != "" {
			t.Fatalf("run %d: depends on input order (-first +shuffled):\n%s", i, diff)
		}
	}
}

func shuffle[T any](r *rand.Rand, s []T) []T {
	c := slices.Clone(s)
	r.Shuffle(len(c), func(i, j int) { c[i], c[j] = c[j], c[i] })
	return c
}
