package worker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/google/go-cmp/cmp"
	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/erpnext-otp/otp/erp"
	"github.com/erpnext-otp/otp/erp/sandbox"
	"github.com/erpnext-otp/otp/migrations"
	"github.com/erpnext-otp/otp/planner"
	"github.com/erpnext-otp/otp/promise"
	"github.com/erpnext-otp/otp/tasks"
)

// These tests run the worker against the Frappe-faithful sandbox over real
// HTTP, through the real erp client, with the webhooks `otp migrate` sets
// up: each delivery becomes the task the server would enqueue.

// pinned is Wednesday 2026-11-25, 10:00 UTC: before the cutoff, so stock
// on hand ships today. The demo Holiday List has weekends off and
// Christmas (12-25) and Boxing Day (12-26).
var pinned = time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)

// delivery is one webhook ERPNext sent, as the server reads it.
type delivery struct{ doctype, name, modified, event string }

// site is a sandbox set up by the migrations, served over HTTP, with a
// worker reading it through the erp client.
type site struct {
	sb       *sandbox.Sandbox
	client   *erp.Client
	url      string
	now      time.Time
	rdb      redis.UniversalClient
	w        *Worker
	versions *tasks.Versions

	mu         sync.Mutex
	deliveries []delivery
	seen       map[string]bool // task ids already "enqueued"
}

// MustSite builds a site whose clock (the sandbox's and the worker's)
// stops at now, with the demo data, OTP's custom fields and webhooks.
func MustSite(tb testing.TB, now time.Time, opts ...sandbox.Option) *site {
	tb.Helper()
	base := []sandbox.Option{
		sandbox.WithDemoData(),
		sandbox.WithClock(func() time.Time { return now }),
		sandbox.WithWebhookSleep(func(context.Context, time.Duration) error { return nil }),
		// The admin who runs `otp migrate`, whatever the API user may do.
		sandbox.WithUser("admin@example.com", "admin-key", "admin-secret", "System Manager"),
	}
	sb := sandbox.New(append(base, opts...)...)
	tb.Cleanup(func() { sb.Close() })
	api := httptest.NewServer(sb)
	tb.Cleanup(api.Close)
	key, secret := sb.Credentials()
	client, err := erp.New(api.URL, key, secret)
	if err != nil {
		tb.Fatal(err)
	}
	mr := miniredis.RunT(tb)
	rdb := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	tb.Cleanup(func() { rdb.Close() })
	s := &site{sb: sb, client: client, url: api.URL, now: now, rdb: rdb, seen: map[string]bool{}}

	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var doc struct{ Doctype, Name, Modified string }
		if err := json.Unmarshal(body, &doc); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		s.mu.Lock()
		s.deliveries = append(s.deliveries, delivery{doc.Doctype, doc.Name, doc.Modified, r.URL.Query().Get("event")})
		s.mu.Unlock()
	}))
	tb.Cleanup(recv.Close)
	admin, err := erp.New(api.URL, "admin-key", "admin-secret")
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := migrations.Up(context.Background(), admin, migrations.Config{
		PublicURL: recv.URL, WebhookSecret: "test-secret", APIUser: sb.APIUser(),
	}); err != nil {
		tb.Fatalf("migrations: %v", err)
	}
	s.w, s.versions = s.newWorker(tb, client)
	return s
}

// newWorker is a worker over client with a cold planner, on the site's Redis.
func (s *site) newWorker(tb testing.TB, client *erp.Client) (*Worker, *tasks.Versions) {
	tb.Helper()
	quiet := slog.New(slog.DiscardHandler)
	clock := func() time.Time { return s.now }
	pl := planner.New(client, planner.Config{
		Company: sandbox.DemoCompany, DefaultWarehouse: sandbox.DemoStores, Rules: promise.DefaultRules(),
	}, planner.WithClock(clock), planner.WithLogger(quiet))
	versions := tasks.NewVersions(s.rdb)
	w := New(Deps{
		ERP: client, Planner: pl, Versions: versions, Redis: s.rdb,
		Logger: quiet, Now: clock, Location: time.UTC, WriteRate: 1000,
	})
	return w, versions
}

