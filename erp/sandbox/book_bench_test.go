package sandbox_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/erpnext-otp/otp/erp"
	"github.com/erpnext-otp/otp/erp/sandbox"
	"github.com/erpnext-otp/otp/migrations"
)

// bookSite is the e2e driver's book (deploy/load/e2e): OTP's custom
// fields, 200 items with stock, and orders of lines on them, one in three
// a draft.
func bookSite(tb testing.TB, orders, lines, items int) *sandbox.Sandbox {
	tb.Helper()
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC) // a pinned clock: the same book every time
	s := sandbox.New(sandbox.WithDemoData(), sandbox.WithClock(func() time.Time { return now }))
	tb.Cleanup(func() { _ = s.Close() })
	for _, st := range migrations.Steps() {
		if st.ID != "0001_order_promise_fields" {
			continue
		}
		for _, f := range st.Documents(migrations.Config{}) {
			if _, err := s.Insert(f.DocType, f.Fields); err != nil {
				tb.Fatalf("%s %s: %v", f.DocType, f.Name, err)
			}
		}
	}
	r := rand.New(rand.NewPCG(1, 1))
	today := now
	code := func(i int) string { return fmt.Sprintf("BK-%03d", i) }
	for i := range items {
		if _, err := s.Insert("Item", map[string]any{"item_code": code(i), "item_name": code(i), "item_group": "Products",
			"stock_uom": sandbox.DemoUOM, "is_stock_item": 1}); err != nil {
			tb.Fatal(err)
		}
	}
	for k := range orders {
		var rows []any
		for range lines {
			rows = append(rows, map[string]any{"item_code": code(r.IntN(items)), "qty": 1 + r.IntN(5), "rate": 1.0,
				"delivery_date": today.AddDate(0, 0, 2+r.IntN(45)).Format(time.DateOnly)})
		}
		doc := map[string]any{"customer": sandbox.DemoCustomer2, "company": sandbox.DemoCompany, "transaction_date": s.Today(),
			"set_warehouse": sandbox.DemoStores, "items": rows}
		if k%3 != 0 {
			doc["docstatus"] = 1
		}
		if _, err := s.Insert("Sales Order", doc); err != nil {
			tb.Fatal(err)
		}
	}
	return s
}

// bookRequest is the page of erp.OpenOrderBook (erp/reads.go) as the
// client sends it when the URL is too long: frappe.client.get_list with
// the fields, filters and order of the book, DefaultBookPage rows.
func bookRequest(tb testing.TB) []byte {
	tb.Helper()
	body, err := json.Marshal(map[string]any{
		"doctype": "Sales Order",
		"fields": []string{
			"name", "status", "docstatus", "creation", "customer", "company", "delivery_date as order_delivery_date",
			"set_warehouse", "modified",
			erp.FieldPromiseDate, erp.FieldConfidence, erp.FieldPromiseStatus, erp.FieldExplanation, erp.FieldFirstPromiseDate,
			erp.FieldCommented,
			"items.name as so_detail", "items.idx as idx", "items.item_code as item_code",
			"items.warehouse as warehouse", "items.uom as uom", "items.qty as qty", "items.stock_qty as stock_qty",
			"items.conversion_factor as conversion_factor", "items.delivered_qty as delivered_qty",
			"items.delivery_date as delivery_date", "items.delivered_by_supplier as delivered_by_supplier",
			"items." + erp.FieldLinePromiseDate + " as line_promise_date",
			"items." + erp.FieldLineConfidence + " as line_confidence",
		},
		"filters": []any{
			[]any{"docstatus", "in", []int{0, 1}},
			[]any{"status", "not in", []string{"Closed", "On Hold", "Completed"}},
		},
		"order_by":          "`tabSales Order`.name asc, `tabSales Order Item`.idx asc",
		"limit_page_length": erp.DefaultBookPage,
	})
	if err != nil {
		tb.Fatal(err)
	}
	return body
}

func getBook(tb testing.TB, s *sandbox.Sandbox, body []byte) []byte {
	req := httptest.NewRequest(http.MethodPost, "/api/method/frappe.client.get_list", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", s.AuthHeader())
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		tb.Fatalf("get_list: %d %s", rec.Code, rec.Body)
	}
	return rec.Body.Bytes()
}

// BenchmarkBookList is one page of OTP's book read (1,250 orders × 4
// lines on 200 items, the e2e book: 5,000 rows) after a write, so the
// list cache has nothing: filter, join, sort, project and encode.
//
//	go test -run '^$' -bench BookList -benchmem -count 6 ./erp/sandbox/
func BenchmarkBookList(b *testing.B) {
	s := bookSite(b, 1250, 4, 200)
	body := bookRequest(b)
	var rows struct {
		Message []map[string]any `json:"message"`
	}
	if err := json.Unmarshal(getBook(b, s, body), &rows); err != nil || len(rows.Message) != 5000 {
		b.Fatalf("%d rows (%v), want 5000", len(rows.Message), err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		sandbox.Touch(s) // a write: the next list is built afresh
		b.StartTimer()
		getBook(b, s, body)
	}
}
