package erp_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/erpnext-otp/otp/erp"
)

func TestUpdateSalesOrder(t *testing.T) {
	fixture := MustReadFile(t, "sales_order.json")
	var doc struct {
		Data map[string]any `json:"data"`
	}
	if err := json.Unmarshal(fixture, &doc); err != nil {
		t.Fatal(err)
	}
	rows := doc.Data["items"].([]any)

	tests := []struct {
		name       string
		fields     map[string]any
		lineFields map[string]map[string]any
		wantBody   map[string]any
	}{
		{
			name:     "order fields only: no items key, so the table is untouched",
			fields:   map[string]any{erp.FieldPromiseDate: "2025-03-18", erp.FieldConfidence: "HIGH"},
			wantBody: map[string]any{erp.FieldPromiseDate: "2025-03-18", erp.FieldConfidence: "HIGH"},
		},
		{
			name:   "line fields: every row sent complete as read, one row changed (docs/erpnext.md#updating-a-document)",
			fields: map[string]any{erp.FieldPromiseDate: "2025-03-18"},
			lineFields: map[string]map[string]any{
				"f6g7h8i9j0": {erp.FieldLinePromiseDate: "2025-03-18", erp.FieldLineConfidence: "LOW"},
			},
			wantBody: map[string]any{
				erp.FieldPromiseDate: "2025-03-18",
				// The rows are the table as read: optimistic locking on
				// the version read, so a newer save is not overwritten.
				"modified": "2025-03-03 10:15:42.123456",
				"items": []any{
					merged(rows[0].(map[string]any), map[string]any{erp.FieldLinePromiseDate: "2025-03-18", erp.FieldLineConfidence: "LOW"}),
					rows[1],
				},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeERP(t, func(w http.ResponseWriter, r *http.Request, n int) { reply(w, 200, fixture) })
			c := MustClient(t, f.URL)
			ctx := testContext(t)
			so, err := c.SalesOrder(ctx, "SAL-ORD-2025-00042")
			if err != nil {
				t.Fatal(err)
			}
			saved, err := c.UpdateSalesOrder(ctx, so, tt.fields, tt.lineFields)
			if err != nil {
				t.Fatal(err)
			}
			if saved.Name != "SAL-ORD-2025-00042" || len(saved.Items) != 2 {
				t.Errorf("saved = %s with %d items, want the decoded response", saved.Name, len(saved.Items))
			}
			reqs := f.requests()
			if len(reqs) != 2 {
				t.Fatalf("requests = %d, want GET then one PUT", len(reqs))
			}
			put := reqs[1]
			if put.Method != "PUT" || put.Path != "/api/resource/Sales Order/SAL-ORD-2025-00042" {
				t.Errorf("write = %s %s", put.Method, put.Path)
			}
			if diff := cmp.Diff(any(tt.wantBody), mustJSON(t, put.Body)); diff != "" {
				t.Errorf("PUT body (-want +got):\n%s", diff)
			}
			// The read copy is not modified by the merge.
			if _, ok := so.Raw["items"].([]any)[0].(map[string]any)[erp.FieldLinePromiseDate]; ok {
				t.Errorf("UpdateSalesOrder changed so.Raw")
			}
		})
	}
}

func merged(row, extra map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range row {
		out[k] = v
	}
	for k, v := range extra {
		out[k] = v
	}
	return out
}

func TestUpdateSalesOrderRefusesBadInput(t *testing.T) {
	f := newFakeERP(t, func(w http.ResponseWriter, r *http.Request, n int) {
		reply(w, 200, MustReadFile(t, "sales_order.json"))
	})
	c := MustClient(t, f.URL)
	ctx := testContext(t)
	so, err := c.SalesOrder(ctx, "SAL-ORD-2025-00042")
	if err != nil {
		t.Fatal(err)
	}
	noRaw := *so
	noRaw.Raw = nil
	tests := []struct {
		name       string
		so         *erp.SalesOrder
		fields     map[string]any
		lineFields map[string]map[string]any
		wantText   string
	}{
		{name: "unknown row", so: so, lineFields: map[string]map[string]any{"nope": {"x": 1}}, wantText: `no item row "nope"`},
		{name: "order not read by SalesOrder", so: &noRaw, lineFields: map[string]map[string]any{"a1b2c3d4e5": {"x": 1}}, wantText: "no items as read"},
		{name: "items in fields and lineFields", so: so, fields: map[string]any{"items": []any{}}, lineFields: map[string]map[string]any{"a1b2c3d4e5": {"x": 1}}, wantText: "lineFields"},
		{name: "nothing to write", so: so, wantText: "nothing to write"},
		{name: "nil order", so: nil, fields: map[string]any{"x": 1}, wantText: "no order"},
	}
	before := len(f.requests())
	for _, tt := range tests {
		_, err := c.UpdateSalesOrder(ctx, tt.so, tt.fields, tt.lineFields)
		if err == nil || !strings.Contains(err.Error(), tt.wantText) {
			t.Errorf("%s: error = %v, want one containing %q", tt.name, err, tt.wantText)
		}
	}
	if n := len(f.requests()) - before; n != 0 {
		t.Errorf("requests = %d, want 0", n)
	}
}

func TestCreateMaterialRequestAndComment(t *testing.T) {
	f := newFakeERP(t, func(w http.ResponseWriter, r *http.Request, n int) {
		switch r.URL.Path {
		case "/api/resource/Material Request":
			reply(w, 200, []byte(`{"data":{"name":"MAT-MR-2025-00001","docstatus":0}}`))
		default:
			reply(w, 200, []byte(`{"data":{"name":"c0ffee","comment_type":"Comment"}}`))
		}
	})
	c := MustClient(t, f.URL)
	ctx := testContext(t)
	name, err := c.CreateMaterialRequest(ctx, erp.MaterialRequest{
		Company: "Acme Corp", TransactionDate: "2025-03-03", ScheduleDate: "2025-03-10", Priority: "High",
		Items: []erp.MaterialRequestItem{{ItemCode: "WIDGET-01", Qty: 4, ScheduleDate: "2025-03-10", Warehouse: "Stores - AC"}},
	})
	if err != nil || name != "MAT-MR-2025-00001" {
		t.Fatalf("CreateMaterialRequest = %q, %v", name, err)
	}
	if err := c.AddComment(ctx, "Sales Order", "SAL-ORD-1", "Promise moved to 2025-03-18"); err != nil {
		t.Fatal(err)
	}
	reqs := f.requests()
	want := []any{
		map[string]any{"material_request_type": "Purchase", "company": "Acme Corp", "transaction_date": "2025-03-03",
			"schedule_date": "2025-03-10", "priority": "High",
			"items": []any{map[string]any{"item_code": "WIDGET-01", "qty": 4.0, "schedule_date": "2025-03-10", "warehouse": "Stores - AC"}}},
		map[string]any{"comment_type": "Comment", "reference_doctype": "Sales Order", "reference_name": "SAL-ORD-1",
			"content": "Promise moved to 2025-03-18"},
	}
	var got []any
	for _, r := range reqs {
		if r.Method != "POST" {
			t.Errorf("%s %s, want POST", r.Method, r.Path)
		}
		got = append(got, mustJSON(t, r.Body))
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("bodies (-want +got):\n%s", diff)
	}
	if reqs[1].Path != "/api/resource/Comment" {
		t.Errorf("comment path = %q", reqs[1].Path)
	}
}
