package erp_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/erpnext-otp/otp/erp"
)

func TestSalesOrderDecodes(t *testing.T) {
	f := newFakeERP(t, func(w http.ResponseWriter, r *http.Request, n int) {
		reply(w, 200, MustReadFile(t, "sales_order.json"))
	})
	c := MustClient(t, f.URL)
	so, err := c.SalesOrder(testContext(t), "SAL-ORD-2025-00042")
	if err != nil {
		t.Fatal(err)
	}
	want := &erp.SalesOrder{
		Name: "SAL-ORD-2025-00042", Customer: "Café Dupont", CustomerName: "Café Dupont", Company: "Acme Corp",
		Status: "To Deliver and Bill", DocStatus: 1, TransactionDate: "2025-03-03", DeliveryDate: "2025-03-14",
		GrandTotal: 1234.5, Modified: "2025-03-03 10:15:42.123456", ModifiedBy: "sales@example.com",
		PromiseDate: "2025-03-12", Confidence: "MEDIUM", PromiseStatus: "OK", FirstPromiseDate: "2025-03-11",
		Creation:   "2025-03-03 10:01:12.000000",
		PromisedAt: "2025-03-03 10:15:40.000000", Explanation: "6 from stock at Stores - AC; 4 from PO-00012 due 2025-03-10",
		Fingerprint: "a1b2c3",
		Items: []erp.SalesOrderItem{ // sorted by idx although the body lists idx 2 first
			{Name: "a1b2c3d4e5", Idx: 1, ItemCode: "WIDGET-01", ItemName: "Widget", Warehouse: "Stores - AC", Qty: 10, UOM: "Box",
				StockUOM: "Nos", ConversionFactor: 12, StockQty: 120, DeliveredQty: 2, DeliveryDate: "2025-03-14",
				LinePromiseDate: "2025-03-12", LineConfidence: "MEDIUM"},
			{Name: "f6g7h8i9j0", Idx: 2, ItemCode: "GADGET-02", ItemName: "Gadget", Warehouse: "Stores - AC", Qty: 3, UOM: "Nos",
				StockUOM: "Nos", ConversionFactor: 1, StockQty: 3, DeliveryDate: "2025-03-14", DeliveredBySupplier: true},
		},
	}
	if diff := cmp.Diff(want, so, cmpopts.IgnoreFields(erp.SalesOrder{}, "Raw")); diff != "" {
		t.Errorf("SalesOrder (-want +got):\n%s", diff)
	}
	items, _ := so.Raw["items"].([]any)
	if len(items) != 2 || so.Raw["selling_price_list"] != "Standard Selling" {
		t.Errorf("Raw lost data: %d items, selling_price_list %v", len(items), so.Raw["selling_price_list"])
	}
	// The custom field constants are the JSON keys the decoder reads.
	for _, f := range []string{erp.FieldPromiseDate, erp.FieldConfidence, erp.FieldPromiseStatus, erp.FieldFirstPromiseDate,
		erp.FieldPromisedAt, erp.FieldExplanation, erp.FieldFingerprint} {
		if _, ok := so.Raw[f]; !ok {
			t.Errorf("fixture lacks %s", f)
		}
	}
}

// listCase checks one typed list read: the request it sends and what it decodes.
type listCase struct {
	name       string
	call       func(c *erp.Client) (any, error)
	answer     string
	wantPath   string
	wantParams map[string]any // decoded query parameters (JSON ones decoded)
	want       any
}

