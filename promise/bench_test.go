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

// benchBook is a book of lines open lines over items items, with receipts
// open PO lines, stock for half the items, drafts one order in ten, and
// up to four lines an order. skew puts every line on the first item.
func benchBook(tb testing.TB, lines, items, receipts int, skew bool) (time.Time, Book) {
	tb.Helper()
	r := rand.New(rand.NewPCG(42, 42))
	now := MustTime(tb, time.UTC, "2026-12-01 09:00:00")
	today := DateOf(now)
	bk := Book{Supply: Supply{Items: make(map[string]Item, items)}}
	code := func(i int) string { return fmt.Sprintf("SKU-%05d", i) }
	for i := range items {
		bk.Supply.Items[code(i)] = Item{Code: code(i), IsStockItem: true, LeadTimeDays: r.IntN(3) * 10}
		if i%2 == 0 {
			bk.Supply.Stock = append(bk.Supply.Stock, Stock{ItemCode: code(i), Warehouse: wh, ActualQty: float64(r.IntN(200))})
		}
	}
	for k := range receipts {
		bk.Supply.Receipts = append(bk.Supply.Receipts, Receipt{ItemCode: code(r.IntN(items)), Warehouse: wh,
			Qty: float64(1 + r.IntN(100)), Date: today + Date(r.IntN(90)-5), PurchaseOrder: fmt.Sprintf("PO-%05d", k)})
	}
	for n, k := 0, 0; n < lines; k++ {
		o := Order{Name: fmt.Sprintf("SO-%06d", k), Confirm: true, Submitted: k%10 != 0,
			Created: now.Add(-time.Duration(r.IntN(100000)) * time.Minute), DesiredDate: today + Date(r.IntN(60))}
		for j := range min(1+r.IntN(4), lines-n) {
			item := code(r.IntN(items))
			if skew {
				item = code(0)
			}
			o.Lines = append(o.Lines, Line{ID: fmt.Sprint(j + 1), ItemCode: item, Warehouse: wh, Qty: float64(1 + r.IntN(10))})
			n++
		}
		bk.Orders = append(bk.Orders, o)
	}
	return now, bk
}

func benchAllocate(b *testing.B, lines, items, receipts int, skew bool) {
	now, bk := benchBook(b, lines, items, receipts, skew)
	cal, rules := satSun(), DefaultRules()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Allocate(now, bk, cal, rules); err != nil {
			b.Fatal(err)
		}
	}
}

// The order book's speed target: 20,000 open lines on 2,000 items with
// 5,000 receipts, and a skewed book of 5,000 lines on one item, each
// allocated in under 20 ms.
func BenchmarkAllocate20kLines2kItems(b *testing.B) { benchAllocate(b, 20000, 2000, 5000, false) }
func BenchmarkAllocate5kLinesOneItem(b *testing.B)  { benchAllocate(b, 5000, 1, 50, true) }

// BenchmarkAllocateAndPlanAll adds every order's Plan (explanation,
// options) to the allocation: what a whole-book pass of the worker costs.
func BenchmarkAllocateAndPlanAll(b *testing.B) { benchAllocateAndPlan(b, (*Allocation).Plan) }

// BenchmarkAllocateAndSummarizeAll is BenchmarkAllocateAndPlanAll with
// every order's Summary, what the worker's pass asks for.
func BenchmarkAllocateAndSummarizeAll(b *testing.B) { benchAllocateAndPlan(b, (*Allocation).Summary) }

func benchAllocateAndPlan(b *testing.B, plan func(*Allocation, string) (Plan, error)) {
	now, bk := benchBook(b, 20000, 2000, 5000, false)
	cal, rules := satSun(), DefaultRules()
	b.ReportAllocs()
	for b.Loop() {
		a, err := Allocate(now, bk, cal, rules)
		if err != nil {
			b.Fatal(err)
		}
		for _, o := range bk.Orders {
			if _, err := plan(a, o.Name); err != nil {
				b.Fatal(err)
			}
		}
	}
}
