package promise

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// benchScenario is the done-when load: one order of 100 lines against
// 10,000 supply and demand records spread over 100 items × 4 warehouses
// (400 Bin rows, 4,800 open PO lines, 4,800 other orders' lines), on a
// Holiday List calendar. In the "mixed" variant a quarter of the items have
// no lead time, so some lines are short (CANNOT_FULFILL); in "fulfillable"
// every item has one, so the order gets a date and the expedite_po what-ifs
// run too.
func benchScenario(tb testing.TB, fulfillable bool) scenario {
	tb.Helper()
	r := rand.New(rand.NewPCG(42, 2026))
	today := MustDate(tb, "2026-12-01")
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	const items, whs, receipts, demands, lines = 100, 4, 4800, 4800, 100
	item := func(i int) string { return fmt.Sprintf("ITEM-%03d", i) }
	warehouse := func(i int) string { return fmt.Sprintf("WH-%d - CO", i) }

	cal := Calendar{
		Weekend:    []time.Weekday{time.Saturday, time.Sunday},
		ListFrom:   MustDate(tb, "2026-01-01"),
		ListTo:     MustDate(tb, "2027-12-31"),
		WeeklyOffs: map[Date]bool{},
		Holidays:   map[Date]string{},
	}
	for d := cal.ListFrom; d <= cal.ListTo; d++ {
		if wd := d.Weekday(); wd == time.Saturday || wd == time.Sunday {
			cal.WeeklyOffs[d] = true
		}
	}
	for _, h := range []string{"2026-12-08", "2026-12-24", "2026-12-25", "2026-12-31", "2027-01-01", "2027-04-02"} {
		cal.Holidays[MustDate(tb, h)] = "Holiday"
	}

	sup := Supply{Items: map[string]Item{}}
	for i := range items {
		lead := []int{0, 0, 14, 30}[i%4]
		if fulfillable && lead == 0 {
			lead = 21
		}
		sup.Items[item(i)] = Item{Code: item(i), IsStockItem: true, LeadTimeDays: lead}
		for w := range whs {
			sup.Stock = append(sup.Stock, Stock{ItemCode: item(i), Warehouse: warehouse(w),
				ActualQty: float64(r.IntN(200)), ReservedForProduction: float64(r.IntN(10))})
		}
	}
	for k := range receipts {
		sup.Receipts = append(sup.Receipts, Receipt{ItemCode: item(r.IntN(items)), Warehouse: warehouse(r.IntN(whs)),
			Qty: float64(10 + r.IntN(90)), Date: today + Date(r.IntN(100)-10), PurchaseOrder: fmt.Sprintf("PUR-ORD-2026-%05d", k/4)})
	}
	for k := range demands {
		sup.Demand = append(sup.Demand, Demand{ItemCode: item(r.IntN(items)), Warehouse: warehouse(r.IntN(whs)),
			Qty: float64(5 + r.IntN(60)), Due: today + Date(r.IntN(100)-10), SalesOrder: fmt.Sprintf("SAL-ORD-2026-%05d", k/3)})
	}
	order := Order{Name: "SAL-ORD-2026-99999"}
	for i := range lines {
		order.Lines = append(order.Lines, Line{ID: fmt.Sprint(i + 1), ItemCode: item(i), Warehouse: warehouse(i % whs),
			Qty: float64(5 + r.IntN(100))})
	}
	rules := DefaultRules()
	return scenario{now: now, order: order, supply: sup, cal: cal, rules: rules}
}

func BenchmarkCompute100Lines10kRecords(b *testing.B) {
	for _, v := range []struct {
		name        string
		fulfillable bool
	}{{"mixed", false}, {"fulfillable", true}} {
		b.Run(v.name, func(b *testing.B) {
			s := benchScenario(b, v.fulfillable)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Compute(s.now, s.order, s.supply, s.cal, s.rules); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestBenchScenarioExercisesTheEngine keeps the benchmark honest: its order
// must mix stock, POs, lead time and earmarked stock, not short-circuit.
func TestBenchScenarioExercisesTheEngine(t *testing.T) {
	for _, fulfillable := range []bool{false, true} {
		s := benchScenario(t, fulfillable)
		if n := len(s.supply.Stock) + len(s.supply.Receipts) + len(s.supply.Demand); n != 10000 {
			t.Fatalf("records = %d, want 10000", n)
		}
		p := s.compute(t)
		kinds := map[SourceKind]int{}
		later, options := 0, map[string]int{}
		for _, l := range p.Lines {
			for _, src := range l.Sources {
				kinds[src.Kind]++
			}
			if l.AvailableDate > MustDate(t, "2026-12-01") {
				later++
			}
		}
		for _, o := range p.Options {
			options[o.Type]++
		}
		t.Logf("fulfillable %v: status %s, promise %s, confidence %s, sources %v, lines after today %d, options %v",
			fulfillable, p.Status, p.PromiseDate, p.Confidence, kinds, later, options)
		if kinds[SourceStock] == 0 || kinds[SourcePurchaseOrder] == 0 || kinds[SourceLeadTime] == 0 || later == 0 {
			t.Errorf("benchmark scenario too easy: sources %v, %d lines after today", kinds, later)
		}
		if p.CanFulfill != fulfillable {
			t.Errorf("fulfillable variant %v: CanFulfill = %v", fulfillable, p.CanFulfill)
		}
	}
}
