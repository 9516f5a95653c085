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
	"github.com/erpnext-otp/otp/planner"
	"github.com/erpnext-otp/otp/promise"
	"github.com/erpnext-otp/otp/tasks"
)

// These tests run the worker against the Frappe-faithful sandbox over real
// HTTP, through the real erp client.

// MustSetUpCustomFields creates OTP's custom fields on Sales Order and Sales
// Order Item as `otp migrate` does (DESIGN.md §5.5): allow_on_submit, so
// that a submitted order accepts the write (erpnext-reference.md §4).
func MustSetUpCustomFields(tb testing.TB, sb *sandbox.Sandbox) {
	tb.Helper()
	confidence := "\nHIGH\nMEDIUM\nLOW"
	fields := []struct{ dt, name, typ, options string }{
		{"Sales Order", erp.FieldPromiseDate, "Date", ""},
		{"Sales Order", erp.FieldConfidence, "Select", confidence},
		{"Sales Order", erp.FieldPromiseStatus, "Select", "\nOK\nCANNOT_FULFILL\nCANNOT_PROMISE_RELIABLY"},
		{"Sales Order", erp.FieldFirstPromiseDate, "Date", ""},
		{"Sales Order", erp.FieldPromisedAt, "Datetime", ""},
		{"Sales Order", erp.FieldExplanation, "Small Text", ""},
		{"Sales Order", erp.FieldFingerprint, "Data", ""},
		{"Sales Order Item", erp.FieldLinePromiseDate, "Date", ""},
		{"Sales Order Item", erp.FieldLineConfidence, "Select", confidence},
	}
	for _, f := range fields {
		doc := map[string]any{
			"dt": f.dt, "fieldname": f.name, "label": f.name, "fieldtype": f.typ, "insert_after": "append",
			"allow_on_submit": 1, "read_only": 1, "no_copy": 1,
		}
		if f.options != "" {
			doc["options"] = f.options
		}
		if _, err := sb.Insert("Custom Field", doc); err != nil {
			tb.Fatalf("custom field %s.%s: %v", f.dt, f.name, err)
		}
	}
}

// site is a sandbox with OTP's custom fields and webhooks, served over HTTP,
// and a worker reading it through the erp client.
type site struct {
	sb       *sandbox.Sandbox
	client   *erp.Client
	url      string    // the sandbox's API
	now      time.Time // the clock of the site and its worker
	w        *Worker
	versions *tasks.Versions

	mu    sync.Mutex
	saves []tasks.PromiseOrder // webhook deliveries, in order
	seen  map[string]bool      // task ids already "enqueued"
}

// MustSite builds a site whose clock (the sandbox's and the worker's) stops at now.
func MustSite(tb testing.TB, now time.Time, opts ...sandbox.Option) *site {
	tb.Helper()
	base := []sandbox.Option{
		sandbox.WithDemoData(),
		sandbox.WithClock(func() time.Time { return now }),
		sandbox.WithWebhookSleep(func(context.Context, time.Duration) error { return nil }),
	}
	sb := sandbox.New(append(base, opts...)...)
	tb.Cleanup(func() { sb.Close() })
	MustSetUpCustomFields(tb, sb)
	api := httptest.NewServer(sb)
	tb.Cleanup(api.Close)
	key, secret := sb.Credentials()
	client, err := erp.New(api.URL, key, secret)
	if err != nil {
		tb.Fatal(err)
	}
	s := &site{sb: sb, client: client, url: api.URL, now: now, seen: map[string]bool{}}

	s.w, s.versions = s.newWorker(tb, client)
	return s
}

