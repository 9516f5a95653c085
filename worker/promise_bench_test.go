package worker

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"net/http/httptest"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/erpnext-otp/otp/erp"
	"github.com/erpnext-otp/otp/erp/sandbox"
	"github.com/erpnext-otp/otp/migrations"
	"github.com/erpnext-otp/otp/planner"
	"github.com/erpnext-otp/otp/promise"
	"github.com/erpnext-otp/otp/tasks"
)

// Worker benchmarks: HandlePromiseOrder for one Sales Order against the
// sandbox with its demo data, over HTTP through the real erp client, as
// `otp work` runs it (planner with a warm company calendar, miniredis for
// the order lock and versions). README "Performance" quotes:
//
//	go test -run '^$' -bench HandlePromiseOrder -benchmem -count 5 ./worker/
//
//   - write: the order's promise fields are cleared before each promise
//     (timer stopped), so each one reads, plans and writes (one PUT and
//     the timeline comment), as for a new order;
//   - unchanged: the promise is already on the order: read and plan only,
//     as for a supply change or reconcile that moves nothing;
//   - erp-latency=20ms: write, with the sandbox answering each request
//     after 20 ms: what ERPNext round trips cost a promise;
//   - parallel: 5 promises per core at once (10 on 2 cores:
//     OTP_WORKER_CONCURRENCY's default), each on its own 3-line order, unchanged.
//
// Reported: ns/op, promises/s, and erp-requests/op (the sandbox's request
// count per promise). Each sub-benchmark logs, once, the ERPNext requests of
// one cold promise (the planner's first, which also reads the company's
// warehouses and holiday list) and of one promise in the loop, by route.

var benchNow = time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC) // a Wednesday, before the cutoff

// benchSite is the sandbox served over HTTP, a worker reading it, and the
// erp client between them.
type benchSite struct {
	sb *sandbox.Sandbox
	w  *Worker
}