// task is the task the server enqueues for a delivery.
func (d delivery) task(tb testing.TB) (*asynq.Task, string) {
	tb.Helper()
	if d.doctype == "Sales Order" {
		t, err := tasks.NewPromiseOrderTask(tasks.PromiseOrder{SalesOrder: d.name, Modified: d.modified, Event: d.event})
		if err != nil {
			tb.Fatal(err)
		}
		return t, tasks.PromiseOrderID(d.name, d.modified)
	}
	sc := tasks.SupplyChanged{DocType: d.doctype, Name: d.name, Modified: d.modified, Event: d.event}
	t, err := tasks.NewSupplyChangedTask(sc)
	if err != nil {
		tb.Fatal(err)
	}
	return t, tasks.SupplyChangedID(sc)
}

// settle plays the server and the queue until ERPNext stops sending
// webhooks: each new delivery is handled once, as the server's enqueue
// with a per-version task id does. It returns the number of tasks run.
func (s *site) settle(tb testing.TB) int {
	tb.Helper()
	ctx := context.Background()
	ran := 0
	for range 10 {
		if err := s.sb.WaitForWebhooks(ctx); err != nil {
			tb.Fatal(err)
		}
		s.mu.Lock()
		ds := s.deliveries
		s.deliveries = nil
		s.mu.Unlock()
		if len(ds) == 0 {
			return ran
		}
		for _, d := range ds {
			t, id := d.task(tb)
			if s.seen[id] {
				continue
			}
			s.seen[id] = true
			if d.doctype == "Sales Order" {
				if _, err := s.versions.Record(ctx, d.name, d.modified); err != nil {
					tb.Fatal(err)
				}
			}
			if err := s.handle(ctx, t); err != nil {
				tb.Fatalf("%s %s@%s: %v", d.doctype, d.name, d.modified, err)
			}
			ran++
		}
	}
	tb.Fatal("webhooks never settled: a write-back loop")
	return ran
}

func (s *site) handle(ctx context.Context, t *asynq.Task) error {
	mux := asynq.NewServeMux()
	s.w.Register(mux)
	return mux.ProcessTask(ctx, t)
}

// MustItem creates a stock item with a lead time and qty on hand in Stores.
func (s *site) MustItem(tb testing.TB, code string, lead int, onHand float64) {
	tb.Helper()
	if _, err := s.sb.Insert("Item", map[string]any{"item_code": code, "item_name": code, "item_group": "Products",
		"stock_uom": sandbox.DemoUOM, "is_stock_item": 1, "lead_time_days": lead, "valuation_rate": 10.0}); err != nil {
		tb.Fatal(err)
	}
	if onHand > 0 {
		if _, err := s.sb.Insert("Stock Entry", map[string]any{"stock_entry_type": "Material Receipt", "company": sandbox.DemoCompany,
			"items":     []any{map[string]any{"item_code": code, "qty": onHand, "t_warehouse": sandbox.DemoStores, "basic_rate": 10.0}},
			"docstatus": 1}); err != nil {
			tb.Fatal(err)
		}
	}
}

// MustPO submits a Purchase Order of qty of code into Stores, expected on date.
func (s *site) MustPO(tb testing.TB, code string, qty float64, date string) string {
	tb.Helper()
	doc, err := s.sb.Insert("Purchase Order", map[string]any{"supplier": sandbox.DemoSupplier, "company": sandbox.DemoCompany,
		"transaction_date": s.now.Format(time.DateOnly), "set_warehouse": sandbox.DemoStores, "docstatus": 1,
		"items": []any{map[string]any{"item_code": code, "qty": qty, "rate": 1.0, "schedule_date": date, "expected_delivery_date": date}}})
	if err != nil {
		tb.Fatal(err)
	}
	return doc["name"].(string)
}

// MustOrder saves a Sales Order (submitted or draft) of lines (item code,
// qty, ...) from Stores, wanted on delivery.
func (s *site) MustOrder(tb testing.TB, delivery string, submit bool, lines ...any) string {
	tb.Helper()
	var items []any
	for i := 0; i+1 < len(lines); i += 2 {
		items = append(items, map[string]any{"item_code": lines[i], "qty": lines[i+1], "rate": 1.0, "delivery_date": delivery})
	}
	doc := map[string]any{
		"customer": sandbox.DemoCustomer3, "company": sandbox.DemoCompany, "transaction_date": s.now.Format(time.DateOnly),
		"set_warehouse": sandbox.DemoStores, "items": items,
	}
	if submit {
		doc["docstatus"] = 1
	}
	saved, err := s.sb.Insert("Sales Order", doc)
	if err != nil {
		tb.Fatal(err)
	}
	return saved["name"].(string)
}

