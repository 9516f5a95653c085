package accuracy_test

import (
	"fmt"
	"testing"

	"github.com/erpnext-otp/otp/accuracy"
	"github.com/erpnext-otp/otp/promise"
)

// bigHistory is n delivered lines over a year: promises and deliveries
// spread over the days, every 7th line late, every 11th split, every 13th
// re-promised; 2,000 receipts from 20 suppliers.
func bigHistory(n int) accuracy.Input {
	from := promise.NewDate(2026, 1, 1)
	to := from.AddDays(364)
	in := accuracy.Input{From: from, To: to, Calendar: calendar, NoWeekends: true}
	tiers := []promise.Confidence{high, medium, low}
	sources := []accuracy.Source{accuracy.SourceStock, accuracy.SourcePurchaseOrder, accuracy.SourceLeadTime}
	for i := range n {
		p := from.AddDays(i % 360)
		d := p.AddDays(-1)
		if i%7 == 0 {
			d = p.AddDays(i%9 + 1)
		}
		l := accuracy.Line{SalesOrder: fmt.Sprintf("SO-%06d", i/3), LineID: fmt.Sprintf("r%d", i), Qty: 4,
			ItemGroup: fmt.Sprintf("G%d", i%12), Warehouse: fmt.Sprintf("W%d", i%5), FirstPromise: p, LatestPromise: p,
			Confidence: tiers[i%3], Source: sources[i%3]}
		if i%13 == 0 {
			l.LatestPromise, l.Repromises = p.AddDays(2), 1+i%3
		}
		if i%11 == 0 {
			l.Deliveries = []accuracy.Delivery{{Date: d.AddDays(-1), Qty: 2}, {Date: d, Qty: 2}}
		} else {
			l.Deliveries = []accuracy.Delivery{{Date: d, Qty: 4}}
		}
		in.Lines = append(in.Lines, l)
	}
	for i := range 2000 {
		due := from.AddDays(i % 360)
		in.Receipts = append(in.Receipts, accuracy.Receipt{Supplier: fmt.Sprintf("S%d", i%20), Due: due, Received: due.AddDays(i % 4)})
	}
	return in
}

// BenchmarkCompute50k: go test -run '^$' -bench Compute50k -benchmem ./accuracy/
func BenchmarkCompute50k(b *testing.B) {
	in := bigHistory(50_000)
	b.ReportAllocs()
	for b.Loop() {
		r, err := accuracy.Compute(in)
		if err != nil {
			b.Fatal(err)
		}
		if r.Measured < 49_000 { // a few late deliveries fall after the year
			b.Fatalf("measured %d", r.Measured)
		}
	}
}
