package sandbox

import (
	"encoding/base64"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// docs/erpnext.md#authentication: token and Basic auth; wrong or absent credentials → 401;
// ping is open to guests; get_logged_user names the API user.
func TestAuth_Ref2_1(t *testing.T) {
	st := MustSite(t)
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte(DefaultAPIKey+":"+DefaultAPISecret))
	tests := []struct {
		name, auth, path string
		wantStatus       int
		wantMessage      any
		wantExc          string
	}{
		{"token", st.AuthHeader(), "/api/method/frappe.auth.get_logged_user", 200, DefaultAPIUser, ""},
		{"basic", basic, "/api/method/frappe.auth.get_logged_user", 200, DefaultAPIUser, ""},
		{"v1 alias", st.AuthHeader(), "/api/v1/method/frappe.auth.get_logged_user", 200, DefaultAPIUser, ""},
		{"wrong secret", "token " + DefaultAPIKey + ":nope", "/api/method/frappe.auth.get_logged_user", 401, nil, "AuthenticationError"},
		{"wrong key on resource", "token x:y", "/api/resource/Item", 401, nil, "AuthenticationError"},
		{"absent", "", "/api/resource/Item", 401, nil, "AuthenticationError"},
		{"ping as guest", "", "/api/method/ping", 200, "pong", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := st.callAuth(t, tc.auth, "GET", tc.path, nil, nil)
			if r.Status != tc.wantStatus {
				t.Fatalf("status = %d, want %d (%s)", r.Status, tc.wantStatus, r.Raw)
			}
			if tc.wantMessage != nil && r.Body["message"] != tc.wantMessage {
				t.Errorf("message = %v, want %v", r.Body["message"], tc.wantMessage)
			}
			if excType(r) != tc.wantExc {
				t.Errorf("exc_type = %q, want %q", excType(r), tc.wantExc)
			}
		})
	}
}

// docs/erpnext.md#routes: POST inserts, GET reads, PUT updates, DELETE answers 202
// {"data":"ok"}; doctype and name are path-escaped ("Stores - WH").
func TestResourceCRUD_Ref2_2(t *testing.T) {
	st := MustSite(t, WithUserRoles(DefaultAPIUser, "Stock Manager"))
	MustBasics(t, st.Sandbox)
	r := st.call(t, "POST", "/api/resource/Warehouse", nil, map[string]any{"warehouse_name": "Returns", "company": "Test Co"})
	if r.Status != 200 {
		t.Fatalf("POST status %d: %s", r.Status, r.Raw)
	}
	data := r.Body["data"].(map[string]any)
	if data["name"] != "Returns - WH" {
		t.Fatalf("name = %v, want %q (Warehouse autoname docs/erpnext.md#item-warehouse-company-holiday-list)", data["name"], "Returns - WH")
	}
	r = st.call(t, "GET", "/api/resource/Warehouse/Returns - WH", nil, nil)
	if r.Status != 200 || r.Body["data"].(map[string]any)["company"] != "Test Co" {
		t.Fatalf("GET: %d %s", r.Status, r.Raw)
	}
	r = st.call(t, "PUT", "/api/v1/resource/Warehouse/Returns - WH", nil, map[string]any{"disabled": 1})
	if r.Status != 200 || num(r.Body["data"].(map[string]any)["disabled"]) != 1 {
		t.Fatalf("PUT: %d %s", r.Status, r.Raw)
	}
	r = st.call(t, "DELETE", "/api/resource/Warehouse/Returns - WH", nil, nil)
	if r.Status != 202 || string(r.Raw) != `{"data":"ok"}` {
		t.Fatalf("DELETE: %d %s, want 202 {\"data\":\"ok\"}", r.Status, r.Raw)
	}
	r = st.call(t, "GET", "/api/resource/Warehouse/Returns - WH", nil, nil)
	if r.Status != 404 || excType(r) != "DoesNotExistError" {
		t.Fatalf("GET after delete: %d %s", r.Status, r.Raw)
	}
}