// promise is what a sales person reads on an order.
type promiseOf struct{ Date, Confidence, Status string }

func (s *site) promise(tb testing.TB, name string) promiseOf {
	tb.Helper()
	so, err := s.client.SalesOrder(context.Background(), name)
	if err != nil {
		tb.Fatal(err)
	}
	return promiseOf{so.PromiseDate, so.Confidence, so.PromiseStatus}
}

func (s *site) explanation(tb testing.TB, name string) string {
	tb.Helper()
	so, err := s.client.SalesOrder(context.Background(), name)
	if err != nil {
		tb.Fatal(err)
	}
	return so.Explanation
}

func (s *site) puts() int { return s.sb.Requests("PUT /api/resource/Sales Order") }

// MustSettledSite is a site whose demo book has been promised once, with
// the counters reset: what follows is what a test's own events cause.
func MustSettledSite(tb testing.TB) *site {
	tb.Helper()
	s := MustSite(tb, pinned)
	if err := s.w.HandleReconcile(context.Background(), tasks.NewReconcileTask()); err != nil {
		tb.Fatal(err)
	}
	s.settle(tb)
	s.sb.ResetCounters()
	return s
}

func wantPromise(tb testing.TB, s *site, name string, want promiseOf) {
	tb.Helper()
	if diff := cmp.Diff(want, s.promise(tb, name)); diff != "" {
		tb.Errorf("%s (-want +got):\n%s\nexplanation: %s", name, diff, s.explanation(tb, name))
	}
}

