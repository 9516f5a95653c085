package planner

import (
	"context"
	"fmt"
	"testing"

	"github.com/erpnext-otp/otp/erp"
	"github.com/erpnext-otp/otp/erp/erptest"
	"github.com/erpnext-otp/otp/promise"
)

// BenchmarkKeptBookRead is what a pass of the end-to-end run costs the
// planner's CPU to read its book once a book is kept: 1,250 orders of four
// lines, of which the changes' read returns 120 (the saves and OTP's own
// writes of the last two seconds at 50 saves/s), the reads answered at
// once.
func BenchmarkKeptBookRead(b *testing.B) {
	var book []erp.SalesOrderLine
	for k := range 1250 {
		for j := range 4 {
			book = append(book, erp.SalesOrderLine{SalesOrder: fmt.Sprintf("SAL-ORD-2026-%05d", k), Status: "To Deliver and Bill",
				DocStatus: 1, Creation: "2026-11-20 09:00:00", Customer: "Acme", Company: "OTP Demo Co",
				OrderDeliveryDate: "2026-12-10", Modified: fmt.Sprintf("2026-11-25 09:%02d:%02d", k/60%60, k%60),
				PromiseDate: "2026-12-10", Confidence: "HIGH", PromiseStatus: "OK", Explanation: "4 from stock at Stores - WH",
				Commented: "2026-12-10|HIGH", Name: fmt.Sprintf("row-%05d-%d", k, j), Idx: j + 1,
				ItemCode: fmt.Sprintf("SKU-%03d", (k*7+j)%200), Warehouse: "Stores - WH", UOM: "Nos", Qty: 4, StockQty: 4,
				ConversionFactor: 1, DeliveryDate: "2026-12-10", LinePromiseDate: "2026-12-10", LineConfidence: "HIGH"})
		}
	}
	f := &erptest.ERP{
		OpenOrderBookFn: func(context.Context, int) ([]erp.SalesOrderLine, error) { return book, nil },
		OrderBookChangesFn: func(context.Context, string, []string, int) ([]erp.SalesOrderLine, bool, error) {
			return book[len(book)-480:], true, nil
		},
	}
	p := newTestPlanner(f, Config{Company: "OTP Demo Co", DefaultWarehouse: "Stores - WH", Rules: promise.DefaultRules()})
	ctx := context.Background()
	if _, err := p.Books(ctx, nil); err != nil { // the whole read, which the kept book starts from
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.Books(ctx, nil); err != nil {
			b.Fatal(err)
		}
	}
}