// docs/erpnext.md#routes: with a JSON body the query string is ignored; without one
// query and form are merged.
func TestRequestParsing_Ref2_2(t *testing.T) {
	st := MustSite(t)
	MustBasics(t, st.Sandbox)
	r := st.call(t, "POST", "/api/method/frappe.client.get_list", q("doctype", "Item"),
		map[string]any{"doctype": "Customer", "fields": []string{"name"}})
	if r.Status != 200 {
		t.Fatalf("status %d: %s", r.Status, r.Raw)
	}
	if diff := cmp.Diff([]any{map[string]any{"name": "Cust One"}}, r.Body["message"]); diff != "" {
		t.Errorf("JSON body must win over the query (-want +got):\n%s", diff)
	}
	req, _ := http.NewRequest("POST", st.srv.URL+"/api/method/frappe.client.get_value?doctype=Customer",
		strings.NewReader("fieldname=customer_name&filters=Cust+One"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", st.AuthHeader())
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("form status %d", res.StatusCode)
	}
	var body map[string]any
	if err := jsonDecode(res.Body, &body); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]any{"customer_name": "Cust One"}, body["message"]); diff != "" {
		t.Errorf("query+form merge (-want +got):\n%s", diff)
	}
}

// docs/erpnext.md#updating-a-document, #errors: the frappe.client methods the engine uses.
func TestClientMethods_Ref2_5(t *testing.T) {
	st := MustSite(t, WithDemoData())
	demo := st.Demo()
	t.Run("get_value by name", func(t *testing.T) {
		r := st.call(t, "GET", "/api/method/frappe.client.get_value",
			q("doctype", "Company", "fieldname", `["default_holiday_list","abbr"]`, "filters", DemoCompany), nil)
		want := map[string]any{"default_holiday_list": DemoHolidayList, "abbr": DemoAbbr}
		if diff := cmp.Diff(want, r.Body["message"]); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})
	t.Run("get_value by filters, no match is {}", func(t *testing.T) {
		r := st.call(t, "GET", "/api/method/frappe.client.get_value",
			q("doctype", "Item", "fieldname", "lead_time_days", "filters", `{"item_code":"NOPE"}`), nil)
		if diff := cmp.Diff(map[string]any{}, r.Body["message"]); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})
	t.Run("get_count", func(t *testing.T) {
		r := st.call(t, "GET", "/api/method/frappe.client.get_count", q("doctype", "Item", "filters", `[["is_stock_item","=",0]]`), nil)
		if num(r.Body["message"]) != 2 {
			t.Errorf("count = %v, want 2 non-stock demo items", r.Body["message"])
		}
	})
	t.Run("get keeps nulls", func(t *testing.T) {
		r := st.call(t, "GET", "/api/method/frappe.client.get", q("doctype", "Sales Order", "name", demo.PastDueSO), nil)
		msg := r.Body["message"].(map[string]any)
		if v, ok := msg["po_no"]; !ok || v != nil {
			t.Errorf("frappe.client.get returns as_dict() with nulls: po_no = %v, present %v", v, ok)
		}
	})
	t.Run("set_value refuses GET", func(t *testing.T) {
		r := st.call(t, "GET", "/api/method/frappe.client.set_value", q("doctype", "Sales Order", "name", demo.DraftSO, "fieldname", "po_no", "value", "X"), nil)
		if r.Status != 403 || excType(r) != "PermissionError" {
			t.Errorf("GET set_value: %d %s, want 403 PermissionError", r.Status, r.Raw)
		}
	})
	t.Run("set_value on a child row saves the parent", func(t *testing.T) {
		so, _ := st.Get("Sales Order", demo.ContendedSO2)
		row := so["items"].([]any)[0].(map[string]any)["name"].(string)
		r := st.call(t, "POST", "/api/method/frappe.client.set_value", nil, map[string]any{"doctype": "Sales Order Item", "name": row,
			"fieldname": map[string]any{"delivery_date": "2026-03-20"}})
		if r.Status != 200 {
			t.Fatalf("%d %s", r.Status, r.Raw)
		}
		after, _ := st.Get("Sales Order", demo.ContendedSO2)
		if after["delivery_date"] != "2026-03-20" {
			t.Errorf("parent delivery_date = %v, want it forced to the line date (docs/erpnext.md#sales-order-item)", after["delivery_date"])
		}
	})
	t.Run("unknown method 404", func(t *testing.T) {
		r := st.call(t, "GET", "/api/method/frappe.client.no_such_thing", nil, nil)
		if r.Status != 404 {
			t.Errorf("status %d, want 404", r.Status)
		}
	})
	t.Run("insert, submit and cancel methods", func(t *testing.T) {
		r := st.call(t, "POST", "/api/method/frappe.client.insert", nil, map[string]any{"doc": map[string]any{
			"doctype": "Sales Order", "customer": DemoCustomer, "company": DemoCompany,
			"items": []any{map[string]any{"item_code": "SKU-010", "qty": 1, "warehouse": DemoStores, "delivery_date": "2026-03-10"}}}})
		if r.Status != 200 {
			t.Fatalf("insert: %d %s", r.Status, r.Raw)
		}
		doc := r.Body["message"].(map[string]any)
		r = st.call(t, "POST", "/api/method/frappe.client.submit", nil, map[string]any{"doc": doc})
		if r.Status != 200 || num(r.Body["message"].(map[string]any)["docstatus"]) != 1 {
			t.Fatalf("submit: %d %s", r.Status, r.Raw)
		}
		r = st.call(t, "POST", "/api/method/frappe.client.cancel", nil, map[string]any{"doctype": "Sales Order", "name": doc["name"]})
		if r.Status != 200 || r.Body["message"].(map[string]any)["status"] != "Cancelled" {
			t.Fatalf("cancel: %d %s", r.Status, r.Raw)
		}
	})
}