func TestListReadsSendOneGet(t *testing.T) {
	tests := []listCase{
		{
			name: "Bins in warehouses",
			call: func(c *erp.Client) (any, error) {
				return c.Bins(testContext(t), []string{"WIDGET-01", "GADGET-02"}, []string{"Stores - AC"})
			},
			answer: `{"data":[
				{"item_code":"WIDGET-01","warehouse":"Stores - AC","actual_qty":10.0,"reserved_qty":4.0,"ordered_qty":20.0,"indented_qty":0.0,"planned_qty":0.0,"projected_qty":26.0,"reserved_qty_for_production":1.0,"reserved_qty_for_sub_contract":0.0,"reserved_qty_for_production_plan":0.0,"reserved_stock":0.0},
				{"item_code":"GADGET-02","warehouse":"Stores - AC","actual_qty":"3","reserved_qty":null,"projected_qty":3}]}`,
			wantPath: "/api/resource/Bin",
			wantParams: map[string]any{
				"fields": []any{"item_code", "warehouse", "actual_qty", "reserved_qty", "ordered_qty", "indented_qty", "planned_qty",
					"projected_qty", "reserved_qty_for_production", "reserved_qty_for_sub_contract",
					"reserved_qty_for_production_plan", "reserved_stock"},
				"filters":           []any{[]any{"item_code", "in", []any{"WIDGET-01", "GADGET-02"}}, []any{"warehouse", "in", []any{"Stores - AC"}}},
				"limit_page_length": "0",
			},
			want: []erp.Bin{
				{ItemCode: "GADGET-02", Warehouse: "Stores - AC", ActualQty: 3, ProjectedQty: 3},
				{ItemCode: "WIDGET-01", Warehouse: "Stores - AC", ActualQty: 10, ReservedQty: 4, OrderedQty: 20, ProjectedQty: 26, ReservedQtyForProduction: 1},
			},
		},
		{
			name: "open Purchase Order lines, parent side with child columns (docs/erpnext.md#child-tables)",
			call: func(c *erp.Client) (any, error) {
				return c.OpenPurchaseOrderLines(testContext(t), []string{"WIDGET-01"})
			},
			answer: `{"data":[
				{"name":"PO-00013","status":"On Hold","po_detail":"r3","idx":1,"item_code":"WIDGET-01","warehouse":"Stores - AC","qty":5.0,"received_qty":0.0,"conversion_factor":1.0,"schedule_date":"2025-03-20","delivered_by_supplier":0},
				{"name":"PO-00012","status":"To Receive and Bill","po_detail":"r2","idx":2,"item_code":"WIDGET-01","warehouse":"Stores - AC","qty":2.0,"received_qty":1.0,"conversion_factor":12.0,"schedule_date":"2025-03-08","expected_delivery_date":"2025-03-10","delivered_by_supplier":1},
				{"name":"PO-00012","status":"To Receive and Bill","po_detail":"r1","idx":1,"item_code":"WIDGET-01","warehouse":"Stores - AC","qty":4.0,"received_qty":0.0,"conversion_factor":1.0,"schedule_date":"2025-03-08","delivered_by_supplier":0}]}`,
			wantPath: "/api/resource/Purchase Order",
			wantParams: map[string]any{
				"fields": []any{"name", "status", "supplier", "items.name as po_detail", "items.idx as idx", "items.item_code as item_code",
					"items.warehouse as warehouse", "items.qty as qty", "items.received_qty as received_qty",
					"items.conversion_factor as conversion_factor", "items.schedule_date as schedule_date",
					"items.expected_delivery_date as expected_delivery_date", "items.delivered_by_supplier as delivered_by_supplier"},
				"filters": []any{
					[]any{"Purchase Order Item", "item_code", "in", []any{"WIDGET-01"}},
					[]any{"docstatus", "=", 1.0},
					[]any{"status", "not in", []any{"Closed", "Completed", "Delivered"}},
				},
				"limit_page_length": "0",
			},
			want: []erp.PurchaseOrderLine{
				{PurchaseOrder: "PO-00012", Status: "To Receive and Bill", Name: "r1", ItemCode: "WIDGET-01", Warehouse: "Stores - AC", Qty: 4, ConversionFactor: 1, ScheduleDate: "2025-03-08"},
				{PurchaseOrder: "PO-00012", Status: "To Receive and Bill", Name: "r2", ItemCode: "WIDGET-01", Warehouse: "Stores - AC", Qty: 2, ReceivedQty: 1, ConversionFactor: 12, ScheduleDate: "2025-03-08", ExpectedDeliveryDate: "2025-03-10", DeliveredBySupplier: true},
				{PurchaseOrder: "PO-00013", Status: "On Hold", Name: "r3", ItemCode: "WIDGET-01", Warehouse: "Stores - AC", Qty: 5, ConversionFactor: 1, ScheduleDate: "2025-03-20"},
			},
		},
		{
			name: "the open order book: drafts and submitted, paged, with the order's fields",
			call: func(c *erp.Client) (any, error) { return c.OpenOrderBook(testContext(t), 0) },
			answer: `{"data":[{"name":"SAL-ORD-1","status":"To Deliver","docstatus":1,"creation":"2025-03-01 09:00:00.123456","customer":"Acme Ltd",
				"company":"Acme","order_delivery_date":"2025-03-06","set_warehouse":"Stores - AC","modified":"2025-03-02 10:00:00",
				"custom_otp_promise_date":"2025-03-06","custom_otp_confidence":"HIGH","custom_otp_status":"OK",
				"custom_otp_explanation":"2 from stock","custom_otp_first_promise_date":"2025-03-06","custom_otp_commented":"2025-03-06|HIGH",
				"so_detail":"s1","idx":1,"item_code":"WIDGET-01","warehouse":"Stores - AC","uom":"Box",
				"qty":2.0,"stock_qty":24.0,"conversion_factor":12.0,"delivered_qty":1.0,"delivery_date":"2025-03-05","delivered_by_supplier":0,
				"line_promise_date":"2025-03-06","line_confidence":"HIGH"}]}`,
			wantPath: "/api/resource/Sales Order",
			wantParams: map[string]any{
				"fields": []any{"name", "status", "docstatus", "creation", "customer", "company", "delivery_date as order_delivery_date",
					"set_warehouse", "modified", "custom_otp_promise_date", "custom_otp_confidence", "custom_otp_status",
					"custom_otp_explanation", "custom_otp_first_promise_date", "custom_otp_commented",
					"items.name as so_detail", "items.idx as idx", "items.item_code as item_code",
					"items.warehouse as warehouse", "items.uom as uom", "items.qty as qty", "items.stock_qty as stock_qty",
					"items.conversion_factor as conversion_factor", "items.delivered_qty as delivered_qty",
					"items.delivery_date as delivery_date", "items.delivered_by_supplier as delivered_by_supplier",
					"items.custom_otp_line_promise_date as line_promise_date",
					"items.custom_otp_line_confidence as line_confidence"},
				"filters": []any{
					[]any{"docstatus", "in", []any{0.0, 1.0}},
					[]any{"status", "not in", []any{"Closed", "On Hold", "Completed"}},
				},
				"order_by":          "`tabSales Order`.name asc, `tabSales Order Item`.idx asc",
				"limit_page_length": "5000",
			},
			want: []erp.SalesOrderLine{{SalesOrder: "SAL-ORD-1", Status: "To Deliver", DocStatus: 1, Creation: "2025-03-01 09:00:00.123456", Customer: "Acme Ltd",
				Company: "Acme", OrderDeliveryDate: "2025-03-06", SetWarehouse: "Stores - AC", Modified: "2025-03-02 10:00:00",
				PromiseDate: "2025-03-06", Confidence: "HIGH", PromiseStatus: "OK", Explanation: "2 from stock", FirstPromiseDate: "2025-03-06",
				Commented: "2025-03-06|HIGH", Name: "s1", Idx: 1, ItemCode: "WIDGET-01", Warehouse: "Stores - AC", UOM: "Box",
				Qty: 2, StockQty: 24, ConversionFactor: 12, DeliveredQty: 1, DeliveryDate: "2025-03-05",
				LinePromiseDate: "2025-03-06", LineConfidence: "HIGH"}},
		},
		{
			name: "Items, Check and Int fields however spelled",
			call: func(c *erp.Client) (any, error) { return c.Items(testContext(t), []string{"B", "A", "C"}) },
			answer: `{"data":[{"name":"B","item_name":"Bee","stock_uom":"Nos","is_stock_item":0,"disabled":"1","lead_time_days":7.0},
				{"name":"A","item_name":"Ay","stock_uom":"Box","is_stock_item":true,"disabled":0,"lead_time_days":"3"}]}`,
			wantPath: "/api/resource/Item",
			wantParams: map[string]any{
				"fields":            []any{"name", "item_name", "stock_uom", "is_stock_item", "disabled", "lead_time_days"},
				"filters":           []any{[]any{"name", "in", []any{"B", "A", "C"}}},
				"limit_page_length": "0",
			},
			want: []erp.Item{
				{Code: "A", Name: "Ay", StockUOM: "Box", IsStockItem: true, LeadTimeDays: 3},
				{Code: "B", Name: "Bee", StockUOM: "Nos", Disabled: true, LeadTimeDays: 7},
			},
		},
		{
			name: "Warehouses of a company",
			call: func(c *erp.Client) (any, error) { return c.Warehouses(testContext(t), "Acme Corp") },
			answer: `{"data":[{"name":"Stores - AC","company":"Acme Corp","parent_warehouse":"All Warehouses - AC","is_group":0,"disabled":0,"is_rejected_warehouse":0},
				{"name":"All Warehouses - AC","company":"Acme Corp","is_group":1,"disabled":0,"is_rejected_warehouse":0},
				{"name":"Rejected - AC","company":"Acme Corp","parent_warehouse":"All Warehouses - AC","is_group":0,"disabled":0,"is_rejected_warehouse":1}]}`,
			wantPath: "/api/resource/Warehouse",
			wantParams: map[string]any{
				"fields":            []any{"name", "company", "parent_warehouse", "warehouse_type", "is_group", "disabled", "is_rejected_warehouse"},
				"filters":           []any{[]any{"company", "=", "Acme Corp"}},
				"limit_page_length": "0",
			},
			want: []erp.Warehouse{
				{Name: "All Warehouses - AC", Company: "Acme Corp", IsGroup: true},
				{Name: "Rejected - AC", Company: "Acme Corp", ParentWarehouse: "All Warehouses - AC", IsRejectedWarehouse: true},
				{Name: "Stores - AC", Company: "Acme Corp", ParentWarehouse: "All Warehouses - AC"},
			},
		},
		{
			name:       "Companies",
			call:       func(c *erp.Client) (any, error) { return c.Companies(testContext(t)) },
			answer:     `{"data":[{"name":"Zeta"},{"name":"Acme Corp"}]}`,
			wantPath:   "/api/resource/Company",
			wantParams: map[string]any{"fields": []any{"name"}, "limit_page_length": "0"},
			want:       []string{"Acme Corp", "Zeta"},
		},
		{
			name: "SalesOrders for the quote API list (docs/quote-api.md#the-earlier-otp)",
			call: func(c *erp.Client) (any, error) {
				return c.SalesOrders(testContext(t), erp.SalesOrderQuery{Offset: 40, Customer: "Café Dupont", Status: "To Deliver",
					FromDate: "2025-01-01", ToDate: "2025-03-31", Search: "42"})
			},
			answer: `{"data":[{"name":"SAL-ORD-2025-00042","customer":"Café Dupont","customer_name":"Café Dupont","transaction_date":"2025-03-03",
				"delivery_date":null,"status":"To Deliver","modified":"2025-03-03 10:15:42.123456","docstatus":1,"grand_total":1234.5}]}`,
			wantPath: "/api/resource/Sales Order",
			wantParams: map[string]any{
				"fields": []any{"name", "customer", "customer_name", "transaction_date", "delivery_date", "status", "modified", "modified_by", "docstatus", "grand_total"},
				"filters": []any{
					[]any{"docstatus", "in", []any{0.0, 1.0}}, []any{"status", "=", "To Deliver"}, []any{"customer", "=", "Café Dupont"},
					[]any{"transaction_date", ">=", "2025-01-01"}, []any{"transaction_date", "<=", "2025-03-31"},
				},
				"or_filters":        []any{[]any{"name", "like", "%42%"}, []any{"customer", "like", "%42%"}},
				"order_by":          "transaction_date desc, name desc",
				"limit_page_length": "20",
				"limit_start":       "40",
			},
			want: []erp.SalesOrderSummary{{Name: "SAL-ORD-2025-00042", Customer: "Café Dupont", CustomerName: "Café Dupont",
				TransactionDate: "2025-03-03", Status: "To Deliver", Modified: "2025-03-03 10:15:42.123456", DocStatus: 1, GrandTotal: 1234.5}},
		},
		{
			name: "SalesOrdersModifiedSince for the reconcile sweep: keyset after (modified, name)",
			call: func(c *erp.Client) (any, error) {
				return c.SalesOrdersModifiedSince(testContext(t), "2025-03-03 10:00:00.000000", "SAL-ORD-2025-00041", 500)
			},
			answer: `{"data":[{"name":"SAL-ORD-2025-00042","customer":"Café Dupont","modified":"2025-03-03 10:00:00.000000",
				"modified_by":"sales@example.com","docstatus":0,"status":"Draft"}]}`,
			wantPath: "/api/resource/Sales Order",
			wantParams: map[string]any{
				"fields": []any{"name", "customer", "customer_name", "transaction_date", "delivery_date", "status", "modified", "modified_by", "docstatus", "grand_total"},
				"filters": []any{
					[]any{"docstatus", "in", []any{0.0, 1.0}},
					[]any{"status", "not in", []any{"Closed", "Completed", "Cancelled", "On Hold"}},
					[]any{"modified", ">=", "2025-03-03 10:00:00.000000"},
				},
				// ANDed with the filters by Frappe: modified > since OR (modified = since AND name > after).
				"or_filters":        []any{[]any{"modified", ">", "2025-03-03 10:00:00.000000"}, []any{"name", ">", "SAL-ORD-2025-00041"}},
				"order_by":          "modified asc, name asc",
				"limit_page_length": "500",
			},
			want: []erp.SalesOrderSummary{{Name: "SAL-ORD-2025-00042", Customer: "Café Dupont", Status: "Draft",
				Modified: "2025-03-03 10:00:00.000000", ModifiedBy: "sales@example.com"}},
		},
		{
			name: "SalesOrdersModifiedSince: the first sweep takes the boundary itself",
			call: func(c *erp.Client) (any, error) {
				return c.SalesOrdersModifiedSince(testContext(t), "2025-03-03 10:00:00", "", 500)
			},
			answer:   `{"data":[]}`,
			wantPath: "/api/resource/Sales Order",
			wantParams: map[string]any{
				"fields": []any{"name", "customer", "customer_name", "transaction_date", "delivery_date", "status", "modified", "modified_by", "docstatus", "grand_total"},
				"filters": []any{
					[]any{"docstatus", "in", []any{0.0, 1.0}},
					[]any{"status", "not in", []any{"Closed", "Completed", "Cancelled", "On Hold"}},
					[]any{"modified", ">=", "2025-03-03 10:00:00"},
				},
				"order_by":          "modified asc, name asc",
				"limit_page_length": "500",
			},
			want: []erp.SalesOrderSummary{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeERP(t, func(w http.ResponseWriter, r *http.Request, n int) { reply(w, 200, []byte(tt.answer)) })
			got, err := tt.call(MustClient(t, f.URL))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("result (-want +got):\n%s", diff)
			}
			reqs := f.requests()
			if len(reqs) != 1 {
				t.Fatalf("requests = %d, want 1", len(reqs))
			}
			r := reqs[0]
			if r.Method != "GET" || r.Path != tt.wantPath {
				t.Errorf("request = %s %s, want GET %s", r.Method, r.Path, tt.wantPath)
			}
			params := map[string]any{}
			for k := range r.Query {
				v := r.Query.Get(k)
				switch k {
				case "fields", "filters", "or_filters":
					params[k] = mustJSON(t, []byte(v))
				default:
					params[k] = v
				}
			}
			if diff := cmp.Diff(tt.wantParams, params); diff != "" {
				t.Errorf("query parameters (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLongInListsGoByPost(t *testing.T) {
	codes := make([]string, 120)
	for i := range codes {
		codes[i] = fmt.Sprintf("SKU-%03d", i+1)
	}
	longNames := []string{strings.Repeat("A", 900), strings.Repeat("B", 900), strings.Repeat("C", 900)}
	tests := []struct {
		name  string
		codes []string
	}{
		{name: "120 names", codes: codes},
		{name: "3 names, but a URL over 2000 bytes", codes: longNames},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeERP(t, func(w http.ResponseWriter, r *http.Request, n int) {
				reply(w, 200, []byte(`{"message":[{"item_code":"SKU-001","warehouse":"Stores - WH","actual_qty":5}]}`))
			})
			bins, err := MustClient(t, f.URL).Bins(testContext(t), tt.codes, nil)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff([]erp.Bin{{ItemCode: "SKU-001", Warehouse: "Stores - WH", ActualQty: 5}}, bins); diff != "" {
				t.Errorf("Bins (-want +got):\n%s", diff)
			}
			reqs := f.requests()
			if len(reqs) != 1 {
				t.Fatalf("requests = %d, want 1", len(reqs))
			}
			r := reqs[0]
			if r.Method != "POST" || r.Path != "/api/method/frappe.client.get_list" || len(r.Query) != 0 {
				t.Errorf("request = %s %s?%s, want POST /api/method/frappe.client.get_list", r.Method, r.Path, r.Query.Encode())
			}
			if ct := r.Header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type = %q", ct)
			}
			body, _ := mustJSON(t, r.Body).(map[string]any)
			inList := make([]any, len(tt.codes))
			for i, c := range tt.codes {
				inList[i] = c
			}
			if diff := cmp.Diff([]any{[]any{"item_code", "in", inList}}, body["filters"]); diff != "" {
				t.Errorf("filters (-want +got):\n%s", diff)
			}
			if body["doctype"] != "Bin" || body["limit_page_length"] != 0.0 {
				t.Errorf("body doctype = %v, limit_page_length = %v; want Bin, 0", body["doctype"], body["limit_page_length"])
			}
		})
	}
}

func TestEmptyInputsMakeNoRequest(t *testing.T) {
	f := newFakeERP(t, func(w http.ResponseWriter, r *http.Request, n int) { reply(w, 200, []byte(`{"data":[]}`)) })
	c := MustClient(t, f.URL)
	ctx := testContext(t)
	bins, err1 := c.Bins(ctx, nil, nil)
	binsNoWh, err2 := c.Bins(ctx, []string{"A"}, []string{})
	pos, err3 := c.OpenPurchaseOrderLines(ctx, nil)
	items, err5 := c.Items(ctx, nil)
	if err := errors.Join(err1, err2, err3, err5); err != nil {
		t.Fatal(err)
	}
	if len(bins)+len(binsNoWh)+len(pos)+len(items) != 0 {
		t.Errorf("got rows for empty inputs")
	}
	if n := len(f.requests()); n != 0 {
		t.Errorf("requests = %d, want 0", n)
	}
}

func TestCompanyHolidayList(t *testing.T) {
	tests := []struct {
		answer  string
		want    string
		wantErr error
	}{
		{answer: `{"message":{"default_holiday_list":"Holidays 2025"}}`, want: "Holidays 2025"},
		{answer: `{"message":{"default_holiday_list":null}}`, want: ""},
		{answer: `{"message":{}}`, wantErr: erp.ErrNotFound}, // get_value found no Company
		{answer: `{}`, wantErr: erp.ErrNotFound},
	}
	for _, tt := range tests {
		f := newFakeERP(t, func(w http.ResponseWriter, r *http.Request, n int) { reply(w, 200, []byte(tt.answer)) })
		got, err := MustClient(t, f.URL).CompanyHolidayList(testContext(t), "Acme Corp")
		if got != tt.want || !errors.Is(err, tt.wantErr) {
			t.Errorf("answer %s: CompanyHolidayList = %q, %v; want %q, %v", tt.answer, got, err, tt.want, tt.wantErr)
		}
		r := f.requests()[0]
		if r.Path != "/api/method/frappe.client.get_value" || r.Query.Get("doctype") != "Company" ||
			r.Query.Get("fieldname") != `["default_holiday_list"]` || r.Query.Get("filters") != `{"name":"Acme Corp"}` {
			t.Errorf("request = %s?%s", r.Path, r.Query.Encode())
		}
	}
}

func TestHolidayListSortsRows(t *testing.T) {
	f := newFakeERP(t, func(w http.ResponseWriter, r *http.Request, n int) {
		reply(w, 200, []byte(`{"data":{"name":"Holidays 2025","from_date":"2025-01-01","to_date":"2025-12-31","holidays":[
			{"holiday_date":"2025-01-05","description":"Sunday","weekly_off":1},
			{"holiday_date":"2025-01-01","description":"New Year","weekly_off":0}]}}`))
	})
	hl, err := MustClient(t, f.URL).HolidayList(testContext(t), "Holidays 2025")
	if err != nil {
		t.Fatal(err)
	}
	want := &erp.HolidayList{Name: "Holidays 2025", FromDate: "2025-01-01", ToDate: "2025-12-31", Holidays: []erp.Holiday{
		{Date: "2025-01-01", Description: "New Year"}, {Date: "2025-01-05", Description: "Sunday", WeeklyOff: true},
	}}
	if diff := cmp.Diff(want, hl); diff != "" {
		t.Errorf("HolidayList (-want +got):\n%s", diff)
	}
	if p := f.requests()[0].Path; p != "/api/resource/Holiday List/Holidays 2025" {
		t.Errorf("path = %q", p)
	}
}

func TestPingAndLoggedUser(t *testing.T) {
	f := newFakeERP(t, func(w http.ResponseWriter, r *http.Request, n int) {
		switch r.URL.Path {
		case "/api/method/ping":
			reply(w, 200, []byte(`{"message":"pong"}`))
		case "/api/method/frappe.auth.get_logged_user":
			reply(w, 200, []byte(`{"message":"otp@example.com"}`))
		default:
			reply(w, 404, []byte(`{"exc_type":"DoesNotExistError"}`))
		}
	})
	c := MustClient(t, f.URL)
	if err := c.Ping(testContext(t)); err != nil {
		t.Errorf("Ping: %v", err)
	}
	if u, err := c.LoggedUser(testContext(t)); u != "otp@example.com" || err != nil {
		t.Errorf("LoggedUser = %q, %v", u, err)
	}
}

// A Sales Order's numbers are read however Frappe or a proxy spells them, as
// list rows' are; a field of the wrong type is an unexpected answer, not a
// zero.
func TestSalesOrderFieldTypes(t *testing.T) {
	tests := []struct {
		name string
		data string
		want *erp.SalesOrder // nil: ErrUnexpected
	}{
		{
			name: "numbers as strings, bools and nulls",
			data: `{"name":"SO-1","docstatus":"1","grand_total":null,"per_delivered":" 12.5 ","items":[
				{"name":"r2","idx":"2","item_code":"B","qty":true,"conversion_factor":"","stock_qty":3},
				{"name":"r1","idx":1.0,"item_code":"A","qty":"4","conversion_factor":12,"delivery_date":null}]}`,
			want: &erp.SalesOrder{Name: "SO-1", DocStatus: 1, PerDelivered: 12.5, Items: []erp.SalesOrderItem{
				{Name: "r1", Idx: 1, ItemCode: "A", Qty: 4, ConversionFactor: 12},
				{Name: "r2", Idx: 2, ItemCode: "B", Qty: 1, StockQty: 3},
			}},
		},
		{name: "no items", data: `{"name":"SO-1"}`, want: &erp.SalesOrder{Name: "SO-1", Items: []erp.SalesOrderItem{}}},
		{name: "a string field as a number", data: `{"name":"SO-1","customer":5}`},
		{name: "a number that is not one", data: `{"name":"SO-1","items":[{"name":"r1","qty":"lots"}]}`},
		{name: "items not a list", data: `{"name":"SO-1","items":{"name":"r1"}}`},
		{name: "an item not an object", data: `{"name":"SO-1","items":["r1"]}`},
		{name: "data a list", data: `[{"name":"SO-1"}]`},
		{name: "data null", data: `null`},
		{name: "no name", data: `{"customer":"A"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeERP(t, func(w http.ResponseWriter, r *http.Request, n int) {
				reply(w, 200, []byte(`{"data":`+tt.data+`}`))
			})
			so, err := MustClient(t, f.URL).SalesOrder(testContext(t), "SO-1")
			if tt.want == nil {
				if !errors.Is(err, erp.ErrUnexpected) {
					t.Errorf("SalesOrder = %+v, %v; want ErrUnexpected", so, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, so, cmpopts.IgnoreFields(erp.SalesOrder{}, "Raw")); diff != "" {
				t.Errorf("SalesOrder (-want +got):\n%s", diff)
			}
			var raw map[string]any
			if err := json.Unmarshal([]byte(tt.data), &raw); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(raw, so.Raw); diff != "" {
				t.Errorf("Raw is not the document as returned (-want +got):\n%s", diff)
			}
		})
	}
}
