package worker

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/hibiken/asynq"

	"github.com/erpnext-otp/otp/erp"
	"github.com/erpnext-otp/otp/tasks"
)

const soName = "SAL-ORD-2026-00001"

// testOrder is a two-line order: SKU-001 from stock, SKU-002 from a PO.
func testOrder(docstatus int) *erp.SalesOrder {
	status := "Draft"
	if docstatus == 1 {
		status = "To Deliver and Bill"
	}
	return &erp.SalesOrder{
		Name: soName, Customer: "Café Dupont", Company: "OTP Demo Co", Status: status, DocStatus: docstatus,
		TransactionDate: "2026-11-25", DeliveryDate: "2026-12-10",
		Modified: "2026-11-25 09:59:00.000000", ModifiedBy: "sales@example.com",
		Items: []erp.SalesOrderItem{
			{Name: "row-a", Idx: 1, ItemCode: "SKU-001", Warehouse: "Stores - WH", Qty: 4, UOM: "Nos", StockUOM: "Nos",
				ConversionFactor: 1, StockQty: 4, DeliveryDate: "2026-12-10"},
			{Name: "row-b", Idx: 2, ItemCode: "SKU-002", Warehouse: "Stores - WH", Qty: 1, UOM: "Box", StockUOM: "Nos",
				ConversionFactor: 5, StockQty: 5, DeliveryDate: "2026-12-10"},
		},
	}
}

// withSupply gives f 10 of SKU-001 on hand and 5 of SKU-002 arriving
// Wednesday 2026-12-02, the order's own lines as open demand when it is
// submitted, and 3 of SKU-001 for another order.
func withSupply(f *fakeERP) *fakeERP {
	f.bins = []erp.Bin{{ItemCode: "SKU-001", Warehouse: "Stores - WH", ActualQty: 10}}
	f.poLines = []erp.PurchaseOrderLine{{PurchaseOrder: "PUR-ORD-2026-00001", Status: "To Receive and Bill", ItemCode: "SKU-002",
		Warehouse: "Stores - WH", Qty: 5, ConversionFactor: 1, ScheduleDate: "2026-12-02"}}
	f.soLines = []erp.SalesOrderLine{
		{SalesOrder: "SAL-ORD-2026-00000", Status: "To Deliver", ItemCode: "SKU-001", Warehouse: "Stores - WH",
			Qty: 3, StockQty: 3, ConversionFactor: 1, DeliveryDate: "2026-11-26"},
	}
	if o := f.orders[soName]; o != nil && o.DocStatus == 1 {
		for _, it := range o.Items {
			f.soLines = append(f.soLines, erp.SalesOrderLine{SalesOrder: soName, Status: o.Status, Name: it.Name,
				ItemCode: it.ItemCode, Warehouse: it.Warehouse, Qty: it.Qty, StockQty: it.StockQty,
				ConversionFactor: it.ConversionFactor, DeliveryDate: it.DeliveryDate})
		}
	}
	return f
}

const wantExplanation = "SKU-001: 4 from stock at Stores - WH; SKU-002: 5 from PUR-ORD-2026-00001 due 2026-12-02; " +
	"+1 processing day; +1 buffer day"

