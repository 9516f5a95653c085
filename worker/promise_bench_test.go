package worker

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/erpnext-otp/otp/erp"
	"github.com/erpnext-otp/otp/erp/sandbox"
	"github.com/erpnext-otp/otp/migrations"
	"github.com/erpnext-otp/otp/planner"
	"github.com/erpnext-otp/otp/promise"
	"github.com/erpnext-otp/otp/tasks"
)

// Worker benchmarks: a pass of the order book after one save, against the
// sandbox over HTTP through the real erp client, as `otp work` runs it.
// README "Performance" quotes:
//
//	go test -run '^$' -bench BookPass -benchtime 200x ./worker/
//
// The book: 5,000 open lines (1,250 orders of 4 lines, one in ten a
// draft) on 200 items with stock and purchase orders, promised once before
// the clock starts. Each save changes one draft's delivery date, so its
// promise changes and it must be written. ERPNext answers every request
// after 30 ms.
//   - sequential: one save at a time: ns/op is save → written;
//   - 50-saves-per-s: saves arrive at 50 a second on 10 task slots
//     (OTP_WORKER_CONCURRENCY's default); p50-ms and p99-ms are save →
//     the order's new promise written, passes/op what coalescing leaves.

var benchNow = time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC) // a Wednesday, before the cutoff

type benchBook struct {
	sb     *sandbox.Sandbox
	w      *Worker
	drafts []string
}

const (
	benchItems  = 200
	benchOrders = 1250
	benchLines  = 4
)

// MustBenchBook fills the demo sandbox with the book and promises it once.
func MustBenchBook(b *testing.B) *benchBook {
	b.Helper()
	// The clock runs from benchNow as a real one would: saves a second
	// apart get `modified` a second apart, which the kept book reads by.
	start := time.Now()
	now := func() time.Time { return benchNow.Add(time.Since(start)) }
	sb := sandbox.New(sandbox.WithDemoData(), sandbox.WithClock(now))
	b.Cleanup(func() { sb.Close() })
	cfg := migrations.Config{PublicURL: "http://127.0.0.1:1", WebhookSecret: "unused", APIUser: sb.APIUser()}
	for _, st := range migrations.Steps() {
		if st.ID == "0001_order_promise_fields" {
			for _, f := range st.Documents(cfg) {
				if _, err := sb.Insert(f.DocType, f.Fields); err != nil {
					b.Fatalf("%s %s: %v", f.DocType, f.Name, err)
				}
			}
		}
	}
	r := rand.New(rand.NewPCG(1, 1))
	code := func(i int) string { return fmt.Sprintf("BK-%03d", i) }
	var stock []any
	for i := range benchItems {
		if _, err := sb.Insert("Item", map[string]any{"item_code": code(i), "item_name": code(i), "item_group": "Products",
			"stock_uom": sandbox.DemoUOM, "is_stock_item": 1, "lead_time_days": 10 * (i % 3), "valuation_rate": 1.0}); err != nil {
			b.Fatal(err)
		}
		stock = append(stock, map[string]any{"item_code": code(i), "qty": 50 + r.IntN(100), "t_warehouse": sandbox.DemoStores, "basic_rate": 1.0})
	}
	if _, err := sb.Insert("Stock Entry", map[string]any{"stock_entry_type": "Material Receipt", "company": sandbox.DemoCompany,
		"items": stock, "docstatus": 1}); err != nil {
		b.Fatal(err)
	}
	for i := range benchItems / 2 {
		date := benchNow.AddDate(0, 0, 3+r.IntN(40)).Format(time.DateOnly)
		if _, err := sb.Insert("Purchase Order", map[string]any{"supplier": sandbox.DemoSupplier, "company": sandbox.DemoCompany,
			"transaction_date": "2026-11-25", "set_warehouse": sandbox.DemoStores, "docstatus": 1,
			"items": []any{map[string]any{"item_code": code(2 * i), "qty": 20 + r.IntN(50), "rate": 1.0, "schedule_date": date}}}); err != nil {
			b.Fatal(err)
		}
	}
	bb := &benchBook{sb: sb}
	for k := range benchOrders {
		var items []any
		for range benchLines {
			items = append(items, map[string]any{"item_code": code(r.IntN(benchItems)), "qty": 1 + r.IntN(5), "rate": 1.0,
				"delivery_date": benchNow.AddDate(0, 0, 2+r.IntN(45)).Format(time.DateOnly)})
		}
		doc := map[string]any{"customer": sandbox.DemoCustomer2, "company": sandbox.DemoCompany, "transaction_date": "2026-11-25",
			"set_warehouse": sandbox.DemoStores, "items": items}
		draft := k%10 == 0
		if !draft {
			doc["docstatus"] = 1
		}
		saved, err := sb.Insert("Sales Order", doc)
		if err != nil {
			b.Fatal(err)
		}
		if draft {
			bb.drafts = append(bb.drafts, saved["name"].(string))
		}
	}

	api := httptest.NewServer(sb)
	b.Cleanup(api.Close)
	key, secret := sb.Credentials()
	client, err := erp.New(api.URL, key, secret)
	if err != nil {
		b.Fatal(err)
	}
	mr := miniredis.RunT(b)
	rdb := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	b.Cleanup(func() { rdb.Close() })
	quiet := slog.New(slog.DiscardHandler)
	pl := planner.New(client, planner.Config{
		Company: sandbox.DemoCompany, DefaultWarehouse: sandbox.DemoStores, Rules: promise.DefaultRules(),
	}, planner.WithClock(now), planner.WithLogger(quiet))
	bb.w = New(Deps{ERP: client, Planner: pl, Versions: tasks.NewVersions(rdb), Redis: rdb, Logger: quiet, Now: now,
		Location: time.UTC, WriteRate: 1000, WriteConcurrency: 16})
	if err := bb.w.HandleReconcile(context.Background(), tasks.NewReconcileTask()); err != nil {
		b.Fatal(err)
	}
	// Saves go to drafts that have a promise: a new delivery date moves it.
	bb.drafts = slices.DeleteFunc(bb.drafts, func(name string) bool {
		doc, err := sb.Get("Sales Order", name)
		return err != nil || doc[erp.FieldPromiseStatus] != "OK"
	})
	if len(bb.drafts) < 20 {
		b.Fatalf("only %d promised drafts to save", len(bb.drafts))
	}
	return bb
}