// MustHook points OTP's Sales Order webhooks (as the migration sets them
// up) at a receiver that records what the server would enqueue.
func (s *site) MustHook(tb testing.TB) {
	tb.Helper()
	// The webhooks OTP's migration sets up, delivered to a receiver that
	// records what the server would enqueue.
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var p tasks.PromiseOrder
		body, _ := io.ReadAll(r.Body)
		var doc struct{ Name, Modified string }
		if err := json.Unmarshal(body, &doc); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		p.SalesOrder, p.Modified, p.Event = doc.Name, doc.Modified, r.URL.Query().Get("event")
		s.mu.Lock()
		s.saves = append(s.saves, p)
		s.mu.Unlock()
	}))
	tb.Cleanup(recv.Close)
	for _, event := range []string{"on_update", "on_submit", "on_change"} {
		_, err := s.sb.Insert("Webhook", map[string]any{
			"name": "otp-sales-order-" + event, "webhook_doctype": "Sales Order", "webhook_docevent": event,
			"request_url": recv.URL + "?event=" + event, "request_structure": "Form URL-Encoded",
			"webhook_data": []any{
				map[string]any{"fieldname": "name", "key": "name"},
				map[string]any{"fieldname": "modified", "key": "modified"},
			},
		})
		if err != nil {
			tb.Fatalf("webhook %s: %v", event, err)
		}
	}

}

// newWorker is a worker over client with a cold planner and its own miniredis.
func (s *site) newWorker(tb testing.TB, client *erp.Client) (*Worker, *tasks.Versions) {
	tb.Helper()
	mr := miniredis.RunT(tb)
	rdb := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	tb.Cleanup(func() { rdb.Close() })
	quiet := slog.New(slog.DiscardHandler)
	clock := func() time.Time { return s.now }
	pl := planner.New(client, planner.Config{
		Company: sandbox.DemoCompany, DefaultWarehouse: sandbox.DemoStores, Rules: promise.DefaultRules(),
	}, planner.WithClock(clock), planner.WithLogger(quiet))
	versions := tasks.NewVersions(rdb)
	w := New(Deps{
		ERP: client, Planner: pl, Versions: versions, Enqueuer: asynq.NewClientFromRedisClient(rdb), Redis: rdb,
		APIUser: s.sb.APIUser(), Logger: quiet, Now: clock, Location: time.UTC,
	})
	return w, versions
}

// settle plays the server and the queue until ERPNext stops sending
// webhooks: each delivery of a new (order, modified) is recorded and
// promised, as the server's enqueue with a per-version task id does. It
// returns the number of promise tasks run.
func (s *site) settle(tb testing.TB) int {
	tb.Helper()
	ctx := context.Background()
	ran := 0
	for range 10 {
		if err := s.sb.WaitForWebhooks(ctx); err != nil {
			tb.Fatal(err)
		}
		s.mu.Lock()
		saves := s.saves
		s.saves = nil
		s.mu.Unlock()
		if len(saves) == 0 {
			return ran
		}
		var todo []tasks.PromiseOrder
		for _, p := range saves {
			id := tasks.PromiseOrderID(p.SalesOrder, p.Modified)
			if s.seen[id] {
				continue
			}
			s.seen[id] = true
			if _, err := s.versions.Record(ctx, p.SalesOrder, p.Modified); err != nil {
				tb.Fatal(err)
			}
			todo = append(todo, p)
		}
		for _, p := range todo {
			task, err := tasks.NewPromiseOrderTask(p)
			if err != nil {
				tb.Fatal(err)
			}
			if err := s.w.HandlePromiseOrder(ctx, task); err != nil {
				tb.Fatalf("promise %s@%s: %v", p.SalesOrder, p.Modified, err)
			}
			ran++
		}
	}
	tb.Fatal("webhooks never settled: a write-back loop")
	return ran
}

// otpFields picks OTP's custom fields from a document as GET returns it
// (nulls omitted).
func otpFields(doc map[string]any) (map[string]any, []map[string]any) {
	pick := func(row map[string]any, names ...string) map[string]any {
		out := map[string]any{}
		for _, n := range names {
			if v, ok := row[n]; ok {
				out[n] = v
			}
		}
		return out
	}
	order := pick(doc, erp.FieldPromiseDate, erp.FieldConfidence, erp.FieldPromiseStatus, erp.FieldFirstPromiseDate,
		erp.FieldPromisedAt, erp.FieldExplanation, erp.FieldFingerprint)
	var lines []map[string]any
	rows, _ := doc["items"].([]any)
	for _, r := range rows {
		row, _ := r.(map[string]any)
		lines = append(lines, pick(row, "item_code", erp.FieldLinePromiseDate, erp.FieldLineConfidence))
	}
	return order, lines
}

