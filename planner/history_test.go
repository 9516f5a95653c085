package planner_test

import (
	"context"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/erpnext-otp/otp/accuracy"
	"github.com/erpnext-otp/otp/erp"
	"github.com/erpnext-otp/otp/erp/sandbox"
	"github.com/erpnext-otp/otp/migrations"
	"github.com/erpnext-otp/otp/planner"
	"github.com/erpnext-otp/otp/promise"
)

// historyNow is Tuesday 2026-03-31: March 2026 has no public holiday in
// the demo's list, so working days are Monday to Friday.
var historyNow = time.Date(2026, 3, 31, 10, 0, 0, 0, time.UTC)

// historySite is a sandbox with OTP's fields migrated and a client of its
// API user (the one OTP's comments are by).
type historySite struct {
	sb     *sandbox.Sandbox
	client *erp.Client
}

func MustHistorySite(tb testing.TB) *historySite {
	tb.Helper()
	sb := sandbox.New(sandbox.WithDemoData(), sandbox.WithClock(func() time.Time { return historyNow }),
		sandbox.WithWebhookSleep(func(context.Context, time.Duration) error { return nil }),
		sandbox.WithUser("admin@example.com", "admin-key", "admin-secret", "System Manager"))
	tb.Cleanup(func() { _ = sb.Close() })
	srv := httptest.NewServer(sb)
	tb.Cleanup(srv.Close)
	key, secret := sb.Credentials()
	client, err := erp.New(srv.URL, key, secret)
	if err != nil {
		tb.Fatal(err)
	}
	admin, err := erp.New(srv.URL, "admin-key", "admin-secret")
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := migrations.Up(context.Background(), admin, migrations.Config{
		PublicURL: "http://127.0.0.1:9/", WebhookSecret: "test-secret", APIUser: sb.APIUser(),
	}); err != nil {
		tb.Fatalf("migrations: %v", err)
	}
	return &historySite{sb: sb, client: client}
}

func (h *historySite) insert(tb testing.TB, doctype string, doc map[string]any) map[string]any {
	tb.Helper()
	d, err := h.sb.Insert(doctype, doc)
	if err != nil {
		tb.Fatalf("insert %s: %v", doctype, err)
	}
	return d
}

// order inserts a submitted one-line order of the service item (no stock
// needed to deliver it) with OTP's fields as given, and comments times a
// "Promise:" comment by OTP's API user. It returns the order and its row.
func (h *historySite) order(tb testing.TB, qty float64, first, latest, conf, explanation string, comments int) (string, string) {
	tb.Helper()
	so := h.insert(tb, "Sales Order", map[string]any{"customer": sandbox.DemoCustomer, "company": sandbox.DemoCompany,
		"transaction_date": "2026-02-20", "set_warehouse": sandbox.DemoStores, "docstatus": 1,
		"items": []any{map[string]any{"item_code": sandbox.DemoItemService, "qty": qty, "rate": 1.0, "delivery_date": "2026-03-02"}}})
	name := so["name"].(string)
	row := so["items"].([]any)[0].(map[string]any)["name"].(string)
	if latest != "" {
		fields := map[string]any{erp.FieldPromiseDate: latest, erp.FieldConfidence: conf, erp.FieldExplanation: explanation}
		if first != "" {
			fields[erp.FieldFirstPromiseDate] = first
		}
		if _, err := h.sb.Update("Sales Order", name, fields); err != nil {
			tb.Fatal(err)
		}
	}
	for range comments {
		if err := h.client.AddComment(context.Background(), "Sales Order", name, "Promise: "+latest+" ("+conf+")"); err != nil {
			tb.Fatal(err)
		}
	}
	return name, row
}

// deliver posts a Delivery Note of qty of the order's row on day; a
// negative qty is a return.
func (h *historySite) deliver(tb testing.TB, so, row, day string, qty float64) {
	tb.Helper()
	doc := map[string]any{"customer": sandbox.DemoCustomer, "company": sandbox.DemoCompany, "posting_date": day,
		"set_posting_time": 1, "docstatus": 1, "items": []any{map[string]any{"item_code": sandbox.DemoItemService, "qty": qty,
			"rate": 1.0, "warehouse": sandbox.DemoStores, "against_sales_order": so, "so_detail": row}}}
	if qty < 0 {
		doc["is_return"] = 1
	}
	h.insert(tb, "Delivery Note", doc)
}

