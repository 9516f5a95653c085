package planner

import (
	"fmt"
	"testing"
	"time"

	"github.com/erpnext-otp/otp/promise"
)

// BenchmarkFingerprint hashes a book the size of the end-to-end run's:
// 1,250 orders of four lines on 200 items, 400 receipts with their
// suppliers' records. A pass hashes its whole book once.
func BenchmarkFingerprint(b *testing.B) {
	in := Inputs{Now: pinned, Rules: promise.DefaultRules(),
		Calendar: promise.Calendar{Weekend: []time.Weekday{time.Saturday, time.Sunday}},
		Supply:   promise.Supply{Items: map[string]promise.Item{}}}
	today := promise.DateOf(pinned)
	record := &promise.SupplierHistory{WindowDays: 90, LateDays: []int{0, 2, 0, 5}}
	for i := range 200 {
		code := fmt.Sprintf("SKU-%03d", i)
		in.Supply.Items[code] = promise.Item{Code: code, IsStockItem: true, LeadTimeDays: i % 20}
		in.Supply.Stock = append(in.Supply.Stock, promise.Stock{ItemCode: code, Warehouse: "Stores - WH", ActualQty: float64(i)})
		in.Supply.Receipts = append(in.Supply.Receipts,
			promise.Receipt{ItemCode: code, Warehouse: "Stores - WH", Qty: 10, Date: today + promise.Date(i%30),
				PurchaseOrder: fmt.Sprintf("PO-%05d", i), Supplier: "Supplier", History: record},
			promise.Receipt{ItemCode: code, Warehouse: "Stores - WH", Qty: 5, Date: today + promise.Date(i%40),
				PurchaseOrder: fmt.Sprintf("PO-%05d", 1000+i)})
	}
	for k := range 1250 {
		o := promise.Order{Name: fmt.Sprintf("SAL-ORD-2026-%05d", k), Confirm: true, Submitted: k%3 != 0,
			Created: pinned.Add(-time.Duration(k) * time.Minute), DesiredDate: today + promise.Date(k%20)}
		for j := range 4 {
			o.Lines = append(o.Lines, promise.Line{ID: fmt.Sprint(j), ItemCode: fmt.Sprintf("SKU-%03d", (k*7+j)%200),
				Warehouse: "Stores - WH", Qty: float64(1 + j)})
		}
		in.Book = append(in.Book, o)
	}
	b.ReportAllocs()
	for b.Loop() {
		Fingerprint(in)
	}
}