func TestSandboxLoopSettlesWithOneWrite(t *testing.T) {
	for _, docstatus := range []int{0, 1} {
		t.Run([]string{"draft", "submitted"}[docstatus], func(t *testing.T) {
			s := MustSite(t, pinned)
			s.MustHook(t)
			s.sb.ResetCounters()
			// SKU-001: 120 on hand, 5 owed to a past-due order. SKU-002: 40
			// on hand, 10 owed to another order. Both ship from stock.
			doc, err := s.sb.Insert("Sales Order", map[string]any{
				"customer": sandbox.DemoCustomer, "company": sandbox.DemoCompany, "transaction_date": "2026-11-25",
				"set_warehouse": sandbox.DemoStores, "docstatus": docstatus,
				"items": []any{
					map[string]any{"item_code": "SKU-001", "qty": 5, "rate": 12.0, "delivery_date": "2026-12-02"},
					map[string]any{"item_code": "SKU-002", "qty": 10, "rate": 9.0, "delivery_date": "2026-12-02"},
				},
			})
			if err != nil {
				t.Fatal(err)
			}
			name := doc["name"].(string)

			if ran := s.settle(t); ran < 2 {
				t.Errorf("promise tasks run = %d, want the save's and our write's echo", ran)
			}
			if got := s.sb.Requests("PUT /api/resource/Sales Order"); got != 1 {
				t.Errorf("PUTs = %d, want exactly 1", got)
			}
			if got := s.sb.Requests("POST /api/resource/Comment"); got != 1 {
				t.Errorf("comments = %d, want 1", got)
			}

			saved, err := s.sb.Get("Sales Order", name)
			if err != nil {
				t.Fatal(err)
			}
			order, lines := otpFields(saved)
			fp, _ := order[erp.FieldFingerprint].(string)
			// From stock today (Wednesday, before the cutoff): ready
			// Thursday, +1 buffer day: Friday 2026-11-27.
			wantOrder := map[string]any{
				erp.FieldPromiseDate:      "2026-11-27",
				erp.FieldConfidence:       "HIGH",
				erp.FieldPromiseStatus:    "OK",
				erp.FieldFirstPromiseDate: "2026-11-27",
				erp.FieldPromisedAt:       "2026-11-25 10:00:00",
				erp.FieldExplanation: "SKU-001: 5 from stock at Stores - WH; SKU-002: 10 from stock at Stores - WH; " +
					"+1 processing day; +1 buffer day",
				erp.FieldFingerprint: fp,
			}
			if diff := cmp.Diff(wantOrder, order); diff != "" {
				t.Errorf("order fields (-want +got):\n%s", diff)
			}
			if len(fp) != 16 {
				t.Errorf("fingerprint = %q", fp)
			}
			wantLines := []map[string]any{
				{"item_code": "SKU-001", erp.FieldLinePromiseDate: "2026-11-27", erp.FieldLineConfidence: "HIGH"},
				{"item_code": "SKU-002", erp.FieldLinePromiseDate: "2026-11-27", erp.FieldLineConfidence: "HIGH"},
			}
			if diff := cmp.Diff(wantLines, lines); diff != "" {
				t.Errorf("line fields (-want +got):\n%s", diff)
			}
			if got := saved["modified_by"]; got != s.sb.APIUser() {
				t.Errorf("modified_by = %v, want the API user", got)
			}

			// A supply-driven re-promise with nothing new: no write.
			before := s.sb.Requests("PUT /api/resource/Sales Order")
			task, _ := tasks.NewPromiseOrderTask(tasks.PromiseOrder{SalesOrder: name, Event: "supply"})
			if err := s.w.HandlePromiseOrder(context.Background(), task); err != nil {
				t.Fatal(err)
			}
			if got := s.sb.Requests("PUT /api/resource/Sales Order"); got != before {
				t.Errorf("PUTs after an idle re-promise = %d, want %d", got, before)
			}
		})
	}
}