// purchase inserts a submitted PO of item from supplier due on due and,
// when received is set, a Purchase Receipt of it posted that day.
func (h *historySite) purchase(tb testing.TB, supplier, item, due, received string) string {
	tb.Helper()
	po := h.insert(tb, "Purchase Order", map[string]any{"supplier": supplier, "company": sandbox.DemoCompany,
		"transaction_date": "2026-02-01", "set_warehouse": sandbox.DemoStores, "docstatus": 1,
		"items": []any{map[string]any{"item_code": item, "qty": 10, "rate": 1.0, "schedule_date": due, "expected_delivery_date": due}}})
	name := po["name"].(string)
	if received != "" {
		row := po["items"].([]any)[0].(map[string]any)["name"].(string)
		h.insert(tb, "Purchase Receipt", map[string]any{"supplier": supplier, "company": sandbox.DemoCompany,
			"posting_date": received, "set_posting_time": 1, "docstatus": 1, "items": []any{map[string]any{
				"item_code": item, "qty": 10, "rate": 1.0, "warehouse": sandbox.DemoStores, "purchase_order": name,
				"purchase_order_item": row}}})
	}
	return name
}

func newHistoryPlanner(h *historySite, rules promise.Rules) *planner.Planner {
	return planner.New(h.client, planner.Config{Company: sandbox.DemoCompany, DefaultWarehouse: sandbox.DemoStores, Rules: rules},
		planner.WithClock(func() time.Time { return historyNow }), planner.WithHistory(h.client))
}

