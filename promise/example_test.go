package promise_test

import (
	"fmt"
	"time"

	"github.com/erpnext-otp/otp/promise"
)

// A Sales Order for 10 units: 6 are on hand and 4 arrive on a Purchase
// Order on Friday. Processing and buffer days skip the weekend and a holiday.
func ExampleCompute() {
	day := func(s string) promise.Date { d, _ := promise.ParseDate(s); return d }
	now := time.Date(2026, 12, 1, 10, 30, 0, 0, time.UTC) // Tuesday, before the 14:00 cutoff

	order := promise.Order{
		Name:  "SAL-ORD-2026-00042",
		Lines: []promise.Line{{ID: "1", ItemCode: "WIDGET", Warehouse: "Stores - WH", Qty: 10}},
	}
	supply := promise.Supply{
		Stock: []promise.Stock{{ItemCode: "WIDGET", Warehouse: "Stores - WH", ActualQty: 6}},
		Receipts: []promise.Receipt{{ItemCode: "WIDGET", Warehouse: "Stores - WH", Qty: 4,
			Date: day("2026-12-04"), PurchaseOrder: "PUR-ORD-2026-00012"}},
		Items: map[string]promise.Item{"WIDGET": {Code: "WIDGET", IsStockItem: true}},
	}
	cal := promise.Calendar{
		Weekend:  []time.Weekday{time.Saturday, time.Sunday},
		Holidays: map[promise.Date]string{day("2026-12-08"): "Immaculate Conception"},
	}

	plan, err := promise.Compute(now, order, supply, cal, promise.DefaultRules())
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(plan.Status, plan.PromiseDate, plan.Confidence)
	fmt.Println(plan.Explanation)
	// Output:
	// OK 2026-12-09 MEDIUM
	// 6 from stock at Stores - WH; 4 from PUR-ORD-2026-00012 due 2026-12-04; +1 processing day; +1 buffer day; 2026-12-08 is a holiday (Immaculate Conception); 2026-12-05 and 2026-12-06 are weekend days
}
