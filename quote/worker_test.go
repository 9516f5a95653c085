package quote_test

import (
	"context"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/google/go-cmp/cmp"
	"github.com/redis/go-redis/v9"

	"github.com/erpnext-otp/otp/erp/sandbox"
	"github.com/erpnext-otp/otp/planner"
	"github.com/erpnext-otp/otp/promise"
	"github.com/erpnext-otp/otp/tasks"
	"github.com/erpnext-otp/otp/worker"
)

// TestQuoteAgreesWithWorker: for the same submitted order, POST
// /otp/promise with the order's open lines (and its name, so its own
// reservation does not compete with it) gives the promise date and
// confidence the worker writes back, per order and per line.
func TestQuoteAgreesWithWorker(t *testing.T) {
	q := MustQuoteEnv(t)
	d := q.sb.Demo()
	mr := miniredis.RunT(t)
	rdb := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	t.Cleanup(func() { rdb.Close() })
	clock := func() time.Time { return pinned }
	quiet := slog.New(slog.DiscardHandler)
	// Wired as `otp work` wires it: no OTP_COMPANY, the order's own company.
	w := worker.New(worker.Deps{
		ERP: q.client,
		Planner: planner.New(q.client, planner.Config{DefaultWarehouse: sandbox.DemoStores, Rules: promise.DefaultRules()},
			planner.WithClock(clock), planner.WithLogger(quiet)),
		Versions: tasks.NewVersions(rdb),
		Redis:    rdb,
		Logger:   quiet,
		Now:      clock,
	})

	// A new order across every kind of line: stock, contended stock behind
	// a PO, boxes of 12, a service, the lead-time fallback.
	fresh, err := q.sb.Insert("Sales Order", map[string]any{
		"customer": sandbox.DemoCustomer3, "company": sandbox.DemoCompany, "transaction_date": "2026-11-25",
		"set_warehouse": sandbox.DemoStores, "docstatus": 1,
		"items": []any{
			map[string]any{"item_code": "SKU-001", "qty": 7, "rate": 12.0, "delivery_date": "2026-12-10"},
			map[string]any{"item_code": "SKU-050", "qty": 4, "rate": 25.0, "delivery_date": "2026-12-10"},
			map[string]any{"item_code": "SKU-049", "qty": 1, "uom": "Box", "rate": 90.0, "delivery_date": "2026-12-10"},
			map[string]any{"item_code": "SKU-046", "qty": 1, "rate": 150.0, "delivery_date": "2026-12-10"},
			map[string]any{"item_code": "SKU-036", "qty": 2, "rate": 9.0, "delivery_date": "2026-12-10"},
		},
	})
	if err != nil {
		t.Fatal(err)
	}

	for _, name := range []string{fresh["name"].(string), d.ContendedSO1, d.ContendedSO2, d.MultiLineSO, d.PastDueSO} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			so, err := q.client.SalesOrder(ctx, name)
			if err != nil {
				t.Fatal(err)
			}
			var lines []map[string]any
			for _, it := range so.Items {
				lines = append(lines, map[string]any{"item_code": it.ItemCode, "warehouse": it.Warehouse,
					"qty": it.StockQty - it.DeliveredQty*it.ConversionFactor})
			}
			got := MustCall[promiseBody](t, q, http.MethodPost, "/otp/promise",
				quoteBody(lines, map[string]any{"sales_order_id": name}), http.StatusOK)

			task, err := tasks.NewPromiseOrderTask(tasks.PromiseOrder{SalesOrder: name, Event: "test"})
			if err != nil {
				t.Fatal(err)
			}
			if err := w.HandlePromiseOrder(ctx, task); err != nil {
				t.Fatalf("worker: %v", err)
			}
			saved, err := q.client.SalesOrder(ctx, name)
			if err != nil {
				t.Fatal(err)
			}

			type promised struct{ Date, Confidence string }
			fromWorker := []promised{{saved.PromiseDate, saved.Confidence}}
			for _, it := range saved.Items {
				fromWorker = append(fromWorker, promised{it.LinePromiseDate, it.LineConfidence})
			}
			deref := func(s *string) string {
				if s == nil {
					return ""
				}
				return *s
			}
			fromQuote := []promised{{deref(got.PromiseDate), got.Confidence}}
			for _, l := range got.Plan {
				fromQuote = append(fromQuote, promised{deref(l.PromiseDate), l.Confidence})
			}
			if diff := cmp.Diff(fromWorker, fromQuote); diff != "" {
				t.Errorf("order then lines: worker's write-back (-) vs quote (+):\n%s", diff)
			}
			if saved.PromiseDate == "" && got.Status == "OK" {
				t.Errorf("worker wrote no promise date for a fulfillable order")
			}
			if saved.PromiseStatus != got.Status {
				t.Errorf("status: worker %q, quote %q", saved.PromiseStatus, got.Status)
			}
			t.Logf("%s: %s %s (%s)", name, deref(got.PromiseDate), got.Confidence, got.Explanation)
		})
	}
}