func TestWriteBackFields(t *testing.T) {
	for _, docstatus := range []int{0, 1} {
		t.Run([]string{"draft", "submitted"}[docstatus], func(t *testing.T) {
			e := MustEnv(t, withSupply(newFakeERP(testOrder(docstatus))))
			if err := e.w.HandlePromiseOrder(context.Background(), MustPromiseTask(t, soName, "2026-11-25 09:59:00.000000")); err != nil {
				t.Fatal(err)
			}
			if len(e.erp.updates) != 1 {
				t.Fatalf("updates = %d, want 1", len(e.erp.updates))
			}
			got := e.erp.updates[0]
			fp, _ := got.Fields[erp.FieldFingerprint].(string)
			if len(fp) != 16 {
				t.Errorf("fingerprint = %q, want 16 hex digits", fp)
			}
			// Stock on hand today (Wed, before the cutoff): ready Thu, +1
			// buffer day: Fri 2026-11-27, HIGH. The PO arrives Wed 12-02:
			// ready Thu, promised Fri 2026-12-04, MEDIUM. The order ships
			// complete: 2026-12-04, MEDIUM.
			want := update{
				Name: soName,
				Fields: map[string]any{
					erp.FieldPromiseDate:      "2026-12-04",
					erp.FieldConfidence:       "MEDIUM",
					erp.FieldPromiseStatus:    "OK",
					erp.FieldFirstPromiseDate: "2026-12-04",
					erp.FieldPromisedAt:       "2026-11-25 10:00:00",
					erp.FieldExplanation:      wantExplanation,
					erp.FieldFingerprint:      fp,
				},
				Lines: map[string]map[string]any{
					"row-a": {erp.FieldLinePromiseDate: "2026-11-27", erp.FieldLineConfidence: "HIGH"},
					"row-b": {erp.FieldLinePromiseDate: "2026-12-04", erp.FieldLineConfidence: "MEDIUM"},
				},
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("write-back (-want +got):\n%s", diff)
			}
			wantComments := []string{"Sales Order " + soName + ": Promise: 2026-12-04 (MEDIUM) — " + wantExplanation}
			if diff := cmp.Diff(wantComments, e.erp.comments); diff != "" {
				t.Errorf("comments (-want +got):\n%s", diff)
			}
		})
	}
}

// The webhook our own write fires finds the promise already there: one
// write, one comment, and the loop ends. Run both ways: as the echo of our
// save (skipped on modified_by), and as a reconcile or supply re-promise
// (empty modified) that plans again and finds nothing to change.
func TestLoopSettlesAfterOneWrite(t *testing.T) {
	e := MustEnv(t, withSupply(newFakeERP(testOrder(1))))
	ctx := context.Background()
	if err := e.w.HandlePromiseOrder(ctx, MustPromiseTask(t, soName, "2026-11-25 09:59:00.000000")); err != nil {
		t.Fatal(err)
	}
	saved := e.erp.Order(soName)
	if saved.ModifiedBy != apiUser {
		t.Fatalf("saved by %q, want %q", saved.ModifiedBy, apiUser)
	}
	before := e.erp.Calls()
	// The on_change webhook of our save.
	if err := e.w.HandlePromiseOrder(ctx, MustPromiseTask(t, soName, saved.Modified)); err != nil {
		t.Fatal(err)
	}
	if got := e.erp.Calls()["SalesOrder"] - before["SalesOrder"]; got != 1 {
		t.Errorf("echo: order reads = %d, want 1", got)
	}
	if got := e.erp.Calls()["Bins"] - before["Bins"]; got != 0 {
		t.Errorf("echo: supply reads = %d, want 0 (our own write is not re-planned)", got)
	}
	// A re-promise with no version: planned again, nothing to write.
	if err := e.w.HandlePromiseOrder(ctx, MustPromiseTask(t, soName, "")); err != nil {
		t.Fatal(err)
	}
	c := e.erp.Calls()
	if c["UpdateSalesOrder"] != 1 || c["AddComment"] != 1 {
		t.Errorf("writes = %d, comments = %d; want 1 and 1", c["UpdateSalesOrder"], c["AddComment"])
	}
	if c["Bins"] != 2 {
		t.Errorf("plans = %d, want 2 (first promise and the re-promise)", c["Bins"])
	}
}