// The order book's cases, through the real webhooks, tasks and write-back.
// Item W: 10 on hand, no PO, lead time 10 days: today + 10 = Sat 12-05 →
// Mon 12-07, ready Tue 12-08, promise Wed 12-09.
func TestSandboxBookCases(t *testing.T) {
	const leadTime = "2026-12-09"

	t.Run("the first order keeps its stock after a second one and after re-promises", func(t *testing.T) {
		s := MustSettledSite(t)
		s.MustItem(t, "W", 10, 10)
		a := s.MustOrder(t, "2026-12-15", true, "W", 10)
		s.settle(t)
		wantPromise(t, s, a, promiseOf{"2026-12-15", "HIGH", "OK"})
		b := s.MustOrder(t, "2026-11-30", true, "W", 10)
		s.settle(t)
		wantPromise(t, s, a, promiseOf{"2026-12-15", "HIGH", "OK"})
		// Lead time 12-09, 7 working days after Mon 11-30.
		wantPromise(t, s, b, promiseOf{leadTime, "LOW", "OK"})
		if got := s.explanation(t, b); !strings.Contains(got, "7 working days later than requested (2026-11-30)") {
			t.Errorf("SO-B explanation %q does not say it is late", got)
		}
		// A re-promise of A (the sweep, a save) changes nothing, writes nothing.
		before := s.puts()
		if err := s.w.HandleReconcile(context.Background(), tasks.NewReconcileTask()); err != nil {
			t.Fatal(err)
		}
		if _, err := s.sb.Update("Sales Order", a, map[string]any{"po_no": "CUST-PO-7"}); err != nil {
			t.Fatal(err)
		}
		s.settle(t)
		wantPromise(t, s, a, promiseOf{"2026-12-15", "HIGH", "OK"})
		if got := s.puts() - before; got != 0 {
			t.Errorf("re-promises wrote %d orders, want 0", got)
		}
	})

	for _, release := range []struct {
		name   string
		do     func(s *site, a string) error
		writes int // SO-B's promise; a closed SO-A also says it is not promised
	}{
		{"cancelled", func(s *site, a string) error { _, err := s.sb.Cancel("Sales Order", a); return err }, 1},
		{"closed", func(s *site, a string) error { _, err := s.sb.SetStatus("Sales Order", a, "Closed"); return err }, 2},
	} {
		t.Run("the second gets the stock when the first is "+release.name, func(t *testing.T) {
			s := MustSettledSite(t)
			s.MustItem(t, "W", 10, 10)
			a := s.MustOrder(t, "2026-12-15", true, "W", 10)
			b := s.MustOrder(t, "2026-11-30", true, "W", 10)
			s.settle(t)
			wantPromise(t, s, b, promiseOf{leadTime, "LOW", "OK"})
			before := s.puts()
			if err := release.do(s, a); err != nil {
				t.Fatal(err)
			}
			s.settle(t)
			// From stock today: ready Thu 11-26, could ship Fri 11-27;
			// confirmed for the requested Mon 11-30.
			wantPromise(t, s, b, promiseOf{"2026-11-30", "HIGH", "OK"})
			if got := s.explanation(t, b); !strings.Contains(got, "could ship from 2026-11-27") {
				t.Errorf("SO-B explanation %q", got)
			}
			// Exactly the orders whose promise changed are written.
			if got := s.puts() - before; got != release.writes {
				t.Errorf("%s: %d orders written, want %d", release.name, got, release.writes)
			}
		})
	}

	t.Run("an order needing goods later lets a sooner one ship from stock, a PO covers it", func(t *testing.T) {
		s := MustSettledSite(t)
		s.MustItem(t, "W", 10, 10)
		po := s.MustPO(t, "W", 10, "2026-12-01") // Tue, 6 days out: near
		a := s.MustOrder(t, "2026-12-22", true, "W", 10)
		s.settle(t)
		b := s.MustOrder(t, "2026-11-30", true, "W", 10)
		s.settle(t)
		// A books for Fri 12-18 (two working days before Tue 12-22): the
		// PO is in by then, so B takes the stock now.
		wantPromise(t, s, b, promiseOf{"2026-11-30", "HIGH", "OK"})
		wantPromise(t, s, a, promiseOf{"2026-12-22", "MEDIUM", "OK"})
		if got := s.explanation(t, a); !strings.Contains(got, "10 from "+po+" due 2026-12-01") {
			t.Errorf("SO-A explanation %q does not name the PO", got)
		}
	})

	t.Run("a ship-complete order waiting for a PO holds its other line only from its ship date", func(t *testing.T) {
		s := MustSettledSite(t)
		s.MustItem(t, "W", 10, 10)
		s.MustItem(t, "X", 0, 0)
		s.MustPO(t, "W", 10, "2026-12-03")
		s.MustPO(t, "X", 5, "2026-12-08")
		a := s.MustOrder(t, "2026-11-30", true, "W", 10, "X", 5)
		b := s.MustOrder(t, "2026-11-30", true, "W", 10)
		s.settle(t)
		// A: X on Tue 12-08, ready Wed 12-09, promise Thu 12-10; its W is
		// needed on 12-08 only, when the W PO (12-03) is in: B ships W now.
		// Both of A's POs are more than 7 days out: LOW.
		wantPromise(t, s, a, promiseOf{"2026-12-10", "LOW", "OK"})
		wantPromise(t, s, b, promiseOf{"2026-11-30", "HIGH", "OK"})
		if got := s.explanation(t, a); !strings.Contains(got, "8 working days later than requested (2026-11-30)") {
			t.Errorf("SO-A explanation %q", got)
		}
	})

	t.Run("a draft never displaces a submitted order", func(t *testing.T) {
		s := MustSettledSite(t)
		s.MustItem(t, "W", 10, 10)
		d := s.MustOrder(t, "2026-11-30", false, "W", 10) // saved first, still a draft
		s.settle(t)
		wantPromise(t, s, d, promiseOf{"2026-11-30", "HIGH", "OK"}) // what it would get now
		sub := s.MustOrder(t, "2026-12-15", true, "W", 10)
		s.settle(t)
		wantPromise(t, s, sub, promiseOf{"2026-12-15", "HIGH", "OK"})
		wantPromise(t, s, d, promiseOf{leadTime, "LOW", "OK"})
	})

	t.Run("two orders for a month out are not both shown from the same units", func(t *testing.T) {
		s := MustSettledSite(t)
		s.MustItem(t, "W", 10, 10)
		a := s.MustOrder(t, "2026-12-22", true, "W", 10)
		b := s.MustOrder(t, "2026-12-22", true, "W", 10)
		s.settle(t)
		wantPromise(t, s, a, promiseOf{"2026-12-22", "HIGH", "OK"})
		// B is on time too, but on the lead time: LOW.
		wantPromise(t, s, b, promiseOf{"2026-12-22", "LOW", "OK"})
	})
}

