package erp_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/erpnext-otp/otp/erp"
	"github.com/erpnext-otp/otp/erp/sandbox"
)

// These tests run the client over real HTTP against the sandbox, a
// Frappe-faithful ERPNext (erp/sandbox), and count its requests per route.

var sandboxNow = time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC) // a Monday

// MustSandbox starts a sandbox with the demo data on 127.0.0.1.
func MustSandbox(tb testing.TB, opts ...sandbox.Option) (*sandbox.Sandbox, *httptest.Server) {
	tb.Helper()
	all := append([]sandbox.Option{sandbox.WithDemoData(), sandbox.WithClock(func() time.Time { return sandboxNow })}, opts...)
	s := sandbox.New(all...)
	srv := httptest.NewServer(s)
	tb.Cleanup(func() {
		srv.Close()
		_ = s.Close()
	})
	return s, srv
}

// MustSandboxClient is a client of the sandbox's API user.
func MustSandboxClient(tb testing.TB, s *sandbox.Sandbox, srv *httptest.Server, opts ...erp.Option) *erp.Client {
	tb.Helper()
	key, secret := s.Credentials()
	all := append([]erp.Option{erp.WithRetry(4, time.Millisecond, 5*time.Millisecond)}, opts...)
	c, err := erp.New(srv.URL, key, secret, all...)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// countRequests runs fn and returns the sandbox's per-route request counts it caused.
func countRequests(tb testing.TB, s *sandbox.Sandbox, fn func()) map[string]int {
	tb.Helper()
	s.ResetCounters()
	fn()
	return s.RequestCounts()
}

func skus(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("SKU-%03d", i+1)
	}
	return out
}