// An order already carrying the promise gets no write, whatever its
// promised_at and fingerprint say.
func TestUnchangedPromiseIsNotWritten(t *testing.T) {
	so := testOrder(0)
	so.PromiseDate, so.Confidence, so.PromiseStatus = "2026-12-04", "MEDIUM", "OK"
	so.FirstPromiseDate, so.Explanation = "2026-12-01", wantExplanation
	so.PromisedAt, so.Fingerprint = "2026-11-24 08:00:00", "0000000000000000"
	so.Items[0].LinePromiseDate, so.Items[0].LineConfidence = "2026-11-27", "HIGH"
	so.Items[1].LinePromiseDate, so.Items[1].LineConfidence = "2026-12-04", "MEDIUM"
	e := MustEnv(t, withSupply(newFakeERP(so)))
	if err := e.w.HandlePromiseOrder(context.Background(), MustPromiseTask(t, soName, so.Modified)); err != nil {
		t.Fatal(err)
	}
	c := e.erp.Calls()
	if c["UpdateSalesOrder"] != 0 || c["AddComment"] != 0 {
		t.Errorf("writes = %d, comments = %d; want none", c["UpdateSalesOrder"], c["AddComment"])
	}
	if c["Bins"] != 1 {
		t.Errorf("plans = %d, want 1", c["Bins"])
	}
}

func TestChangedPromise(t *testing.T) {
	tests := []struct {
		name         string
		edit         func(*erp.SalesOrder)
		wantFields   []string // besides promised_at and fingerprint
		wantLines    map[string]map[string]any
		wantComments int
	}{
		{
			name: "date moved: written, first promise kept, commented",
			edit: func(so *erp.SalesOrder) {
				so.PromiseDate, so.FirstPromiseDate = "2026-12-01", "2026-11-30"
				so.Items[1].LinePromiseDate = "2026-12-01"
			},
			wantFields:   []string{erp.FieldPromiseDate},
			wantLines:    map[string]map[string]any{"row-b": {erp.FieldLinePromiseDate: "2026-12-04"}},
			wantComments: 1,
		},
		{
			name:         "confidence changed: written and commented",
			edit:         func(so *erp.SalesOrder) { so.Confidence = "HIGH" },
			wantFields:   []string{erp.FieldConfidence},
			wantComments: 1,
		},
		{
			name:         "only the explanation changed: written, no comment",
			edit:         func(so *erp.SalesOrder) { so.Explanation = "an older wording" },
			wantFields:   []string{erp.FieldExplanation},
			wantComments: 0,
		},
		{
			name:         "only a line confidence changed: the line is written, no comment",
			edit:         func(so *erp.SalesOrder) { so.Items[0].LineConfidence = "LOW" },
			wantLines:    map[string]map[string]any{"row-a": {erp.FieldLineConfidence: "HIGH"}},
			wantComments: 0,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			so := testOrder(1)
			so.PromiseDate, so.Confidence, so.PromiseStatus = "2026-12-04", "MEDIUM", "OK"
			so.FirstPromiseDate, so.Explanation = "2026-12-04", wantExplanation
			so.Items[0].LinePromiseDate, so.Items[0].LineConfidence = "2026-11-27", "HIGH"
			so.Items[1].LinePromiseDate, so.Items[1].LineConfidence = "2026-12-04", "MEDIUM"
			tt.edit(so)
			e := MustEnv(t, withSupply(newFakeERP(so)))
			if err := e.w.HandlePromiseOrder(context.Background(), MustPromiseTask(t, soName, so.Modified)); err != nil {
				t.Fatal(err)
			}
			if len(e.erp.updates) != 1 {
				t.Fatalf("updates = %d, want 1", len(e.erp.updates))
			}
			u := e.erp.updates[0]
			var gotFields []string
			for k := range u.Fields {
				if k != erp.FieldPromisedAt && k != erp.FieldFingerprint {
					gotFields = append(gotFields, k)
				}
			}
			if diff := cmp.Diff(tt.wantFields, gotFields); diff != "" {
				t.Errorf("fields written (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantLines, u.Lines); diff != "" {
				t.Errorf("lines written (-want +got):\n%s", diff)
			}
			if len(e.erp.comments) != tt.wantComments {
				t.Errorf("comments = %q, want %d", e.erp.comments, tt.wantComments)
			}
			if got := e.erp.Order(soName).FirstPromiseDate; got != so.FirstPromiseDate {
				t.Errorf("first promise date = %q, want it kept at %q", got, so.FirstPromiseDate)
			}
		})
	}
}