// A save that changes only its own order writes one order, and the
// webhook of that write (if ERPNext sent it) costs no ERPNext request.
func TestSandboxSaveWritesOnlyItsOwnOrder(t *testing.T) {
	s := MustSettledSite(t)
	s.MustItem(t, "W", 0, 100)
	s.MustItem(t, "V", 0, 100)
	other := s.MustOrder(t, "2026-12-15", true, "V", 5)
	s.settle(t)
	before := s.puts()
	name := s.MustOrder(t, "2026-12-02", true, "W", 5)
	s.settle(t)
	if got := s.puts() - before; got != 1 {
		t.Errorf("orders written = %d, want 1", got)
	}
	wantPromise(t, s, name, promiseOf{"2026-12-02", "HIGH", "OK"})
	wantPromise(t, s, other, promiseOf{"2026-12-15", "HIGH", "OK"})

	// Our write's own webhook: recognised from Redis, no request.
	so, err := s.client.SalesOrder(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	s.sb.ResetCounters()
	task, _ := tasks.NewPromiseOrderTask(tasks.PromiseOrder{SalesOrder: name, Modified: so.Modified})
	if err := s.handle(context.Background(), task); err != nil {
		t.Fatal(err)
	}
	if got := s.sb.TotalRequests(); got != 0 {
		t.Errorf("requests for our own write's webhook = %d, want 0: %v", got, s.sb.RequestCounts())
	}
	// An older version of the order than one already delivered: none either.
	if _, err := s.versions.Record(context.Background(), name, "2099-01-01 00:00:00"); err != nil {
		t.Fatal(err)
	}
	task, _ = tasks.NewPromiseOrderTask(tasks.PromiseOrder{SalesOrder: name, Modified: "2026-11-25 10:00:00"})
	if err := s.handle(context.Background(), task); err != nil {
		t.Fatal(err)
	}
	if got := s.sb.TotalRequests(); got != 0 {
		t.Errorf("requests for a superseded version = %d, want 0", got)
	}
}

// A burst of 200 webhooks on 50 orders, handled by ten tasks at once:
// the passes coalesce, and each order is written at most once per real
// change.
func TestSandboxBurstCoalesces(t *testing.T) {
	s := MustSettledSite(t)
	s.MustItem(t, "W", 0, 1000)
	var names []string
	for range 50 {
		names = append(names, s.MustOrder(t, "2026-12-10", true, "W", 2))
	}
	s.settle(t)
	for _, n := range names {
		wantPromise(t, s, n, promiseOf{"2026-12-10", "HIGH", "OK"})
	}
	// The real change: 950 of the 1,000 are issued, so 25 orders keep
	// their stock and 25 cannot be fulfilled (no PO, no lead time).
	if _, err := s.sb.Insert("Stock Entry", map[string]any{"stock_entry_type": "Material Issue", "company": sandbox.DemoCompany,
		"items":     []any{map[string]any{"item_code": "W", "qty": 950, "s_warehouse": sandbox.DemoStores, "basic_rate": 10.0}},
		"docstatus": 1}); err != nil {
		t.Fatal(err)
	}
	s.sb.ResetCounters()
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 200)
	sem := make(chan struct{}, 10)
	for i := range 200 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			t, _ := tasks.NewPromiseOrderTask(tasks.PromiseOrder{SalesOrder: names[i%50], Modified: fmt.Sprintf("2026-11-25 10:00:%02d", i/50)})
			errs <- s.handle(ctx, t)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	s.settle(t) // the Stock Entry's own webhook: a pass that finds nothing new
	if got := s.puts(); got != 25 {
		t.Errorf("orders written = %d, want 25: each changed order once", got)
	}
	short := 0
	for _, n := range names {
		if s.promise(t, n).Status == "CANNOT_FULFILL" {
			short++
		}
	}
	if short != 25 {
		t.Errorf("orders that cannot be fulfilled = %d, want 25", short)
	}
	// One Bin read a pass. Ten tasks run at once and each waits for a pass
	// that started after its change: about one pass per ten webhooks.
	if passes := s.sb.Requests("GET /api/resource/Bin"); passes > 25 {
		t.Errorf("passes for 200 webhooks = %d, want at most 25: %v", passes, s.sb.RequestCounts())
	}
}