// TestAccuracyOnSandbox builds March's history in the sandbox and checks
// the report's figures, worked out by hand, to the line.
func TestAccuracyOnSandbox(t *testing.T) {
	h := MustHistorySite(t)
	const (
		stock = "10 from stock at Stores - WH; +1 processing day; +1 buffer day"
		po    = "10 from PUR-ORD-2026-00001 due 2026-03-06; +1 processing day"
		lead  = "10 by replenishment lead time (10 days) on 2026-03-05"
	)
	// 1: early, kept on both. One comment: the first promise.
	so1, r1 := h.order(t, 10, "2026-03-05", "2026-03-05", "HIGH", stock, 1)
	h.deliver(t, so1, r1, "2026-03-04", 10)
	// 2: re-promised once Thu 5 → Mon 9, delivered Mon 9: 2 working days late on the first.
	so2, r2 := h.order(t, 10, "2026-03-05", "2026-03-09", "MEDIUM", po, 2)
	h.deliver(t, so2, r2, "2026-03-09", 10)
	// 3: promised Fri 6, delivered Wed 11: 3 working days late.
	so3, r3 := h.order(t, 10, "2026-03-06", "2026-03-06", "LOW", lead, 1)
	h.deliver(t, so3, r3, "2026-03-11", 10)
	// 4: 4 of 10 by the end of March: partial, a miss.
	so4, r4 := h.order(t, 10, "2026-03-06", "2026-03-06", "HIGH", stock, 1)
	h.deliver(t, so4, r4, "2026-03-05", 4)
	// 5: never promised.
	so5, r5 := h.order(t, 3, "", "", "", "", 0)
	h.deliver(t, so5, r5, "2026-03-12", 3)
	// 6: no first promise (promised before the field existed); in full over two notes by Fri 13.
	so6, r6 := h.order(t, 5, "", "2026-03-13", "HIGH", stock, 0)
	h.deliver(t, so6, r6, "2026-03-12", 3)
	h.deliver(t, so6, r6, "2026-03-13", 2)
	// 7: re-promised twice, back to Mon 16; delivered Tue 17 (1 late), returned Wed 18.
	so7, r7 := h.order(t, 1, "2026-03-16", "2026-03-16", "MEDIUM", po, 3)
	h.deliver(t, so7, r7, "2026-03-17", 1)
	h.deliver(t, so7, r7, "2026-03-18", -1)
	// Neither a comment by someone else nor OTP's other comments count.
	if err := h.client.AddComment(context.Background(), "Sales Order", so1, "Called the customer"); err != nil {
		t.Fatal(err)
	}
	// Receipts: Northwind on time, early, 3 working days late (plus the
	// demo's receipt on Mon 30, due 4 April: on time); Contoso 5 late.
	h.purchase(t, sandbox.DemoSupplier, "SKU-001", "2026-03-02", "2026-03-02")
	h.purchase(t, sandbox.DemoSupplier, "SKU-001", "2026-03-03", "2026-03-02")
	h.purchase(t, sandbox.DemoSupplier, "SKU-001", "2026-03-04", "2026-03-09")
	h.purchase(t, sandbox.DemoSupplier2, "SKU-001", "2026-03-05", "2026-03-12")

	p := newHistoryPlanner(h, promise.DefaultRules())
	ctx := context.Background()
	from, to := promise.NewDate(2026, 3, 2), promise.NewDate(2026, 3, 31)
	h.sb.ResetCounters()
	in, err := p.AccuracyInput(ctx, from, to, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	counts := h.sb.RequestCounts()
	for _, route := range []string{"GET /api/resource/Delivery Note", "GET /api/resource/Sales Order",
		"GET /api/resource/Comment", "GET /api/resource/Purchase Receipt", "GET /api/resource/Purchase Order"} {
		if counts[route] != 1 {
			t.Errorf("%s: %d requests, want 1 (all %v)", route, counts[route], counts)
		}
	}
	r, err := accuracy.Compute(in)
	if err != nil {
		t.Fatal(err)
	}
	if r.DeliveredLine != 8 { // the seven above and the demo's delivered order
		t.Errorf("delivered lines %d, want 8", r.DeliveredLine)
	}
	want := accuracy.Figures{
		Measured:   6,
		First:      accuracy.Basis{Lines: 5, OTIF: 1, Ratio: 0.2, Late: 3, NotInFull: 1, P50: 1, P90: 3},
		Latest:     accuracy.Basis{Lines: 6, OTIF: 3, Ratio: 0.5, Late: 2, NotInFull: 1, P50: 0, P90: 3},
		Repromised: 2, RepromisedShare: 2.0 / 6, Repromises: 3, MaxRepromises: 2,
		Tiers: []accuracy.Tier{
			{Confidence: promise.ConfidenceHigh, Lines: 3, Hits: 2, HitRate: 2.0 / 3, Probability: 2.0 / 3},
			{Confidence: promise.ConfidenceMedium, Lines: 2, Hits: 1, HitRate: 0.5, Probability: 0.5},
			{Confidence: promise.ConfidenceLow, Lines: 1, Hits: 0, HitRate: 0, Probability: 0},
		},
		Brier: (2.0/9 + 4.0/9 + 0.5) / 6, BrierLines: 6, Probabilities: "hit rate",
	}
	approx := cmpopts.EquateApprox(0, 1e-12)
	if diff := cmp.Diff(want, r.Figures, approx); diff != "" {
		t.Errorf("figures (-want +got):\n%s", diff)
	}
	line := func(so, row string) string { return so + "/" + row }
	demo := h.sb.Demo().DeliveredSO
	wantLimits := map[string]int{"unpromised": 2, "no_first_promise": 1, "partial": 1, "not_yet_due": 0, "split": 1, "returns": 1}
	gotLimits := map[string]int{"unpromised": r.Limits.Unpromised.Count, "no_first_promise": r.Limits.NoFirstPromise.Count,
		"partial": r.Limits.Partial.Count, "not_yet_due": r.Limits.NotYetDue.Count, "split": r.Limits.Split.Count,
		"returns": r.Limits.Returns.Count}
	if diff := cmp.Diff(wantLimits, gotLimits); diff != "" {
		t.Errorf("limits (-want +got):\n%s", diff)
	}
	for _, c := range []struct {
		limit accuracy.Limit
		name  string
	}{{r.Limits.Partial, line(so4, r4)}, {r.Limits.Split, line(so6, r6)}, {r.Limits.Returns, line(so7, r7)},
		{r.Limits.NoFirstPromise, line(so6, r6)}, {r.Limits.Unpromised, line(so5, r5)}} {
		if !strings.Contains(strings.Join(c.limit.Names, " "), c.name) {
			t.Errorf("limit %v does not name %s", c.limit, c.name)
		}
	}
	if !strings.Contains(strings.Join(r.Limits.Unpromised.Names, " "), demo+"/") {
		t.Errorf("unpromised %v does not name the demo's delivered order %s", r.Limits.Unpromised.Names, demo)
	}
	var sources []string
	for _, g := range r.Breakdowns[accuracy.BySource] {
		sources = append(sources, g.Key+":"+strconv.Itoa(g.Latest.Lines)+"/"+strconv.Itoa(g.Latest.OTIF))
	}
	if diff := cmp.Diff([]string{"lead_time:1/0", "purchase_order:2/1", "stock:3/2"}, sources); diff != "" {
		t.Errorf("by source (-want +got):\n%s", diff)
	}
	wantSup := []accuracy.Supplier{
		{Supplier: sandbox.DemoSupplier2, Receipts: 1, OnTime: 0, Rate: 0, P50: 5, P90: 5},
		{Supplier: sandbox.DemoSupplier, Receipts: 4, OnTime: 3, Rate: 0.75, P50: 0, P90: 3},
	}
	if diff := cmp.Diff(wantSup, r.Suppliers, approx); diff != "" {
		t.Errorf("suppliers (-want +got):\n%s", diff)
	}
}

func mustDate(tb testing.TB, s string) promise.Date {
	tb.Helper()
	d, err := promise.ParseDate(s)
	if err != nil {
		tb.Fatal(err)
	}
	return d
}

// TestHistoryModeOnSandbox: Contoso Parts was 10 days late five times in
// the window; its PO due Friday 3 April (3 days out: MEDIUM by the rules)
// serves an order wanted Friday 10 April, booked for Wednesday 8: 5 days
// of slack, never enough for Contoso. History mode makes it LOW and says why.
func TestHistoryModeOnSandbox(t *testing.T) {
	h := MustHistorySite(t)
	for _, due := range []string{"2026-03-02", "2026-03-05", "2026-03-09", "2026-03-12", "2026-03-16"} {
		got := mustDate(t, due).AddDays(10).String()
		h.purchase(t, sandbox.DemoSupplier2, "SKU-001", due, got)
	}
	open := h.purchase(t, sandbox.DemoSupplier2, "SKU-037", "2026-04-03", "")
	so := h.insert(t, "Sales Order", map[string]any{"customer": sandbox.DemoCustomer, "company": sandbox.DemoCompany,
		"transaction_date": "2026-03-31", "set_warehouse": sandbox.DemoStores, "docstatus": 1,
		"items": []any{map[string]any{"item_code": "SKU-037", "qty": 5, "rate": 1.0, "delivery_date": "2026-04-10"}}})
	ctx := context.Background()
	order, err := h.client.SalesOrder(ctx, so["name"].(string))
	if err != nil {
		t.Fatal(err)
	}
	history := promise.DefaultRules()
	history.Confidence.History = true
	for _, tc := range []struct {
		name     string
		rules    promise.Rules
		want     promise.Confidence
		wantNote string
	}{
		{"rules", promise.DefaultRules(), promise.ConfidenceMedium, ""},
		{"history", history, promise.ConfidenceLow, open + " from " + sandbox.DemoSupplier2 + ": on time 0 % in 180 days, 5 days of slack"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newHistoryPlanner(h, tc.rules)
			in, err := p.ForOrder(ctx, order)
			if err != nil {
				t.Fatal(err)
			}
			a, err := promise.Allocate(in.Now, promise.Book{Orders: in.Book, Supply: in.Supply}, in.Calendar, in.Rules)
			if err != nil {
				t.Fatal(err)
			}
			plan, err := a.Plan(order.Name)
			if err != nil {
				t.Fatal(err)
			}
			if plan.Lines[0].Confidence != tc.want || plan.Confidence != tc.want {
				t.Errorf("confidence line %s order %s, want %s: %s", plan.Lines[0].Confidence, plan.Confidence, tc.want, plan.Explanation)
			}
			if tc.wantNote != "" && !strings.Contains(plan.Explanation, tc.wantNote) {
				t.Errorf("explanation %q does not say %q", plan.Explanation, tc.wantNote)
			}
		})
	}
}
