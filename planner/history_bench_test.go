package planner_test

import (
	"context"
	"testing"
	"time"

	"github.com/erpnext-otp/otp/erp"
	"github.com/erpnext-otp/otp/erp/sandbox"
	"github.com/erpnext-otp/otp/promise"
)

// benchOrders is the number of 1,000-line orders delivered.
const benchOrders = 50

// BenchmarkAccuracyReport50k reads and computes the report of 50,000
// delivered lines (50 orders of 1,000 lines, each delivered by one note)
// from the sandbox over HTTP, and reports its requests:
//
//	go test -run '^$' -bench AccuracyReport50k -benchtime 3x ./planner/
func BenchmarkAccuracyReport50k(b *testing.B) {
	h := MustHistorySite(b)
	orders, perOrder := benchOrders, 1000
	for o := range orders {
		lines := make([]any, perOrder)
		for i := range lines {
			lines[i] = map[string]any{"item_code": sandbox.DemoItemService, "qty": 1, "rate": 1.0, "delivery_date": "2026-03-02"}
		}
		so := h.insert(b, "Sales Order", map[string]any{"customer": sandbox.DemoCustomer, "company": sandbox.DemoCompany,
			"transaction_date": "2026-02-20", "set_warehouse": sandbox.DemoStores, "docstatus": 1, "items": lines})
		name := so["name"].(string)
		day := promise.NewDate(2026, 3, 2).AddDays(o % 28).String()
		if _, err := h.sb.Update("Sales Order", name, map[string]any{erp.FieldPromiseDate: day,
			erp.FieldFirstPromiseDate: day, erp.FieldConfidence: "HIGH", erp.FieldExplanation: "1 from stock at Stores - WH"}); err != nil {
			b.Fatal(err)
		}
		rows := make([]any, perOrder)
		for i, r := range so["items"].([]any) {
			rows[i] = map[string]any{"item_code": sandbox.DemoItemService, "qty": 1, "rate": 1.0, "warehouse": sandbox.DemoStores,
				"against_sales_order": name, "so_detail": r.(map[string]any)["name"]}
		}
		h.insert(b, "Delivery Note", map[string]any{"customer": sandbox.DemoCustomer, "company": sandbox.DemoCompany,
			"posting_date": day, "set_posting_time": 1, "docstatus": 1, "items": rows})
	}
	p := newHistoryPlanner(h, promise.DefaultRules())
	ctx := context.Background()
	// The inserts' webhooks (to a port nobody listens on) are done before
	// the clock starts.
	if err := h.sb.WaitForWebhooks(ctx); err != nil {
		b.Fatal(err)
	}
	from, to := promise.NewDate(2026, 3, 2), promise.NewDate(2026, 3, 31)
	b.ResetTimer()
	requests := 0
	for b.Loop() {
		h.sb.ResetCounters()
		start := time.Now()
		r, err := p.AccuracyReport(ctx, from, to, "", nil)
		if err != nil {
			b.Fatal(err)
		}
		if r.Measured != orders*perOrder {
			b.Fatalf("measured %d lines, want %d", r.Measured, orders*perOrder)
		}
		requests = h.sb.TotalRequests()
		b.Logf("%d lines in %v, %d requests", r.Measured, time.Since(start).Round(time.Millisecond), requests)
	}
	b.ReportMetric(float64(requests), "requests/op")
}