func TestCannotFulfillWritesNoDate(t *testing.T) {
	so := testOrder(0)
	so.PromiseDate, so.Confidence, so.FirstPromiseDate = "2026-12-01", "HIGH", "2026-12-01"
	so.Items[1].LinePromiseDate = "2026-12-01"
	f := withSupply(newFakeERP(so))
	f.poLines = nil // SKU-002: nothing on hand, nothing coming, no lead time
	e := MustEnv(t, f)
	if err := e.w.HandlePromiseOrder(context.Background(), MustPromiseTask(t, soName, so.Modified)); err != nil {
		t.Fatal(err)
	}
	u := e.erp.updates[0]
	if v, ok := u.Fields[erp.FieldPromiseDate]; !ok || v != nil {
		t.Errorf("promise date written = %v (present %v), want null", v, ok)
	}
	if got := u.Fields[erp.FieldPromiseStatus]; got != "CANNOT_FULFILL" {
		t.Errorf("status = %v, want CANNOT_FULFILL", got)
	}
	if _, ok := u.Fields[erp.FieldFirstPromiseDate]; ok {
		t.Error("first promise date overwritten")
	}
	if v, ok := u.Lines["row-b"][erp.FieldLinePromiseDate]; !ok || v != nil {
		t.Errorf("row-b promise date = %v (present %v), want null", v, ok)
	}
	if len(e.erp.comments) != 1 || !strings.Contains(e.erp.comments[0], "Promise: none, cannot fulfill (LOW)") {
		t.Errorf("comments = %q, want one saying it cannot be fulfilled", e.erp.comments)
	}
}

func TestSupersededTaskMakesNoERPNextRequest(t *testing.T) {
	e := MustEnv(t, withSupply(newFakeERP(testOrder(0))))
	ctx := context.Background()
	if _, err := e.versions.Record(ctx, soName, "2026-11-25 09:59:30.000000"); err != nil {
		t.Fatal(err)
	}
	if err := e.w.HandlePromiseOrder(ctx, MustPromiseTask(t, soName, "2026-11-25 09:59:00.000000")); err != nil {
		t.Fatalf("superseded task: %v, want nil", err)
	}
	if n := e.erp.Total(); n != 0 {
		t.Errorf("ERPNext calls = %v, want none", e.erp.Calls())
	}
}