func TestSandboxReadsAreOneRequestEach(t *testing.T) {
	s, srv := MustSandbox(t)
	c := MustSandboxClient(t, s, srv)
	ctx := testContext(t)
	many := skus(120) // the demo has SKU-001..SKU-050; the rest do not exist

	// What the sandbox holds, read without filters, to check the filtered reads against.
	allBins, err := c.List(ctx, "Bin", erp.ListQuery{Fields: []string{"item_code", "warehouse", "actual_qty"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(allBins) == 0 {
		t.Fatal("demo data has no Bins")
	}

	t.Run("Bins of 120 items: one POST get_list", func(t *testing.T) {
		var bins []erp.Bin
		got := countRequests(t, s, func() { bins, err = c.Bins(ctx, many, nil) })
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(map[string]int{"POST /api/method/frappe.client.get_list": 1}, got); diff != "" {
			t.Errorf("requests (-want +got):\n%s", diff)
		}
		want := 0
		for _, b := range allBins {
			if slices.Contains(many, b["item_code"].(string)) {
				want++
			}
		}
		if len(bins) != want {
			t.Errorf("Bins = %d rows, want the %d Bins of those items", len(bins), want)
		}
	})

	t.Run("Bins of 3 items in one warehouse: one GET", func(t *testing.T) {
		wh := allBins[0]["warehouse"].(string)
		item := allBins[0]["item_code"].(string)
		var bins []erp.Bin
		got := countRequests(t, s, func() { bins, err = c.Bins(ctx, []string{item, "SKU-998", "SKU-999"}, []string{wh}) })
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(map[string]int{"GET /api/resource/Bin": 1}, got); diff != "" {
			t.Errorf("requests (-want +got):\n%s", diff)
		}
		if len(bins) != 1 || bins[0].ItemCode != item || bins[0].Warehouse != wh || bins[0].ActualQty != allBins[0]["actual_qty"].(float64) {
			t.Errorf("Bins = %+v, want the one Bin %s in %s with actual_qty %v", bins, item, wh, allBins[0]["actual_qty"])
		}
	})

	t.Run("open Purchase Order lines of 120 items: one request, parent statuses open", func(t *testing.T) {
		var lines []erp.PurchaseOrderLine
		got := countRequests(t, s, func() { lines, err = c.OpenPurchaseOrderLines(ctx, many) })
		if err != nil {
			t.Fatal(err)
		}
		if total(got) != 1 {
			t.Errorf("requests = %v, want 1", got)
		}
		if len(lines) == 0 {
			t.Fatal("no open PO lines in the demo data")
		}
		checkAgainstDocs(t, c, "Purchase Order", lines, func(l erp.PurchaseOrderLine) (string, string, string, float64) {
			return l.PurchaseOrder, l.Name, l.Status, l.Qty
		})
		for _, l := range lines {
			if slices.Contains([]string{"Closed", "Completed", "Delivered"}, l.Status) {
				t.Errorf("line %s of %s has status %s", l.Name, l.PurchaseOrder, l.Status)
			}
		}
	})

	t.Run("the open order book: one request a page, drafts and submitted, open only", func(t *testing.T) {
		var lines []erp.SalesOrderLine
		got := countRequests(t, s, func() { lines, err = c.OpenOrderBook(ctx, 0) })
		if err != nil {
			t.Fatal(err)
		}
		if total(got) != 1 {
			t.Errorf("requests = %v, want 1", got)
		}
		if len(lines) == 0 {
			t.Fatal("no open SO lines in the demo data")
		}
		checkAgainstDocs(t, c, "Sales Order", lines, func(l erp.SalesOrderLine) (string, string, string, float64) {
			return l.SalesOrder, l.Name, l.Status, l.Qty
		})
		for _, l := range lines {
			if slices.Contains([]string{"Closed", "Completed", "On Hold", "Cancelled"}, l.Status) || l.DeliveryDate == "" || l.Creation == "" {
				t.Errorf("line %s of %s: status %s, delivery date %q, creation %q", l.Name, l.SalesOrder, l.Status, l.DeliveryDate, l.Creation)
			}
		}
		// Pages of 3 rows give the same lines, in as many requests as pages.
		var paged []erp.SalesOrderLine
		got = countRequests(t, s, func() { paged, err = c.OpenOrderBook(ctx, 3) })
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(lines, paged); diff != "" {
			t.Errorf("paged book differs (-one page +pages of 3):\n%s", diff)
		}
		if want := len(lines)/3 + 1; total(got) != want {
			t.Errorf("requests with pages of 3 = %d, want %d for %d lines", total(got), want, len(lines))
		}
	})

	t.Run("Items of 120 codes: one request, the 50 that exist", func(t *testing.T) {
		var items []erp.Item
		got := countRequests(t, s, func() { items, err = c.Items(ctx, many) })
		if err != nil {
			t.Fatal(err)
		}
		if total(got) != 1 {
			t.Errorf("requests = %v, want 1", got)
		}
		if len(items) != 50 || items[0].Code != "SKU-001" || items[49].Code != "SKU-050" {
			t.Errorf("Items = %d rows (%v..), want SKU-001..SKU-050", len(items), items[:min(len(items), 1)])
		}
	})

	t.Run("one request each for the rest", func(t *testing.T) {
		var (
			companies []string
			whs       []erp.Warehouse
			hlName    string
			hl        *erp.HolidayList
			user      string
		)
		reads := []struct {
			route string
			read  func() error
		}{
			{"GET /api/resource/Company", func() (err error) { companies, err = c.Companies(ctx); return }},
			{"GET /api/resource/Warehouse", func() (err error) { whs, err = c.Warehouses(ctx, "OTP Demo Co"); return }},
			{"GET /api/method/frappe.client.get_value", func() (err error) { hlName, err = c.CompanyHolidayList(ctx, "OTP Demo Co"); return }},
			{"GET /api/resource/Holiday List", func() (err error) { hl, err = c.HolidayList(ctx, hlName); return }},
			{"GET /api/method/frappe.auth.get_logged_user", func() (err error) { user, err = c.LoggedUser(ctx); return }},
			{"GET /api/method/ping", func() error { return c.Ping(ctx) }},
		}
		for _, r := range reads {
			var err error
			got := countRequests(t, s, func() { err = r.read() })
			if err != nil {
				t.Fatalf("%s: %v", r.route, err)
			}
			if diff := cmp.Diff(map[string]int{r.route: 1}, got); diff != "" {
				t.Errorf("%s requests (-want +got):\n%s", r.route, diff)
			}
		}
		if diff := cmp.Diff([]string{"OTP Demo Co"}, companies); diff != "" {
			t.Errorf("Companies (-want +got):\n%s", diff)
		}
		if !slices.ContainsFunc(whs, func(w erp.Warehouse) bool { return w.Name == "Stores - WH" && w.Company == "OTP Demo Co" }) {
			t.Errorf("Warehouses = %+v, want Stores - WH", whs)
		}
		if hl == nil || hl.Name != hlName || len(hl.Holidays) == 0 || !slices.IsSortedFunc(hl.Holidays, func(a, b erp.Holiday) int { return strings.Compare(a.Date, b.Date) }) {
			t.Errorf("HolidayList(%q) = %+v, want sorted rows", hlName, hl)
		}
		if user != s.APIUser() {
			t.Errorf("LoggedUser = %q, want %q", user, s.APIUser())
		}
	})

	t.Run("SalesOrder: one GET, same as the document", func(t *testing.T) {
		list, err := c.SalesOrdersModifiedSince(ctx, "", "", 1)
		if err != nil || len(list) != 1 {
			t.Fatalf("SalesOrdersModifiedSince = %v, %v", list, err)
		}
		var so *erp.SalesOrder
		got := countRequests(t, s, func() { so, err = c.SalesOrder(ctx, list[0].Name) })
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(map[string]int{"GET /api/resource/Sales Order": 1}, got); diff != "" {
			t.Errorf("requests (-want +got):\n%s", diff)
		}
		items, _ := so.Raw["items"].([]any)
		if so.Name != list[0].Name || so.Modified != list[0].Modified || len(so.Items) == 0 || len(so.Items) != len(items) {
			t.Errorf("SalesOrder = %s modified %s with %d items (%d raw), want %s modified %s",
				so.Name, so.Modified, len(so.Items), len(items), list[0].Name, list[0].Modified)
		}
	})

	t.Run("SalesOrders pages do not overlap and follow the filters", func(t *testing.T) {
		first, err := c.SalesOrders(ctx, erp.SalesOrderQuery{Limit: 3})
		if err != nil {
			t.Fatal(err)
		}
		second, err := c.SalesOrders(ctx, erp.SalesOrderQuery{Limit: 3, Offset: 3})
		if err != nil {
			t.Fatal(err)
		}
		if len(first) != 3 || len(second) == 0 {
			t.Fatalf("pages of %d and %d orders, want 3 and some", len(first), len(second))
		}
		for _, a := range first {
			for _, b := range second {
				if a.Name == b.Name {
					t.Errorf("%s is on both pages", a.Name)
				}
			}
			if a.TransactionDate < second[0].TransactionDate {
				t.Errorf("page 1 has %s on %s, older than page 2's %s", a.Name, a.TransactionDate, second[0].TransactionDate)
			}
		}
		cust := first[0].Customer
		mine, err := c.SalesOrders(ctx, erp.SalesOrderQuery{Limit: 100, Customer: cust})
		if err != nil {
			t.Fatal(err)
		}
		for _, so := range mine {
			if so.Customer != cust || so.DocStatus > 1 {
				t.Errorf("customer filter %q returned %s of %s, docstatus %d", cust, so.Name, so.Customer, so.DocStatus)
			}
		}
		found, err := c.SalesOrders(ctx, erp.SalesOrderQuery{Search: first[0].Name[len(first[0].Name)-3:]})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.ContainsFunc(found, func(so erp.SalesOrderSummary) bool { return so.Name == first[0].Name }) {
			t.Errorf("search for the end of %s found %v", first[0].Name, found)
		}
	})

	t.Run("SalesOrdersModifiedSince: ascending, after the cursor, open only", func(t *testing.T) {
		all, err := c.SalesOrdersModifiedSince(ctx, "", "", 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(all) < 2 {
			t.Fatalf("%d open orders, want at least 2", len(all))
		}
		if !slices.IsSortedFunc(all, func(a, b erp.SalesOrderSummary) int { return strings.Compare(a.Modified, b.Modified) }) {
			t.Errorf("not in modified order")
		}
		for _, so := range all {
			if slices.Contains([]string{"Closed", "Completed", "Cancelled", "On Hold"}, so.Status) || so.DocStatus > 1 {
				t.Errorf("%s has status %s docstatus %d", so.Name, so.Status, so.DocStatus)
			}
		}
		rest, err := c.SalesOrdersModifiedSince(ctx, all[0].Modified, all[0].Name, 0)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(all[1:], rest); diff != "" {
			t.Errorf("orders after the first one's (modified, name) (-want +got):\n%s", diff)
		}
	})
}

// One Delivery Note against several orders db_sets them all in one
// transaction, so they share one `modified` to the microsecond
// (docs/erpnext.md#which-save-fires-which-event: the status updater's db_set). A reconcile page
// that fills up inside such a group must resume inside it, not after it.
func TestSandboxModifiedSinceResumesInsideEqualTimestamps(t *testing.T) {
	s, srv := MustSandbox(t)
	c := MustSandboxClient(t, s, srv)
	ctx := testContext(t)
	before, err := c.SalesOrdersModifiedSince(ctx, "", "", 0)
	if err != nil {
		t.Fatal(err)
	}
	var rows []any
	for _, o := range before {
		if o.DocStatus != 1 || o.Status != "To Deliver and Bill" {
			continue
		}
		so, err := c.SalesOrder(ctx, o.Name)
		if err != nil {
			t.Fatal(err)
		}
		it := so.Items[0]
		rows = append(rows, map[string]any{"item_code": it.ItemCode, "qty": 1, "uom": it.UOM, "warehouse": it.Warehouse,
			"against_sales_order": so.Name, "so_detail": it.Name})
	}
	if len(rows) < 3 {
		t.Fatalf("demo data has %d submitted open orders, want at least 3", len(rows))
	}
	if _, err := s.Insert("Delivery Note", map[string]any{"customer": "Café Dupont", "company": "OTP Demo Co", "docstatus": 1, "items": rows}); err != nil {
		t.Fatal(err)
	}
	all, err := c.SalesOrdersModifiedSince(ctx, "", "", 0)
	if err != nil {
		t.Fatal(err)
	}
	last := all[len(all)-1].Modified
	same := 0
	for _, o := range all {
		if o.Modified == last {
			same++
		}
	}
	if same != len(rows) {
		t.Fatalf("%d orders share the last modified %s, want the %d the Delivery Note touched", same, last, len(rows))
	}

	// Page through with pages smaller than the group of equal timestamps.
	const page = 2
	var got []erp.SalesOrderSummary
	since, after := "", ""
	for range len(all) + 1 {
		batch, err := c.SalesOrdersModifiedSince(ctx, since, after, page)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, batch...)
		if len(batch) < page {
			break
		}
		since, after = batch[len(batch)-1].Modified, batch[len(batch)-1].Name
	}
	if diff := cmp.Diff(all, got); diff != "" {
		t.Errorf("paged with %d per page (-want +got):\n%s", page, diff)
	}
}

func total(counts map[string]int) int {
	n := 0
	for _, v := range counts {
		n += v
	}
	return n
}

// checkAgainstDocs reads each parent document and checks that every line
// is one of its rows, with the parent's status and the row's qty.
func checkAgainstDocs[L any](tb testing.TB, c *erp.Client, doctype string, lines []L, key func(L) (parent, row, status string, qty float64)) {
	tb.Helper()
	docs := map[string]map[string]any{}
	for _, l := range lines {
		parent, row, status, qty := key(l)
		doc, ok := docs[parent]
		if !ok {
			var err error
			if doc, err = c.GetDoc(testContext(tb), doctype, parent); err != nil {
				tb.Fatal(err)
			}
			docs[parent] = doc
		}
		if ds := doc["docstatus"]; doc["status"] != status || (ds != 1.0 && (doctype != "Sales Order" || ds != 0.0)) {
			tb.Errorf("%s %s: line says status %q, document has %v (docstatus %v)", doctype, parent, status, doc["status"], doc["docstatus"])
		}
		found := false
		for _, r := range doc["items"].([]any) {
			r := r.(map[string]any)
			if r["name"] == row {
				found = true
				if r["qty"] != qty {
					tb.Errorf("%s %s row %s: qty %v, document has %v", doctype, parent, row, qty, r["qty"])
				}
			}
		}
		if !found {
			tb.Errorf("%s %s has no row %s", doctype, parent, row)
		}
	}
}

// mustCustomField creates a custom field as `otp migrate` would (docs/erpnext.md#custom-fields).
func mustCustomField(tb testing.TB, c *erp.Client, dt, fieldname, fieldtype string, allowOnSubmit int) {
	tb.Helper()
	_, err := c.InsertDoc(testContext(tb), "Custom Field", map[string]any{
		"dt": dt, "fieldname": fieldname, "label": fieldname, "fieldtype": fieldtype,
		"insert_after": "append", "allow_on_submit": allowOnSubmit, "read_only": 1, "no_copy": 1,
	})
	if err != nil {
		tb.Fatalf("create %s.%s: %v", dt, fieldname, err)
	}
}

// mustDraftOrder inserts a two-line draft Sales Order for a demo customer.
func mustDraftOrder(tb testing.TB, c *erp.Client) *erp.SalesOrder {
	tb.Helper()
	ctx := testContext(tb)
	customers, err := c.List(ctx, "Customer", erp.ListQuery{Limit: 1})
	if err != nil || len(customers) == 0 {
		tb.Fatalf("no demo customer: %v", err)
	}
	doc, err := c.InsertDoc(ctx, "Sales Order", map[string]any{
		"customer": customers[0]["name"], "company": "OTP Demo Co",
		"transaction_date": "2026-03-02", "delivery_date": "2026-03-20",
		"items": []any{
			map[string]any{"item_code": "SKU-001", "qty": 2, "warehouse": "Stores - WH", "delivery_date": "2026-03-20", "rate": 10},
			map[string]any{"item_code": "SKU-002", "qty": 3, "warehouse": "Stores - WH", "delivery_date": "2026-03-20", "rate": 20},
		},
	})
	if err != nil {
		tb.Fatalf("insert draft order: %v", err)
	}
	so, err := c.SalesOrder(ctx, doc["name"].(string))
	if err != nil {
		tb.Fatal(err)
	}
	return so
}

func TestSandboxUpdateSalesOrder(t *testing.T) {
	s, srv := MustSandbox(t)
	c := MustSandboxClient(t, s, srv)
	ctx := testContext(t)
	mustCustomField(t, c, "Sales Order", erp.FieldPromiseDate, "Date", 1)
	mustCustomField(t, c, "Sales Order", erp.FieldConfidence, "Data", 1)
	mustCustomField(t, c, "Sales Order Item", erp.FieldLinePromiseDate, "Date", 1)
	mustCustomField(t, c, "Sales Order", "custom_not_on_submit", "Data", 0)

	check := func(t *testing.T, so *erp.SalesOrder) {
		t.Helper()
		line := so.Items[len(so.Items)-1]
		fields := map[string]any{erp.FieldPromiseDate: "2026-03-18", erp.FieldConfidence: "MEDIUM"}
		lineFields := map[string]map[string]any{line.Name: {erp.FieldLinePromiseDate: "2026-03-17"}}
		var saved *erp.SalesOrder
		var err error
		got := countRequests(t, s, func() { saved, err = c.UpdateSalesOrder(ctx, so, fields, lineFields) })
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(map[string]int{"PUT /api/resource/Sales Order": 1}, got); diff != "" {
			t.Errorf("requests (-want +got):\n%s", diff)
		}
		reread, err := c.SalesOrder(ctx, so.Name)
		if err != nil {
			t.Fatal(err)
		}
		for name, o := range map[string]*erp.SalesOrder{"returned": saved, "re-read": reread} {
			if o.PromiseDate != "2026-03-18" || o.Confidence != "MEDIUM" {
				t.Errorf("%s order: promise %q %q, want 2026-03-18 MEDIUM", name, o.PromiseDate, o.Confidence)
			}
			if len(o.Items) != len(so.Items) {
				t.Fatalf("%s order has %d items, want %d: rows were lost", name, len(o.Items), len(so.Items))
			}
			for i, it := range o.Items {
				want := so.Items[i]
				if it.Name == line.Name {
					want.LinePromiseDate = "2026-03-17"
				}
				if diff := cmp.Diff(want, it); diff != "" {
					t.Errorf("%s order item %d (-want +got):\n%s", name, i, diff)
				}
			}
		}
	}

	t.Run("draft", func(t *testing.T) {
		so := mustDraftOrder(t, c)
		if so.DocStatus != 0 {
			t.Fatalf("docstatus %d, want a draft", so.DocStatus)
		}
		check(t, so)
	})

	submitted := func(t *testing.T) *erp.SalesOrder {
		draft := mustDraftOrder(t, c)
		if _, err := c.UpdateDoc(ctx, "Sales Order", draft.Name, map[string]any{"docstatus": 1}); err != nil {
			t.Fatalf("submit: %v", err)
		}
		so, err := c.SalesOrder(ctx, draft.Name)
		if err != nil || so.DocStatus != 1 {
			t.Fatalf("SalesOrder after submit = %+v, %v", so, err)
		}
		return so
	}

	t.Run("submitted, fields allow_on_submit", func(t *testing.T) {
		check(t, submitted(t))
	})

	t.Run("submitted, a field without allow_on_submit: 417 UpdateAfterSubmitError", func(t *testing.T) {
		so := submitted(t)
		_, err := c.UpdateSalesOrder(ctx, so, map[string]any{"custom_not_on_submit": "x"}, nil)
		var e *erp.Error
		if !errors.As(err, &e) || e.Kind != erp.KindValidation || e.Status != 417 || e.ExcType != "UpdateAfterSubmitError" || e.Message == "" {
			t.Fatalf("error = %v, want 417 UpdateAfterSubmitError with a message", err)
		}
		if !errors.Is(err, erp.ErrValidation) || e.Retryable() {
			t.Errorf("errors.Is(ErrValidation) = %v, Retryable = %v", errors.Is(err, erp.ErrValidation), e.Retryable())
		}
	})

	t.Run("a stale modified: 417 TimestampMismatchError", func(t *testing.T) {
		so := mustDraftOrder(t, c)
		_, err := c.UpdateSalesOrder(ctx, so, map[string]any{erp.FieldConfidence: "LOW", "modified": "2001-01-01 00:00:00.000000"}, nil)
		if !errors.Is(err, erp.ErrTimestampMismatch) {
			t.Fatalf("error = %v, want ErrTimestampMismatch", err)
		}
		var e *erp.Error
		if errors.As(err, &e); e.Status != 417 || e.ExcType != "TimestampMismatchError" {
			t.Errorf("error = %+v", e)
		}
	})
}

func TestSandboxErrors(t *testing.T) {
	s, srv := MustSandbox(t)
	ctx := testContext(t)
	key, _ := s.Credentials()
	html502 := string(MustReadFile(t, "errors/502_nginx.html"))

	tests := []struct {
		name     string
		client   func(t *testing.T) *erp.Client
		setup    func()
		call     func(c *erp.Client) error
		kind     erp.Kind
		status   int
		excType  string
		wantReqs int
	}{
		{
			name: "404 missing order",
			call: func(c *erp.Client) error { _, err := c.SalesOrder(ctx, "SAL-ORD-2026-99999"); return err },
			kind: erp.KindNotFound, status: 404, excType: "DoesNotExistError", wantReqs: 1,
		},
		{
			name: "403 child table without parent (docs/erpnext.md#child-tables)",
			call: func(c *erp.Client) error {
				_, err := c.List(ctx, "Sales Order Item", erp.ListQuery{Fields: []string{"name"}})
				return err
			},
			kind: erp.KindPermission, status: 403, excType: "PermissionError", wantReqs: 1,
		},
		{
			name: "401 wrong secret",
			client: func(t *testing.T) *erp.Client {
				c, err := erp.New(srv.URL, key, "wrong-secret")
				if err != nil {
					t.Fatal(err)
				}
				return c
			},
			call: func(c *erp.Client) error { _, err := c.LoggedUser(ctx); return err },
			kind: erp.KindAuth, status: 401, excType: "AuthenticationError", wantReqs: 1,
		},
		{
			name: "417 validation: a Sales Order without customer",
			call: func(c *erp.Client) error {
				_, err := c.InsertDoc(ctx, "Sales Order", map[string]any{"company": "OTP Demo Co",
					"items": []any{map[string]any{"item_code": "SKU-001", "qty": 1}}})
				return err
			},
			kind: erp.KindValidation, status: 417, wantReqs: 1,
		},
		{
			name: "409 duplicate name: a second company OTP Demo Co",
			call: func(c *erp.Client) error {
				_, err := c.InsertDoc(ctx, "Company", map[string]any{"company_name": "OTP Demo Co", "abbr": "WH2", "default_currency": "USD", "country": "United States"})
				return err
			},
			kind: erp.KindDuplicate, status: 409, excType: "DuplicateEntryError", wantReqs: 1,
		},
		{
			name: "429 with a Retry-After longer than the max wait: not retried",
			setup: func() {
				s.FailNext(1, 429, string(MustReadFile(t, "errors/429_rate_limited.json")), http.Header{"Retry-After": {"30"}})
			},
			call: func(c *erp.Client) error { _, err := c.Companies(ctx); return err },
			kind: erp.KindRateLimited, status: 429, excType: "TooManyRequestsError", wantReqs: 1,
		},
		{
			name:     "502 HTML from a proxy, retried until it passes",
			setup:    func() { s.FailNext(2, 502, html502, http.Header{"Content-Type": {"text/html"}}) },
			call:     func(c *erp.Client) error { _, err := c.Companies(ctx); return err },
			wantReqs: 3,
		},
		{
			name:  "502 HTML on every attempt",
			setup: func() { s.FailNext(4, 502, html502, http.Header{"Content-Type": {"text/html"}}) },
			call:  func(c *erp.Client) error { _, err := c.Companies(ctx); return err },
			kind:  erp.KindServer, status: 502, wantReqs: 4,
		},
		{
			name: "timeout: latency over the request timeout, each attempt",
			client: func(t *testing.T) *erp.Client {
				return MustSandboxClient(t, s, srv, erp.WithTimeout(40*time.Millisecond), erp.WithRetry(2, time.Millisecond, time.Millisecond))
			},
			setup: func() {
				s.SetLatency(300 * time.Millisecond)
				t.Cleanup(func() { s.SetLatency(0) })
			},
			call: func(c *erp.Client) error { _, err := c.Companies(ctx); return err },
			kind: erp.KindTimeout, wantReqs: 2,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := MustSandboxClient(t, s, srv, erp.WithRetry(4, time.Millisecond, 5*time.Millisecond))
			if tt.client != nil {
				c = tt.client(t)
			}
			s.ResetCounters()
			if tt.setup != nil {
				tt.setup()
			}
			err := tt.call(c)
			if tt.kind == "" {
				if err != nil {
					t.Fatalf("error = %v, want success", err)
				}
			} else {
				var e *erp.Error
				if !errors.As(err, &e) {
					t.Fatalf("error = %v (%T), want *erp.Error", err, err)
				}
				if e.Kind != tt.kind || e.Status != tt.status || (tt.excType != "" && e.ExcType != tt.excType) {
					t.Errorf("error = kind %q status %d exc %q, want %q %d %q (%v)", e.Kind, e.Status, e.ExcType, tt.kind, tt.status, tt.excType, err)
				}
				if e.Message == "" && e.Err == nil {
					t.Errorf("error %v has neither message nor cause", err)
				}
			}
			if got := s.TotalRequests(); got != tt.wantReqs {
				t.Errorf("requests = %d (%v), want %d", got, s.RequestCounts(), tt.wantReqs)
			}
		})
	}
}

func TestSandboxRetryAfterHonoured(t *testing.T) {
	s, srv := MustSandbox(t)
	c := MustSandboxClient(t, s, srv, erp.WithRetry(2, time.Millisecond, 2*time.Second))
	s.FailNext(1, 429, string(MustReadFile(t, "errors/429_rate_limited.json")), http.Header{"Retry-After": {"1"}})
	s.ResetCounters()
	start := time.Now()
	companies, err := c.Companies(testContext(t))
	if err != nil || len(companies) != 1 {
		t.Fatalf("Companies = %v, %v", companies, err)
	}
	if d := time.Since(start); d < time.Second {
		t.Errorf("succeeded after %s, want >= the 1s Retry-After", d)
	}
	if got := s.TotalRequests(); got != 2 {
		t.Errorf("requests = %d, want 2", got)
	}
}

func TestSandboxNarrowedRoles(t *testing.T) {
	s, srv := MustSandbox(t, sandbox.WithUserRoles(sandbox.DefaultAPIUser, "Sales User", "Stock User"))
	c := MustSandboxClient(t, s, srv)
	ctx := testContext(t)
	// Holiday List is HR Manager only (docs/erpnext.md#child-tables).
	name, err := c.CompanyHolidayList(ctx, "OTP Demo Co")
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.HolidayList(ctx, name)
	var e *erp.Error
	if !errors.As(err, &e) || e.Kind != erp.KindPermission || e.Status != 403 {
		t.Fatalf("HolidayList error = %v, want 403 permission", err)
	}
	if !errors.Is(err, erp.ErrPermission) || e.Retryable() {
		t.Errorf("errors.Is(ErrPermission) = %v, Retryable = %v", errors.Is(err, erp.ErrPermission), e.Retryable())
	}
	// A Bin read still works for a Stock User.
	if bins, err := c.Bins(ctx, []string{"SKU-001"}, nil); err != nil || len(bins) == 0 {
		t.Errorf("Bins = %v, %v", bins, err)
	}
}

func TestSandboxTransportError(t *testing.T) {
	s, srv := MustSandbox(t)
	c := MustSandboxClient(t, s, srv, erp.WithRetry(2, time.Millisecond, time.Millisecond))
	srv.Close()
	_, err := c.Companies(testContext(t))
	if !errors.Is(err, erp.ErrTransport) || !erp.IsRetryable(err) {
		t.Fatalf("error = %v, want retryable ErrTransport", err)
	}
}

func TestSandboxBreakerOpensAndRecovers(t *testing.T) {
	s, srv := MustSandbox(t)
	const openFor = 400 * time.Millisecond
	c := MustSandboxClient(t, s, srv, erp.WithRetry(1, time.Millisecond, time.Millisecond), erp.WithBreaker(3, openFor))
	ctx := testContext(t)

	// 404s do not count.
	for range 5 {
		if _, err := c.SalesOrder(ctx, "SAL-ORD-2026-99999"); !errors.Is(err, erp.ErrNotFound) {
			t.Fatalf("error = %v, want ErrNotFound", err)
		}
	}
	if st := c.BreakerState(); st != erp.BreakerClosed {
		t.Fatalf("after 5 404s state = %q, want closed", st)
	}

	s.InjectErrors(1, 503)
	s.ResetCounters()
	for range 3 {
		if _, err := c.Companies(ctx); !errors.Is(err, erp.ErrServer) {
			t.Fatalf("error = %v, want ErrServer", err)
		}
	}
	if st := c.BreakerState(); st != erp.BreakerOpen {
		t.Fatalf("after 3 failures state = %q, want open", st)
	}
	for range 5 {
		if _, err := c.Companies(ctx); !errors.Is(err, erp.ErrCircuitOpen) {
			t.Fatalf("error while open = %v, want ErrCircuitOpen", err)
		}
	}
	if got := s.TotalRequests(); got != 3 {
		t.Errorf("requests = %d, want 3: the open breaker sends nothing", got)
	}

	s.InjectErrors(0, 0)
	waitForState(t, c, erp.BreakerHalfOpen, 2*time.Second)
	if companies, err := c.Companies(ctx); err != nil || len(companies) != 1 {
		t.Fatalf("probe = %v, %v", companies, err)
	}
	if st := c.BreakerState(); st != erp.BreakerClosed {
		t.Errorf("after a good probe state = %q, want closed", st)
	}
}

func TestSandboxOpenLinesFollowStatuses(t *testing.T) {
	s, srv := MustSandbox(t)
	c := MustSandboxClient(t, s, srv)
	ctx := testContext(t)
	demo := s.Demo()

	poItems := []string{sandbox.DemoItemContended, sandbox.DemoItemNoStock, sandbox.DemoItemOverdue, sandbox.DemoItemFarPO,
		sandbox.DemoItemBox, sandbox.DemoItemPartlyIn, "SKU-034"}
	type poLine struct {
		PO, Status, Item       string
		Qty, Received, Factor  float64
		Expected, ScheduleDate bool
	}
	readPO := func() map[string]poLine {
		t.Helper()
		lines, err := c.OpenPurchaseOrderLines(ctx, poItems)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]poLine{}
		for _, l := range lines {
			out[l.PurchaseOrder] = poLine{l.PurchaseOrder, l.Status, l.ItemCode, l.Qty, l.ReceivedQty, l.ConversionFactor,
				l.ExpectedDeliveryDate != "", l.ScheduleDate != ""}
		}
		return out
	}
	got := readPO()
	open := "To Receive and Bill"
	want := map[string]poLine{
		demo.OpenPO:           {demo.OpenPO, open, sandbox.DemoItemContended, 40, 0, 1, true, true},
		demo.ScheduleOnlyPO:   {demo.ScheduleOnlyPO, open, sandbox.DemoItemNoStock, 100, 0, 1, false, true},
		demo.OverduePO:        {demo.OverduePO, open, sandbox.DemoItemOverdue, 20, 0, 1, true, true},
		demo.FarPO:            {demo.FarPO, open, sandbox.DemoItemFarPO, 50, 0, 1, false, true},
		demo.BoxPO:            {demo.BoxPO, open, sandbox.DemoItemBox, 10, 0, sandbox.DemoBoxFactor, true, true},
		demo.PartlyReceivedPO: {demo.PartlyReceivedPO, open, sandbox.DemoItemPartlyIn, 30, 10, 1, true, true},
		// demo.DraftPO (SKU-034) is a draft: no line.
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("open PO lines (-want +got):\n%s", diff)
	}

	// On Hold still counts as supply (ordered_qty, docs/erpnext.md#bin); Closed does not (docs/promise.md).
	if _, err := s.SetStatus("Purchase Order", demo.OpenPO, "On Hold"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SetStatus("Purchase Order", demo.FarPO, "Closed"); err != nil {
		t.Fatal(err)
	}
	got = readPO()
	if l, ok := got[demo.OpenPO]; !ok || l.Status != "On Hold" {
		t.Errorf("On Hold PO line = %+v, %v; want it kept with status On Hold", l, ok)
	}
	if _, ok := got[demo.FarPO]; ok {
		t.Errorf("Closed PO %s still listed", demo.FarPO)
	}

	soLines, err := c.OpenOrderBook(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	orders := map[string]bool{}
	for _, l := range soLines {
		orders[l.SalesOrder] = true
	}
	for _, name := range []string{demo.ContendedSO1, demo.ContendedSO2, demo.PastDueSO, demo.MultiLineSO} {
		if !orders[name] {
			t.Errorf("open order %s missing from %v", name, orders)
		}
	}
	for _, name := range []string{demo.ClosedSO, demo.OnHoldSO} {
		if orders[name] {
			t.Errorf("order %s (closed or on hold) listed", name)
		}
	}
	for _, name := range []string{demo.DraftSO, demo.DraftSO2} {
		if !orders[name] {
			t.Errorf("draft %s missing: drafts are in the book (they book nothing)", name)
		}
	}
	lines := 0
	for _, l := range soLines {
		if l.SalesOrder == demo.MultiLineSO {
			lines++
		}
	}
	if lines < 2 {
		t.Errorf("%s has %d lines in the book, want every line of it", demo.MultiLineSO, lines)
	}

	if _, err := c.CompanyHolidayList(ctx, "No Such Co"); !errors.Is(err, erp.ErrNotFound) {
		t.Errorf("CompanyHolidayList(No Such Co) error = %v, want ErrNotFound", err)
	}
}

// modified_by is the user of the last save (docs/erpnext.md#conditions): the
// reconcile sweep tells OTP's own write-backs from other saves by it.
func TestSandboxModifiedSinceReadsModifiedBy(t *testing.T) {
	s, srv := MustSandbox(t)
	c := MustSandboxClient(t, s, srv)
	ctx := testContext(t)
	before, err := c.SalesOrdersModifiedSince(ctx, "", "", 0)
	if err != nil {
		t.Fatal(err)
	}
	ours := before[0].Name
	if _, err := s.SaveAs(s.APIUser(), "Sales Order", ours, map[string]any{}); err != nil {
		t.Fatal(err)
	}
	after, err := c.SalesOrdersModifiedSince(ctx, "", "", 0)
	if err != nil {
		t.Fatal(err)
	}
	by := map[string]string{}
	for _, o := range after {
		by[o.Name] = o.ModifiedBy
	}
	if by[ours] != s.APIUser() {
		t.Errorf("%s modified_by = %q, want the API user %q who saved it last", ours, by[ours], s.APIUser())
	}
	if other := before[1].Name; by[other] != "Administrator" {
		t.Errorf("%s modified_by = %q, want Administrator (the demo data's author)", other, by[other])
	}
}

// is_rejected_warehouse is a Warehouse field (docs/erpnext.md#item-warehouse-company-holiday-list) that
// the list read returns.
func TestSandboxWarehousesReadRejected(t *testing.T) {
	s, srv := MustSandbox(t)
	c := MustSandboxClient(t, s, srv)
	w, err := s.Insert("Warehouse", map[string]any{"warehouse_name": "Rejected Goods", "company": "OTP Demo Co", "is_rejected_warehouse": 1})
	if err != nil {
		t.Fatal(err)
	}
	whs, err := c.Warehouses(testContext(t), "OTP Demo Co")
	if err != nil {
		t.Fatal(err)
	}
	rejected := map[string]bool{}
	for _, wh := range whs {
		rejected[wh.Name] = wh.IsRejectedWarehouse
	}
	if diff := cmp.Diff(map[string]bool{w["name"].(string): true, "Stores - WH": false}, map[string]bool{
		w["name"].(string): rejected[w["name"].(string)], "Stores - WH": rejected["Stores - WH"],
	}); diff != "" {
		t.Errorf("IsRejectedWarehouse (-want +got):\n%s", diff)
	}
	if _, ok := rejected["Stores - WH"]; !ok {
		t.Errorf("Warehouses lacks Stores - WH: %v", whs)
	}
}

// Line fields go in a PUT with the whole items table as read (docs/erpnext.md#updating-a-document). When a
// user saved the order in between (here: added a line), that table is stale:
// the write is refused with ErrTimestampMismatch instead of deleting the
// user's line, and the order keeps it.
func TestSandboxUpdateSalesOrderKeepsANewerSave(t *testing.T) {
	s, srv := MustSandbox(t)
	c := MustSandboxClient(t, s, srv)
	ctx := testContext(t)
	mustCustomField(t, c, "Sales Order", erp.FieldPromiseDate, "Date", 1)
	mustCustomField(t, c, "Sales Order Item", erp.FieldLinePromiseDate, "Date", 1)
	so := mustDraftOrder(t, c)

	// The user adds a line after OTP read the order.
	rows, _ := so.Raw["items"].([]any)
	rows = append(slices.Clone(rows), map[string]any{"item_code": "SKU-003", "qty": 1, "warehouse": "Stores - WH",
		"delivery_date": "2026-03-20", "rate": 5})
	if _, err := s.SaveAs("sales@example.com", "Sales Order", so.Name, map[string]any{"items": rows}); err != nil {
		t.Fatal(err)
	}

	_, err := c.UpdateSalesOrder(ctx, so, map[string]any{erp.FieldPromiseDate: "2026-03-18"},
		map[string]map[string]any{so.Items[0].Name: {erp.FieldLinePromiseDate: "2026-03-17"}})
	if !errors.Is(err, erp.ErrTimestampMismatch) {
		t.Fatalf("err = %v, want ErrTimestampMismatch", err)
	}
	now, err := c.SalesOrder(ctx, so.Name)
	if err != nil {
		t.Fatal(err)
	}
	var codes []string
	for _, it := range now.Items {
		codes = append(codes, it.ItemCode)
	}
	if diff := cmp.Diff([]string{"SKU-001", "SKU-002", "SKU-003"}, codes); diff != "" {
		t.Errorf("lines after the refused write (-want +got):\n%s", diff)
	}
	if now.PromiseDate != "" {
		t.Errorf("promise date = %q, want nothing written", now.PromiseDate)
	}

	// Read again, the same write goes through.
	if _, err := c.UpdateSalesOrder(ctx, now, map[string]any{erp.FieldPromiseDate: "2026-03-18"},
		map[string]map[string]any{now.Items[0].Name: {erp.FieldLinePromiseDate: "2026-03-17"}}); err != nil {
		t.Fatalf("write on the fresh read: %v", err)
	}
}

// LastComment reads OTP's own newest Comment on an order in one request:
// not another user's, not the status Label comments ERPNext adds, not
// another order's.
func TestSandboxLastComment(t *testing.T) {
	s, srv := MustSandbox(t, sandbox.WithUser("sales2@example.com", "k2", "s2", "Sales User"))
	c := MustSandboxClient(t, s, srv)
	other, err := erp.New(srv.URL, "k2", "s2")
	if err != nil {
		t.Fatal(err)
	}
	ctx := testContext(t)
	so, otherSO := s.Demo().ContendedSO1, s.Demo().ContendedSO2
	me := s.APIUser()

	last, err := c.LastComment(ctx, "Sales Order", so, me)
	if err != nil || last != nil {
		t.Fatalf("no comment yet: %+v, %v; want nil, nil", last, err)
	}
	for _, step := range []struct {
		c       *erp.Client
		so, msg string
	}{
		{c, so, "Promise: 2026-03-10 (HIGH)"},
		{c, so, "Promise: 2026-03-12 (MEDIUM)"},
		{other, so, "a colleague's note"},
		{c, otherSO, "Promise: 2026-04-01 (LOW)"},
	} {
		if err := step.c.AddComment(ctx, "Sales Order", step.so, step.msg); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.SetStatus("Sales Order", so, "On Hold"); err != nil { // a Label comment by the sandbox
		t.Fatal(err)
	}
	var got *erp.Comment
	counts := countRequests(t, s, func() { got, err = c.LastComment(ctx, "Sales Order", so, me) })
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]int{"GET /api/resource/Comment": 1}, counts); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
	if got == nil || got.Content != "Promise: 2026-03-12 (MEDIUM)" || got.Owner != me || got.Name == "" {
		t.Errorf("LastComment = %+v, want OTP's newest comment on %s", got, so)
	}
	if _, err := c.LastComment(ctx, "Sales Order", so, ""); err == nil {
		t.Error("LastComment with no owner: nil error")
	}
}