// Two workers (two processes) handling events at once agree: passes do not
// overlap, and the book ends the same whichever ran them.
func TestSandboxTwoWorkersAgree(t *testing.T) {
	s := MustSettledSite(t)
	s.MustItem(t, "W", 10, 10)
	a := s.MustOrder(t, "2026-12-15", true, "W", 10)
	b := s.MustOrder(t, "2026-11-30", true, "W", 10)
	other, _ := s.newWorker(t, s.client)
	ctx := context.Background()
	var wg sync.WaitGroup
	for _, w := range []*Worker{s.w, other} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := w.HandleReconcile(ctx, tasks.NewReconcileTask()); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	s.settle(t)
	wantPromise(t, s, a, promiseOf{"2026-12-15", "HIGH", "OK"})
	wantPromise(t, s, b, promiseOf{"2026-12-09", "LOW", "OK"})
	if got := s.puts(); got != 2 {
		t.Errorf("orders written = %d, want 2 (each once)", got)
	}
}

// The company's Holiday List decides the date when readable; when the API
// user may not read it (HR Manager only), the configured weekend does, and
// the promise is still made.
func TestSandboxHolidayList(t *testing.T) {
	wednesday := time.Date(2026, 12, 23, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name  string
		roles []string
		want  string
	}{
		// Ready Thursday 12-24; +1 buffer day skips Christmas (Fri) and
		// the weekend: Monday 12-28, after the requested Thursday.
		{"holiday list readable", sandbox.DefaultRoles, "2026-12-28"},
		// No HR Manager: 403 on the list, Saturday and Sunday only: Fri 12-25.
		{"holiday list forbidden", []string{"Sales User", "Sales Manager", "Stock User", "Purchase User"}, "2026-12-25"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := MustSite(t, wednesday, sandbox.WithUserRoles(sandbox.DefaultAPIUser, tt.roles...))
			name := s.MustOrder(t, "2026-12-24", false, "SKU-001", 1)
			s.settle(t)
			wantPromise(t, s, name, promiseOf{tt.want, "HIGH", "OK"})
		})
	}
}

func TestSandboxFailures(t *testing.T) {
	tests := []struct {
		name         string
		roles        []string // the API user's; nil = the defaults
		fail         func(sb *sandbox.Sandbox)
		wantSkip     bool
		wantSay      string
		retryAtLeast time.Duration // RetryDelay must wait at least this long
	}{
		{name: "not allowed to read orders (403)", roles: []string{"Purchase User", "HR Manager"},
			wantSkip: true, wantSay: "permission denied"},
		// The next three requests fail: the book's read and the saved
		// order's own reads go at once, and a failure that reached only
		// the order's read would leave the pass's other writes to wait out
		// a 429's two minutes.
		{name: "ERPNext behind a failing proxy (502)", wantSay: "server error", retryAtLeast: time.Second,
			fail: func(sb *sandbox.Sandbox) {
				sb.FailNext(3, http.StatusBadGateway, "<html><h1>502 Bad Gateway</h1></html>", nil)
			}},
		{name: "rate limited (429 Retry-After)", wantSay: "rate limited", retryAtLeast: 120 * time.Second,
			fail: func(sb *sandbox.Sandbox) {
				sb.FailNext(3, http.StatusTooManyRequests, `{"exc_type":"TooManyRequestsError"}`, http.Header{"Retry-After": {"120"}})
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var opts []sandbox.Option
			if tt.roles != nil {
				opts = append(opts, sandbox.WithUserRoles(sandbox.DefaultAPIUser, tt.roles...))
			}
			s := MustSite(t, pinned, opts...)
			key, secret := s.sb.Credentials()
			// One attempt per read: the failure reaches the worker at once.
			client, err := erp.New(s.url, key, secret, erp.WithRetry(1, time.Millisecond, time.Millisecond))
			if err != nil {
				t.Fatal(err)
			}
			w, _ := s.newWorker(t, client)
			if tt.fail != nil {
				tt.fail(s.sb)
			}
			task, _ := tasks.NewPromiseOrderTask(tasks.PromiseOrder{SalesOrder: s.sb.Demo().MultiLineSO})
			err = w.HandlePromiseOrder(context.Background(), task)
			if err == nil {
				t.Fatal("err = nil")
			}
			if got := errors.Is(err, asynq.SkipRetry); got != tt.wantSkip {
				t.Errorf("archived = %v, want %v: %v", got, tt.wantSkip, err)
			}
			if !strings.Contains(err.Error(), tt.wantSay) {
				t.Errorf("err = %q, want it to say %q", err, tt.wantSay)
			}
			if d := RetryDelay(0, err, task); !tt.wantSkip && d < tt.retryAtLeast {
				t.Errorf("RetryDelay = %v, want at least %v", d, tt.retryAtLeast)
			}
			// The sweep, on the same failure, is skipped rather than archived
			// (by a worker of its own: this one may be pausing for the 429).
			if !tt.wantSkip {
				if tt.fail != nil {
					tt.fail(s.sb)
				}
				w, _ := s.newWorker(t, client)
				if err := w.HandleReconcile(context.Background(), tasks.NewReconcileTask()); err != nil {
					t.Errorf("reconcile with ERPNext failing = %v, want it skipped (nil)", err)
				}
			}
		})
	}
}