func TestSkippedOrders(t *testing.T) {
	tests := []struct {
		name string
		edit func(*erp.SalesOrder)
	}{
		{"cancelled", func(so *erp.SalesOrder) { so.DocStatus, so.Status = 2, "Cancelled" }},
		{"closed", func(so *erp.SalesOrder) { so.Status = "Closed" }},
		{"completed", func(so *erp.SalesOrder) { so.Status = "Completed" }},
		{"on hold", func(so *erp.SalesOrder) { so.Status = "On Hold" }},
		{"fully delivered, to bill", func(so *erp.SalesOrder) { so.Status, so.PerDelivered = "To Bill", 100 }},
		{"every line delivered", func(so *erp.SalesOrder) {
			for i := range so.Items {
				so.Items[i].DeliveredQty = so.Items[i].Qty
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			so := testOrder(1)
			tt.edit(so)
			e := MustEnv(t, withSupply(newFakeERP(so)))
			if err := e.w.HandlePromiseOrder(context.Background(), MustPromiseTask(t, soName, so.Modified)); err != nil {
				t.Fatalf("err = %v, want nil (skipped)", err)
			}
			if diff := cmp.Diff(map[string]int{"SalesOrder": 1}, e.erp.Calls()); diff != "" {
				t.Errorf("ERPNext calls (-want +got):\n%s", diff)
			}
		})
	}
}

func TestERPNextFailures(t *testing.T) {
	erpErr := func(kind erp.Kind, status int, exc, msg string) error {
		return &erp.Error{Kind: kind, Status: status, ExcType: exc, Message: msg, Method: "PUT", Path: "Sales Order " + soName}
	}
	tests := []struct {
		name       string
		failRead   error
		failUpdate error
		wantSkip   bool // archived at once
		wantIn     string
	}{
		{name: "order deleted (404)", failRead: erpErr(erp.KindNotFound, 404, "DoesNotExistError", "Sales Order not found"),
			wantSkip: true, wantIn: "not found"},
		{name: "not allowed (403)", failRead: erpErr(erp.KindPermission, 403, "PermissionError", "Insufficient Permission"),
			wantSkip: true, wantIn: "Insufficient Permission"},
		{name: "bad credentials (401)", failRead: erpErr(erp.KindAuth, 401, "AuthenticationError", ""), wantSkip: true},
		{name: "ERPNext down (503)", failRead: erpErr(erp.KindServer, 503, "", "Service Unavailable")},
		{name: "rate limited (429)", failRead: erpErr(erp.KindRateLimited, 429, "", "")},
		{name: "credit limit on write (417)", failUpdate: erpErr(erp.KindValidation, 417, "ValidationError",
			"Credit limit has been crossed for customer Café Dupont"), wantSkip: true, wantIn: "Credit limit has been crossed"},
		{name: "modified meanwhile (417 TimestampMismatchError)", failUpdate: erpErr(erp.KindTimestampMismatch, 417,
			"TimestampMismatchError", "Document has been modified after you have opened it")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := withSupply(newFakeERP(testOrder(1)))
			f.failRead = func(string) error { return tt.failRead }
			f.failUpdate = func(string) error { return tt.failUpdate }
			e := MustEnv(t, f)
			err := e.w.HandlePromiseOrder(context.Background(), MustPromiseTask(t, soName, ""))
			if err == nil {
				t.Fatal("err = nil")
			}
			if got := errors.Is(err, asynq.SkipRetry); got != tt.wantSkip {
				t.Errorf("SkipRetry = %v, want %v (err %v)", got, tt.wantSkip, err)
			}
			if !strings.Contains(err.Error(), soName) || !strings.Contains(err.Error(), tt.wantIn) {
				t.Errorf("err = %q, want it to name %s and say %q", err, soName, tt.wantIn)
			}
			if !IsFailure(err) {
				t.Error("IsFailure = false, want true")
			}
			if len(f.comments) != 0 {
				t.Errorf("comments = %q after a failure", f.comments)
			}
			if e.mr.Exists(lockPrefix + soName) {
				t.Error("lock still held after the task failed")
			}
		})
	}
}

func TestBadPayloadIsArchived(t *testing.T) {
	e := MustEnv(t, newFakeERP())
	for _, payload := range []string{"{", `{"sales_order":""}`} {
		err := e.w.HandlePromiseOrder(context.Background(), asynq.NewTask("order:promise", []byte(payload)))
		if !errors.Is(err, asynq.SkipRetry) {
			t.Errorf("payload %s: err = %v, want SkipRetry", payload, err)
		}
	}
	if n := e.erp.Total(); n != 0 {
		t.Errorf("ERPNext calls = %d, want 0", n)
	}
}

func TestLockContention(t *testing.T) {
	e := MustEnv(t, withSupply(newFakeERP(testOrder(0))))
	ctx := context.Background()
	if err := e.mr.Set(lockPrefix+soName, "another-worker"); err != nil {
		t.Fatal(err)
	}
	task := MustPromiseTask(t, soName, "")
	err := e.w.HandlePromiseOrder(ctx, task)
	if !errors.Is(err, ErrOrderLocked) || errors.Is(err, asynq.SkipRetry) {
		t.Fatalf("err = %v, want ErrOrderLocked, retried", err)
	}
	if IsFailure(err) {
		t.Error("IsFailure(lock contention) = true: it would use up the task's retries")
	}
	if d := RetryDelay(5, err, task); d < time.Second || d > 2*time.Second {
		t.Errorf("RetryDelay(lock contention) = %v, want 1-2 s", d)
	}
	if n := e.erp.Total(); n != 0 {
		t.Errorf("ERPNext calls while locked = %d, want 0", n)
	}
	if v, _ := e.mr.Get(lockPrefix + soName); v != "another-worker" {
		t.Errorf("other worker's lock = %q, want it untouched", v)
	}

	// The other worker finishes; the retry goes through and releases its lock.
	e.mr.Del(lockPrefix + soName)
	if err := e.w.HandlePromiseOrder(ctx, task); err != nil {
		t.Fatal(err)
	}
	if len(e.erp.updates) != 1 {
		t.Errorf("updates = %d, want 1", len(e.erp.updates))
	}
	if e.mr.Exists(lockPrefix + soName) {
		t.Error("lock still held after the task")
	}
}