// A promise costs the same ERPNext requests for 3 lines as for 60.
func TestSandboxRequestsDoNotGrowWithLines(t *testing.T) {
	s := MustSite(t, pinned)
	counts := map[int]map[string]int{}
	for _, n := range []int{3, 60} {
		var items []any
		for i := range n {
			items = append(items, map[string]any{
				"item_code": fmt.Sprintf("SKU-%03d", i%30+1), "qty": 1, "rate": 1.0, "delivery_date": "2026-12-09",
			})
		}
		doc, err := s.sb.Insert("Sales Order", map[string]any{
			"customer": sandbox.DemoCustomer2, "company": sandbox.DemoCompany, "transaction_date": "2026-11-25",
			"set_warehouse": sandbox.DemoStores, "items": items,
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.sb.WaitForWebhooks(context.Background()); err != nil {
			t.Fatal(err)
		}
		w, _ := s.newWorker(t, s.client) // a cold cache each time
		s.sb.ResetCounters()
		task, _ := tasks.NewPromiseOrderTask(tasks.PromiseOrder{SalesOrder: doc["name"].(string)})
		if err := w.HandlePromiseOrder(context.Background(), task); err != nil {
			t.Fatal(err)
		}
		counts[n] = s.sb.RequestCounts()
	}
	if diff := cmp.Diff(counts[3], counts[60]); diff != "" {
		t.Errorf("requests, 3 lines vs 60 (-3 +60):\n%s", diff)
	}
	total := 0
	for _, v := range counts[60] {
		total += v
	}
	// Order, Bins, PO lines, SO lines, Items, Warehouses, Company, Holiday
	// List, the PUT and the comment.
	if total != 10 {
		t.Errorf("requests for a cold promise = %d, want 10: %v", total, counts[60])
	}
}

// MustOrder inserts a draft order of lines (item code → qty) from Stores.
func (s *site) MustOrder(tb testing.TB, delivery string, lines ...any) string {
	tb.Helper()
	var items []any
	for i := 0; i+1 < len(lines); i += 2 {
		items = append(items, map[string]any{"item_code": lines[i], "qty": lines[i+1], "rate": 1.0, "delivery_date": delivery})
	}
	doc, err := s.sb.Insert("Sales Order", map[string]any{
		"customer": sandbox.DemoCustomer3, "company": sandbox.DemoCompany, "transaction_date": s.now.Format(time.DateOnly),
		"set_warehouse": sandbox.DemoStores, "items": items,
	})
	if err != nil {
		tb.Fatal(err)
	}
	if err := s.sb.WaitForWebhooks(context.Background()); err != nil {
		tb.Fatal(err)
	}
	return doc["name"].(string)
}

// The company's Holiday List decides the date when readable; when the API
// user may not read it (HR Manager only, erpnext-reference.md §2.8), the
// configured weekend does, and the promise is still made.
func TestSandboxHolidayList(t *testing.T) {
	wednesday := time.Date(2026, 12, 23, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name  string
		roles []string
		want  string
	}{
		// Ready Thursday 12-24; +1 buffer day skips Christmas (Fri) and
		// the weekend: Monday.
		{"holiday list readable", sandbox.DefaultRoles, "2026-12-28"},
		// No HR Manager: 403 on the list, Saturday and Sunday only.
		{"holiday list forbidden", []string{"Sales User", "Sales Manager", "Stock User", "Purchase User"}, "2026-12-25"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := MustSite(t, wednesday, sandbox.WithUserRoles(sandbox.DefaultAPIUser, tt.roles...))
			name := s.MustOrder(t, "2026-12-30", "SKU-001", 1)
			task, _ := tasks.NewPromiseOrderTask(tasks.PromiseOrder{SalesOrder: name})
			if err := s.w.HandlePromiseOrder(context.Background(), task); err != nil {
				t.Fatal(err)
			}
			saved, err := s.client.SalesOrder(context.Background(), name)
			if err != nil {
				t.Fatal(err)
			}
			if saved.PromiseDate != tt.want || saved.Confidence != "HIGH" {
				t.Errorf("promise = %s %s, want %s HIGH (%s)", saved.PromiseDate, saved.Confidence, tt.want, saved.Explanation)
			}
		})
	}
}

func TestSandboxFailures(t *testing.T) {
	tests := []struct {
		name         string
		roles        []string // the API user's; nil = the defaults
		order        string   // "" = a fresh draft
		fail         func(sb *sandbox.Sandbox)
		wantSkip     bool
		wantSay      string
		retryAtLeast time.Duration // RetryDelay must wait at least this long
		wantRequests int           // 0 = 1, the order read
	}{
		{name: "order not found (404)", order: "SAL-ORD-2026-99999", wantSkip: true, wantSay: "not found"},
		// Stock User reads Sales Orders but may not write them: the promise
		// is planned (8 reads) and the PUT refused.
		{name: "not allowed to write orders (403)", roles: []string{"Stock User", "Purchase User", "HR Manager"},
			wantSkip: true, wantSay: "permission denied", wantRequests: 9},
		{name: "ERPNext behind a failing proxy (502)", wantSay: "server error", retryAtLeast: time.Second,
			fail: func(sb *sandbox.Sandbox) {
				sb.FailNext(1, http.StatusBadGateway, "<html><h1>502 Bad Gateway</h1></html>", nil)
			}},
		{name: "rate limited (429 Retry-After)", wantSay: "rate limited", retryAtLeast: 120 * time.Second,
			fail: func(sb *sandbox.Sandbox) {
				sb.FailNext(1, http.StatusTooManyRequests, `{"exc_type":"TooManyRequestsError"}`, http.Header{"Retry-After": {"120"}})
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
			order := tt.order
			if order == "" {
				order = s.MustOrder(t, "2026-12-02", "SKU-001", 2)
			}
			if tt.fail != nil {
				tt.fail(s.sb)
			}
			s.sb.ResetCounters()
			task, _ := tasks.NewPromiseOrderTask(tasks.PromiseOrder{SalesOrder: order})
			err = w.HandlePromiseOrder(context.Background(), task)
			if err == nil {
				t.Fatal("err = nil")
			}
			if got := errors.Is(err, asynq.SkipRetry); got != tt.wantSkip {
				t.Errorf("archived = %v, want %v: %v", got, tt.wantSkip, err)
			}
			if !strings.Contains(err.Error(), tt.wantSay) || !strings.Contains(err.Error(), order) {
				t.Errorf("err = %q, want it to name %s and say %q", err, order, tt.wantSay)
			}
			if d := RetryDelay(0, err, task); !tt.wantSkip && d < tt.retryAtLeast {
				t.Errorf("RetryDelay = %v, want at least %v", d, tt.retryAtLeast)
			}
			if tt.wantRequests == 0 {
				tt.wantRequests = 1
			}
			if got := s.sb.TotalRequests(); got != tt.wantRequests {
				t.Errorf("requests = %d, want %d: %v", got, tt.wantRequests, s.sb.RequestCounts())
			}
		})
	}
}

// recordingEnqueuer records the orders of the promise tasks enqueued.
type recordingEnqueuer struct {
	mu     sync.Mutex
	orders []string
}

func (r *recordingEnqueuer) EnqueueContext(_ context.Context, t *asynq.Task, _ ...asynq.Option) (*asynq.TaskInfo, error) {
	var p tasks.PromiseOrder
	if err := json.Unmarshal(t.Payload(), &p); err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.orders = append(r.orders, p.SalesOrder)
	return &asynq.TaskInfo{}, nil
}

// A supply change re-promises the open orders with its items, drafts
// included (DESIGN.md §1.4): a draft is where sales staff quote a date, and
// the reconcile sweep only sees orders saved since its cursor.
func TestSandboxSupplyChangeRePromisesDrafts(t *testing.T) {
	s := MustSite(t, pinned)
	d := s.sb.Demo()
	rec := &recordingEnqueuer{}
	s.w.d.Enqueuer = rec
	s.sb.ResetCounters()
	po := tasks.SupplyChanged{DocType: "Purchase Order", Name: d.OpenPO, Event: "on_update_after_submit",
		Items: []string{sandbox.DemoItemContended}}
	if err := s.w.HandleSupplyChanged(context.Background(), MustSupplyTask(t, po)); err != nil {
		t.Fatal(err)
	}
	// SKU-050: the submitted ContendedSO1 and ContendedSO2, and the draft DraftSO.
	want := []string{d.ContendedSO1, d.ContendedSO2, d.DraftSO}
	slices.Sort(want)
	if diff := cmp.Diff(want, rec.orders); diff != "" {
		t.Errorf("orders re-promised (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]int{"GET /api/resource/Sales Order": 1}, s.sb.RequestCounts()); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
}