func TestBadPayloadIsArchived(t *testing.T) {
	s := MustSite(t, pinned)
	err := s.handle(context.Background(), asynq.NewTask(tasks.TypePromiseOrder, []byte("{")))
	if !errors.Is(err, asynq.SkipRetry) || !errors.Is(err, tasks.ErrBadPayload) {
		t.Errorf("err = %v, want a SkipRetry bad payload", err)
	}
}

func TestRegisterRoutesEveryTaskType(t *testing.T) {
	s := MustSite(t, pinned)
	for _, typ := range []string{tasks.TypePromiseOrder, tasks.TypeSupplyChanged, tasks.TypeReconcile} {
		mux := asynq.NewServeMux()
		s.w.Register(mux)
		if _, pattern := mux.Handler(asynq.NewTask(typ, nil)); pattern != typ {
			t.Errorf("%s routed to %q", typ, pattern)
		}
	}
}

func TestRetryDelay(t *testing.T) {
	for n := range 12 {
		d := RetryDelay(n, errors.New("x"), nil)
		if base := retryBase << n; d < min(base, retryMax)/2 || d > min(base, retryMax) {
			t.Errorf("RetryDelay(%d) = %v, want within [%v, %v]", n, d, min(base, retryMax)/2, min(base, retryMax))
		}
	}
	rl := &erp.Error{Kind: erp.KindRateLimited, RetryAfter: 90 * time.Second}
	if d := RetryDelay(0, rl, nil); d < 90*time.Second {
		t.Errorf("RetryDelay after a 429 with Retry-After 90s = %v", d)
	}
}

// An order OTP deliberately does not promise says so in its status, once,
// and is promised again when it comes back into the book.
func TestSandboxNotPromised(t *testing.T) {
	s := MustSettledSite(t)
	s.MustItem(t, "W", 0, 100)
	a := s.MustOrder(t, "2026-12-02", true, "W", 5)
	s.settle(t)
	wantPromise(t, s, a, promiseOf{"2026-12-02", "HIGH", "OK"})

	for _, status := range []string{"On Hold", "Closed"} {
		if _, err := s.sb.SetStatus("Sales Order", a, status); err != nil {
			t.Fatal(err)
		}
		s.settle(t)
		wantPromise(t, s, a, promiseOf{"", "", "Not promised: order is " + status})
		so, err := s.client.SalesOrder(context.Background(), a)
		if err != nil {
			t.Fatal(err)
		}
		if so.Items[0].LinePromiseDate != "" || so.Explanation != "" || so.FirstPromiseDate != "2026-12-02" {
			t.Errorf("%s: line date %q, explanation %q, first promise %q; want the promise cleared, the first promise kept",
				status, so.Items[0].LinePromiseDate, so.Explanation, so.FirstPromiseDate)
		}
		// Said once: another delivery for the order writes nothing.
		before := s.puts()
		task, _ := tasks.NewPromiseOrderTask(tasks.PromiseOrder{SalesOrder: a, Modified: "2026-11-25 10:59:59"})
		if err := s.handle(context.Background(), task); err != nil {
			t.Fatal(err)
		}
		if got := s.puts() - before; got != 0 {
			t.Errorf("%s again: %d writes, want 0", status, got)
		}
		if _, err := s.sb.SetStatus("Sales Order", a, "To Deliver and Bill"); err != nil {
			t.Fatal(err)
		}
		s.settle(t)
		wantPromise(t, s, a, promiseOf{"2026-12-02", "HIGH", "OK"})
	}

	// Drop-shipped only: nothing of ours to promise.
	doc, err := s.sb.Insert("Sales Order", map[string]any{
		"customer": sandbox.DemoCustomer3, "company": sandbox.DemoCompany, "transaction_date": "2026-11-25",
		"set_warehouse": sandbox.DemoStores, "docstatus": 1,
		"items": []any{map[string]any{"item_code": "W", "qty": 3, "rate": 1.0, "delivery_date": "2026-12-02", "delivered_by_supplier": 1}},
	})
	if err != nil {
		t.Fatal(err)
	}
	s.settle(t)
	wantPromise(t, s, doc["name"].(string), promiseOf{"", "", "Not promised: nothing left to ship from our stock (delivered, or drop-shipped by the supplier)"})
}