// The lock expires on its own if a worker dies holding it.
func TestLockExpires(t *testing.T) {
	e := MustEnv(t, withSupply(newFakeERP(testOrder(0))), func(d *Deps) { d.LockTTL = 30 * time.Second })
	unlock, err := e.w.lock(context.Background(), soName)
	if err != nil {
		t.Fatal(err)
	}
	_ = unlock // a crashed worker never calls it
	if got := e.mr.TTL(lockPrefix + soName); got != 30*time.Second {
		t.Errorf("lock TTL = %v, want 30s", got)
	}
	e.mr.FastForward(31 * time.Second)
	if _, err := e.w.lock(context.Background(), soName); err != nil {
		t.Errorf("lock after expiry: %v", err)
	}
}

func TestRetryDelay(t *testing.T) {
	task := asynq.NewTask("order:promise", nil)
	server := &erp.Error{Kind: erp.KindServer, Status: http.StatusServiceUnavailable}
	for n, want := range map[int][2]time.Duration{
		0:  {time.Second, 2 * time.Second},
		1:  {2 * time.Second, 4 * time.Second},
		3:  {8 * time.Second, 16 * time.Second},
		20: {5 * time.Minute, 10 * time.Minute}, // capped
		99: {5 * time.Minute, 10 * time.Minute},
	} {
		for range 50 {
			if d := RetryDelay(n, server, task); d < want[0] || d > want[1] {
				t.Fatalf("RetryDelay(%d) = %v, want within %v", n, d, want)
			}
		}
	}
	limited := &erp.Error{Kind: erp.KindRateLimited, Status: http.StatusTooManyRequests, RetryAfter: 90 * time.Second}
	for range 50 {
		if d := RetryDelay(0, limited, task); d < 90*time.Second || d > 99*time.Second {
			t.Fatalf("RetryDelay(429, Retry-After 90s) = %v, want 90-99 s", d)
		}
	}
	// A Retry-After shorter than the backoff does not shorten it.
	short := &erp.Error{Kind: erp.KindRateLimited, Status: http.StatusTooManyRequests, RetryAfter: time.Second}
	if d := RetryDelay(3, short, task); d < 8*time.Second {
		t.Errorf("RetryDelay(3, Retry-After 1s) = %v, want the backoff (≥ 8 s)", d)
	}
}

func TestRegisterRoutesEveryTaskType(t *testing.T) {
	e := MustEnv(t, withSupply(newFakeERP(testOrder(0))))
	mux := asynq.NewServeMux()
	e.w.Register(mux)
	ctx := context.Background()
	if err := mux.ProcessTask(ctx, MustPromiseTask(t, soName, "")); err != nil {
		t.Fatalf("%s: %v", tasks.TypePromiseOrder, err)
	}
	if len(e.erp.updates) != 1 {
		t.Errorf("promise task: updates = %d, want 1", len(e.erp.updates))
	}
	supply, err := tasks.NewSupplyChangedTask(tasks.SupplyChanged{DocType: "Purchase Order", Name: "PO-1", Items: []string{"SKU-001"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := mux.ProcessTask(ctx, supply); err != nil {
		t.Fatalf("%s: %v", tasks.TypeSupplyChanged, err)
	}
	if err := mux.ProcessTask(ctx, tasks.NewReconcileTask()); err != nil {
		t.Fatalf("%s: %v", tasks.TypeReconcile, err)
	}
	c := e.erp.Calls()
	if c["OpenSalesOrderLines"] != 1 || c["SalesOrdersWithItems"] != 1 || c["SalesOrdersModifiedSince"] != 1 {
		t.Errorf("calls = %v, want the promise's open-lines read, the supply handler's open-orders read and the sweep's list", c)
	}
}