// docs/erpnext.md#errors: error bodies — status from the exception, exc_type,
// _server_messages double-encoded, exception/exc unless 404,
// _error_message on permission errors.
func TestErrorBodies_Ref2_6(t *testing.T) {
	st := MustSite(t, WithUserRoles(DefaultAPIUser, append([]string{"Item Manager", "Purchase Manager"}, DefaultRoles...)...))
	MustBasics(t, st.Sandbox)
	t.Run("404 has no traceback", func(t *testing.T) {
		r := st.call(t, "GET", "/api/resource/Item/NOPE", nil, nil)
		if r.Status != 404 || excType(r) != "DoesNotExistError" {
			t.Fatalf("%d %s", r.Status, r.Raw)
		}
		if _, ok := r.Body["exception"]; ok {
			t.Errorf("404 must not carry exception: %s", r.Raw)
		}
		msgs := serverMessages(t, r)
		if len(msgs) != 1 || msgs[0]["message"] != "Item NOPE not found" {
			t.Errorf("messages = %v", msgs)
		}
	})
	t.Run("409 duplicate name", func(t *testing.T) {
		r := st.call(t, "POST", "/api/resource/Item", nil, map[string]any{"item_code": "ITEM-A", "stock_uom": "Nos"})
		if r.Status != 409 || excType(r) != "DuplicateEntryError" {
			t.Fatalf("%d %s", r.Status, r.Raw)
		}
		if !strings.HasPrefix(r.Body["exception"].(string), "frappe.exceptions.DuplicateEntryError") {
			t.Errorf("exception = %v", r.Body["exception"])
		}
	})
	t.Run("417 mandatory, one message per missing field", func(t *testing.T) {
		r := st.call(t, "POST", "/api/resource/Material Request", nil, map[string]any{"transaction_date": "2026-03-02"})
		if r.Status != 417 || excType(r) != "MandatoryError" {
			t.Fatalf("%d %s", r.Status, r.Raw)
		}
		msgs := serverMessages(t, r)
		want := []map[string]any{
			{"message": "Error: Value missing for Material Request: Purpose", "title": "Message", "indicator": "red", "raise_exception": float64(1)},
			{"message": "Error: Value missing for Material Request: Company", "title": "Message", "indicator": "red", "raise_exception": float64(1)},
			{"message": "Error: Data missing in table: Items", "title": "Message", "indicator": "red", "raise_exception": float64(1)},
		}
		if diff := cmp.Diff(want, msgs); diff != "" {
			t.Errorf("_server_messages (-want +got):\n%s", diff)
		}
		if _, ok := r.Body["exc"].(string); !ok {
			t.Errorf("exc (JSON string of tracebacks) missing: %s", r.Raw)
		}
	})
	t.Run("417 link validation", func(t *testing.T) {
		r := st.call(t, "POST", "/api/resource/Sales Order", nil, soDoc(line("NO-SUCH-ITEM", 1, "Stores - WH", "2026-03-05")))
		if r.Status != 417 || excType(r) != "LinkValidationError" {
			t.Fatalf("%d %s", r.Status, r.Raw)
		}
		if msgs := serverMessages(t, r); len(msgs) != 1 || msgs[0]["message"] != "Could not find Row #1: Item Code: NO-SUCH-ITEM" {
			t.Errorf("messages = %v", msgs)
		}
	})
	t.Run("traceback off", func(t *testing.T) {
		st2 := MustSite(t, WithTraceback(false))
		r := st2.call(t, "POST", "/api/resource/Customer", nil, map[string]any{})
		if r.Status != 417 {
			t.Fatalf("%d", r.Status)
		}
		if _, ok := r.Body["exception"]; ok {
			t.Errorf("exception present with allow_error_traceback off: %s", r.Raw)
		}
	})
}