// save changes draft i's delivery date (a later day each time) and
// returns the order, its new modified, and the task its webhook makes.
func (bb *benchBook) save(b *testing.B, i int) (string, string, *asynq.Task) {
	b.Helper()
	name := bb.drafts[i%len(bb.drafts)]
	doc, err := bb.sb.Get("Sales Order", name)
	if err != nil {
		b.Fatal(err)
	}
	rows := doc["items"].([]any)
	day := benchNow.AddDate(0, 0, 50+i%300).Format(time.DateOnly)
	for _, r := range rows {
		r.(map[string]any)["delivery_date"] = day
	}
	saved, err := bb.sb.Update("Sales Order", name, map[string]any{"items": rows, "delivery_date": day})
	if err != nil {
		b.Fatal(err)
	}
	t, err := tasks.NewPromiseOrderTask(tasks.PromiseOrder{SalesOrder: name, Modified: saved["modified"].(string), Event: "on_update"})
	if err != nil {
		b.Fatal(err)
	}
	return name, saved["modified"].(string), t
}

func (bb *benchBook) handle(t *asynq.Task) error {
	return bb.w.HandlePromiseOrder(context.Background(), t)
}

func BenchmarkBookPass(b *testing.B) {
	bb := MustBenchBook(b)
	bb.sb.SetLatency(30 * time.Millisecond)

	b.Run("5000-lines/sequential/erp-latency=30ms", func(b *testing.B) {
		bb.sb.ResetCounters()
		i := 0
		for b.Loop() {
			b.StopTimer()
			_, _, t := bb.save(b, i)
			i++
			b.StartTimer()
			if err := bb.handle(t); err != nil {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		b.ReportMetric(float64(bb.sb.TotalRequests())/float64(b.N), "erp-requests/op")
		b.ReportMetric(float64(bb.sb.Requests("PUT /api/resource/Sales Order"))/float64(b.N), "writes/op")
	})

	b.Run("5000-lines/50-saves-per-s/erp-latency=30ms", func(b *testing.B) {
		bb.sb.ResetCounters()
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		slots := make(chan struct{}, 10)
		var (
			mu        sync.Mutex
			latencies []time.Duration
			wg        sync.WaitGroup
		)
		b.ResetTimer()
		for i := range b.N {
			<-tick.C
			name, modified, t := bb.save(b, 1000+i)
			saved := time.Now()
			wg.Add(1)
			go func() {
				defer wg.Done()
				slots <- struct{}{}
				err := bb.handle(t)
				<-slots
				if err != nil {
					b.Error(err)
					return
				}
				// Written when OTP saved the order after this save.
				for deadline := saved.Add(time.Minute); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
					doc, err := bb.sb.Get("Sales Order", name)
					if err != nil {
						b.Error(err)
						return
					}
					if m, _ := doc["modified"].(string); m > modified && doc["modified_by"] == bb.sb.APIUser() {
						mu.Lock()
						latencies = append(latencies, time.Since(saved))
						mu.Unlock()
						return
					}
				}
				b.Errorf("%s: not written within a minute of its save", name)
			}()
		}
		wg.Wait()
		b.StopTimer()
		slices.Sort(latencies)
		if len(latencies) == 0 {
			return
		}
		pct := func(p float64) float64 {
			return float64(latencies[min(len(latencies)-1, int(p*float64(len(latencies))))].Milliseconds())
		}
		passes := bb.sb.Requests("GET /api/resource/Bin") + bb.sb.Requests("POST /api/method/frappe.client.get_list")/3
		b.ReportMetric(pct(0.50), "p50-ms")
		b.ReportMetric(pct(0.99), "p99-ms")
		b.ReportMetric(float64(passes)/float64(b.N), "passes/op")
		b.ReportMetric(float64(bb.sb.Requests("PUT /api/resource/Sales Order"))/float64(b.N), "writes/op")
		b.ReportMetric(float64(bb.sb.TotalRequests())/float64(b.N), "erp-requests/op")
	})
}