// A pass costs the same ERPNext requests for a book of 10 orders as for
// 60: one list request a page, then bins, purchase orders and items once.
func TestSandboxPassRequestsDoNotGrowWithOrders(t *testing.T) {
	counts := map[int]map[string]int{}
	for _, n := range []int{10, 60} {
		s := MustSettledSite(t)
		s.MustItem(t, "W", 0, 1000)
		for range n {
			s.MustOrder(t, "2026-12-10", true, "W", 1)
		}
		s.settle(t)
		w, _ := s.newWorker(t, s.client) // a cold calendar cache, as after a restart
		s.sb.ResetCounters()
		if err := w.HandleReconcile(context.Background(), tasks.NewReconcileTask()); err != nil {
			t.Fatal(err)
		}
		counts[n] = s.sb.RequestCounts()
	}
	if diff := cmp.Diff(counts[10], counts[60]); diff != "" {
		t.Errorf("requests of a pass, 10 orders vs 60 (-10 +60):\n%s", diff)
	}
	total := 0
	for _, v := range counts[60] {
		total += v
	}
	// The book, Bins, PO lines, Items; the company's warehouses, company
	// (its holiday list's name) and the holiday list; nothing written.
	if total != 7 {
		t.Errorf("requests of an idle pass = %d, want 7: %v", total, counts[60])
	}
}

// recordingEnqueuer records the tasks a worker queues.
type recordingEnqueuer struct {
	mu    sync.Mutex
	types []string
}

func (r *recordingEnqueuer) EnqueueContext(_ context.Context, t *asynq.Task, _ ...asynq.Option) (*asynq.TaskInfo, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.types = append(r.types, t.Type())
	return &asynq.TaskInfo{}, nil
}

// While changes keep coming, a task that has run passes for PassBudget
// hands the next one to a task of its own instead of looping into its
// timeout.
func TestSandboxPassHandsOnAfterItsBudget(t *testing.T) {
	s := MustSettledSite(t)
	rec := &recordingEnqueuer{}
	s.w.d.Enqueuer = rec
	s.w.d.PassBudget = time.Nanosecond
	ctx := context.Background()
	// Every reading of the clock is "a second" later, and the first few
	// note a change, as saves arriving during the pass would.
	clock, changes := s.now, 0
	s.w.d.Now = func() time.Time {
		if changes < 3 {
			changes++
			if err := s.rdb.Incr(ctx, GenKey).Err(); err != nil {
				t.Error(err)
			}
		}
		clock = clock.Add(time.Second)
		return clock
	}
	if err := s.w.HandleReconcile(ctx, tasks.NewReconcileTask()); err != nil {
		t.Fatal(err)
	}
	current, err := s.w.covered(ctx)
	if err != nil {
		t.Fatal(err)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if current || !slices.Contains(rec.types, tasks.TypeSettleBook) {
		t.Errorf("covered %v, queued %v; want changes left to a settle task it queued", current, rec.types)
	}
}