// docs/erpnext.md#child-tables and the DocPerm model: narrowed roles give 403
// PermissionError with _error_message.
func TestPermissions_Ref2_8(t *testing.T) {
	st := MustSite(t, WithDemoData(), WithUserRoles(DefaultAPIUser, "Sales User", "Stock User"))
	tests := []struct {
		name, method, path string
		body               map[string]any
		wantStatus         int
	}{
		{"Holiday List needs HR Manager", "GET", "/api/resource/Holiday List/" + DemoHolidayList, nil, 403},
		{"Holiday List list needs HR Manager", "GET", "/api/resource/Holiday List", nil, 403},
		{"Custom Field needs System Manager", "POST", "/api/resource/Custom Field", map[string]any{"dt": "Sales Order", "label": "X", "fieldtype": "Data"}, 403},
		{"Bin readable by Stock User", "GET", "/api/resource/Bin", nil, 200},
		{"own User readable", "GET", "/api/resource/User/" + DefaultAPIUser, nil, 200},
		{"other User not readable", "GET", "/api/resource/User/Administrator", nil, 403},
		{"Purchase Order readable by Stock User", "GET", "/api/resource/Purchase Order", nil, 200},
		{"Purchase Order not writable", "POST", "/api/resource/Purchase Order", map[string]any{"supplier": DemoSupplier, "company": DemoCompany,
			"items": []any{map[string]any{"item_code": "SKU-001", "qty": 1, "schedule_date": "2026-03-09", "warehouse": DemoStores}}}, 403},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := st.call(t, tc.method, tc.path, nil, tc.body)
			if r.Status != tc.wantStatus {
				t.Fatalf("status %d, want %d: %s", r.Status, tc.wantStatus, r.Raw)
			}
			if tc.wantStatus == 403 {
				if excType(r) != "PermissionError" {
					t.Errorf("exc_type %q", excType(r))
				}
				if _, ok := r.Body["_error_message"].(string); !ok {
					t.Errorf("_error_message missing: %s", r.Raw)
				}
			}
		})
	}
	r := st.call(t, "GET", "/api/resource/User/"+DefaultAPIUser, nil, nil)
	roles := r.Body["data"].(map[string]any)["roles"].([]any)
	var got []string
	for _, row := range roles {
		got = append(got, row.(map[string]any)["role"].(string))
	}
	if diff := cmp.Diff([]string{"Sales User", "Stock User"}, got); diff != "" {
		t.Errorf("User.roles (Has Role rows) (-want +got):\n%s", diff)
	}
}