// MustBenchSite starts the demo sandbox with OTP's custom fields (the
// definitions of `otp migrate`'s first step) and a worker on it.
func MustBenchSite(b *testing.B) *benchSite {
	b.Helper()
	now := func() time.Time { return benchNow }
	sb := sandbox.New(sandbox.WithDemoData(), sandbox.WithClock(now))
	b.Cleanup(func() { sb.Close() })
	cfg := migrations.Config{PublicURL: "http://127.0.0.1:1", WebhookSecret: "unused", APIUser: sb.APIUser()}
	var fields []migrations.Document
	for _, st := range migrations.Steps() {
		if st.ID == "0001_order_promise_fields" {
			fields = st.Documents(cfg)
		}
	}
	if len(fields) == 0 {
		b.Fatal("migrations: no step 0001_order_promise_fields")
	}
	for _, f := range fields {
		if _, err := sb.Insert(f.DocType, f.Fields); err != nil {
			b.Fatalf("%s %s: %v", f.DocType, f.Name, err)
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
	w := New(Deps{
		ERP: client, Planner: pl, Versions: tasks.NewVersions(rdb),
		Redis: rdb, Logger: quiet, Now: now, Location: time.UTC,
	})
	return &benchSite{sb: sb, w: w}
}

// MustOrder inserts a draft order from Stores with n lines: SKU-001…SKU-045
// in turn (stock, purchase orders, lead times, other warehouses), plus
// SKU-050, contended by the demo's open orders, as the third line.
func (s *benchSite) MustOrder(b *testing.B, n int) string {
	b.Helper()
	items := make([]any, n)
	for i := range items {
		code := fmt.Sprintf("SKU-%03d", i%45+1)
		if i == 2 {
			code = sandbox.DemoItemContended
		}
		items[i] = map[string]any{"item_code": code, "qty": 1 + i%4, "rate": 1.0, "delivery_date": "2026-12-09"}
	}
	doc, err := s.sb.Insert("Sales Order", map[string]any{
		"customer": sandbox.DemoCustomer2, "company": sandbox.DemoCompany, "transaction_date": "2026-11-25",
		"set_warehouse": sandbox.DemoStores, "items": items,
	})
	if err != nil {
		b.Fatal(err)
	}
	return doc["name"].(string)
}

// promise runs the worker's handler for order, as a reconcile or supply
// task does (no `modified`: never superseded, never our own echo).
func (s *benchSite) promise(order string) error {
	task, err := tasks.NewPromiseOrderTask(tasks.PromiseOrder{SalesOrder: order, Event: "bench"})
	if err != nil {
		return err
	}
	if err := s.w.HandlePromiseOrder(context.Background(), task); err != nil {
		return fmt.Errorf("promise %s: %w", order, err)
	}
	return nil
}

// MustPromise is promise, failing b on an error.
func (s *benchSite) MustPromise(b *testing.B, order string) {
	b.Helper()
	if err := s.promise(order); err != nil {
		b.Fatal(err)
	}
}

// MustClear removes the promise from order, so that the next one writes.
func (s *benchSite) MustClear(b *testing.B, order string) {
	b.Helper()
	_, err := s.sb.Update("Sales Order", order, map[string]any{
		erp.FieldPromiseDate: nil, erp.FieldConfidence: nil, erp.FieldPromiseStatus: nil,
		erp.FieldFirstPromiseDate: nil, erp.FieldPromisedAt: nil, erp.FieldExplanation: nil, erp.FieldFingerprint: nil,
	})
	if err != nil {
		b.Fatal(err)
	}
}

// benchRoutes prints request counts by route, sorted.
func benchRoutes(counts map[string]int) string {
	var out []string
	total := 0
	for _, k := range slices.Sorted(maps.Keys(counts)) {
		out = append(out, fmt.Sprintf("%s ×%d", k, counts[k]))
		total += counts[k]
	}
	return fmt.Sprintf("%d: %s", total, strings.Join(out, ", "))
}

func BenchmarkHandlePromiseOrder(b *testing.B) {
	logged := map[string]bool{}
	logOnce := func(b *testing.B, format string, args ...any) {
		if !logged[b.Name()+format] {
			logged[b.Name()+format] = true
			b.Logf(format, args...)
		}
	}
	cases := []struct {
		lines   int
		mode    string
		latency time.Duration // per ERPNext request
	}{
		{3, "write", 0}, {3, "unchanged", 0}, {100, "write", 0}, {100, "unchanged", 0},
		{3, "write", 20 * time.Millisecond},
	}
	for _, c := range cases {
		lines, mode := c.lines, c.mode
		name := fmt.Sprintf("%d-lines/%s", lines, mode)
		if c.latency > 0 {
			name += "/erp-latency=" + c.latency.String()
		}
		b.Run(name, func(b *testing.B) {
			s := MustBenchSite(b)
			order := s.MustOrder(b, lines)
			s.sb.SetLatency(c.latency)
			s.sb.ResetCounters()
			s.MustPromise(b, order) // cold: the planner reads the company's site data
			logOnce(b, "cold promise, ERPNext requests %s", benchRoutes(s.sb.RequestCounts()))
			s.sb.ResetCounters()
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				if mode == "write" {
					b.StopTimer()
					s.MustClear(b, order)
					if i == 0 {
						s.sb.ResetCounters()
					}
					b.StartTimer()
				}
				if i == 0 {
					s.MustPromise(b, order)
					logOnce(b, "promise in the loop, ERPNext requests %s", benchRoutes(s.sb.RequestCounts()))
					continue
				}
				s.MustPromise(b, order)
			}
			b.StopTimer()
			puts := s.sb.Requests("PUT /api/resource/Sales Order")
			if want := map[string]int{"write": b.N, "unchanged": 0}[mode]; puts != want {
				b.Fatalf("PUTs = %d, want %d", puts, want)
			}
			b.ReportMetric(float64(s.sb.TotalRequests())/float64(b.N), "erp-requests/op")
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "promises/s")
		})
	}
	b.Run("3-lines/unchanged/parallel", func(b *testing.B) {
		s := MustBenchSite(b)
		const perCore = 5 // 10 goroutines on 2 cores: OTP_WORKER_CONCURRENCY's default
		concurrency := perCore * runtime.GOMAXPROCS(0)
		orders := make([]string, concurrency)
		for i := range orders {
			orders[i] = s.MustOrder(b, 3)
			s.MustPromise(b, orders[i])
		}
		s.sb.ResetCounters()
		var next atomic.Int32
		b.ReportAllocs()
		b.SetParallelism(perCore)
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			order := orders[next.Add(1)-1] // one order per goroutine: no lock contention
			for pb.Next() {
				if err := s.promise(order); err != nil {
					b.Error(err)
					return
				}
			}
		})
		b.StopTimer()
		if puts := s.sb.Requests("PUT /api/resource/Sales Order"); puts != 0 {
			b.Fatalf("PUTs = %d, want 0", puts)
		}
		b.ReportMetric(float64(s.sb.TotalRequests())/float64(b.N), "erp-requests/op")
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "promises/s")
	})
}
