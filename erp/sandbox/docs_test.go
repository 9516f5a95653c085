package sandbox

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// docs/erpnext.md#reading-one-document: GET omits nulls at parent and child level; Float, Int and
// Check are always there; standard fields are.
func TestGetOmitsNulls_Ref2_4(t *testing.T) {
	st := MustSite(t)
	MustBasics(t, st.Sandbox)
	so := MustInsert(t, st.Sandbox, "Sales Order", soDoc(line("ITEM-A", 2, "Stores - WH", "2026-03-05")))
	r := st.call(t, "GET", "/api/resource/Sales Order/"+so["name"].(string), nil, nil)
	d := r.Body["data"].(map[string]any)
	for _, k := range []string{"set_warehouse", "po_no", "amended_from"} {
		if _, ok := d[k]; ok {
			t.Errorf("null %q present: %v", k, d[k])
		}
	}
	for _, k := range []string{"name", "owner", "creation", "modified", "modified_by", "docstatus", "idx", "doctype", "per_delivered", "skip_delivery_note"} {
		if _, ok := d[k]; !ok {
			t.Errorf("%q missing", k)
		}
	}
	row := d["items"].([]any)[0].(map[string]any)
	for _, k := range []string{"parent", "parentfield", "parenttype", "idx", "docstatus", "delivered_qty", "stock_qty"} {
		if _, ok := row[k]; !ok {
			t.Errorf("child %q missing", k)
		}
	}
	if _, ok := row["supplier"]; ok {
		t.Errorf("child null supplier present")
	}
	if row["parent"] != so["name"] || row["parenttype"] != "Sales Order" || row["parentfield"] != "items" {
		t.Errorf("child link fields: %v %v %v", row["parent"], row["parenttype"], row["parentfield"])
	}
	if n := row["name"].(string); len(n) != 10 || strings.Trim(n, "0123456789abcdef") != "" {
		t.Errorf("child name %q, want a 10-char hash", n)
	}
}

// docs/erpnext.md#updating-a-document: partial PUT; a child-table key replaces the whole table,
// rows with a known name keep it, others get a new hash, omitted columns are
// lost; keys that are not fields are accepted but not stored.
func TestPartialPutReplacesChildren_Ref2_5(t *testing.T) {
	st := MustSite(t)
	MustBasics(t, st.Sandbox)
	so := MustInsert(t, st.Sandbox, "Sales Order", soDoc(
		map[string]any{"item_code": "ITEM-A", "qty": 2.0, "rate": 5.0, "warehouse": "Stores - WH", "delivery_date": "2026-03-05"},
		map[string]any{"item_code": "ITEM-B", "qty": 1.0, "rate": 7.0, "warehouse": "Stores - WH", "delivery_date": "2026-03-06"}))
	name := so["name"].(string)
	rows := so["items"].([]any)
	keep := rows[0].(map[string]any)["name"].(string)
	r := st.call(t, "PUT", "/api/resource/Sales Order/"+name, nil, map[string]any{
		"po_no": "PO-77", "not_a_field": "x",
		"items": []any{
			map[string]any{"name": keep, "item_code": "ITEM-A", "qty": 3, "warehouse": "Stores - WH", "delivery_date": "2026-03-05"},
			map[string]any{"item_code": "ITEM-B", "qty": 4, "warehouse": "Stores - WH", "delivery_date": "2026-03-07"},
		}})
	if r.Status != 200 {
		t.Fatalf("%d %s", r.Status, r.Raw)
	}
	got, _ := st.Get("Sales Order", name)
	if got["po_no"] != "PO-77" || got["customer"] != "Cust One" {
		t.Errorf("partial update lost or missed fields: po_no=%v customer=%v", got["po_no"], got["customer"])
	}
	if _, ok := got["not_a_field"]; ok {
		t.Errorf("unknown key stored")
	}
	items := got["items"].([]any)
	if len(items) != 2 {
		t.Fatalf("items = %d, want 2", len(items))
	}
	r0, r1 := items[0].(map[string]any), items[1].(map[string]any)
	if r0["name"] != keep {
		t.Errorf("row with a known name lost it: %v", r0["name"])
	}
	if r1["name"] == rows[1].(map[string]any)["name"] {
		t.Errorf("row without a name kept the old row's name")
	}
	if num(r0["rate"]) != 0 || num(r0["qty"]) != 3 {
		t.Errorf("row columns: rate=%v (omitted → lost) qty=%v", r0["rate"], r0["qty"])
	}
	if got["delivery_date"] != "2026-03-07" {
		t.Errorf("parent delivery_date %v, want max of lines (docs/erpnext.md#sales-order-item)", got["delivery_date"])
	}
}

// docs/erpnext.md#updating-a-document: a `modified` in the body that differs → 417
// TimestampMismatchError; the current one saves.
func TestTimestampMismatch_Ref2_5(t *testing.T) {
	st := MustSite(t)
	MustBasics(t, st.Sandbox)
	c := MustInsert(t, st.Sandbox, "Customer", map[string]any{"customer_name": "Cust Two"})
	stale := c["modified"]
	if _, err := st.Update("Customer", "Cust Two", map[string]any{"territory": "North"}); err != nil {
		t.Fatal(err)
	}
	r := st.call(t, "PUT", "/api/resource/Customer/Cust Two", nil, map[string]any{"territory": "South", "modified": stale})
	if r.Status != 417 || excType(r) != "TimestampMismatchError" {
		t.Fatalf("stale modified: %d %s", r.Status, r.Raw)
	}
	cur, _ := st.Get("Customer", "Cust Two")
	r = st.call(t, "PUT", "/api/resource/Customer/Cust Two", nil, map[string]any{"territory": "South", "modified": cur["modified"]})
	if r.Status != 200 || r.Body["data"].(map[string]any)["territory"] != "South" {
		t.Fatalf("current modified: %d %s", r.Status, r.Raw)
	}
	if r.Body["data"].(map[string]any)["modified"] == cur["modified"] {
		t.Errorf("a save must bump modified")
	}
}

// docs/erpnext.md#updating-a-document, #custom-fields: on a submitted document every changed field without
// allow_on_submit → 417 UpdateAfterSubmitError, custom fields included;
// tables compared by length; docstatus 1 in a PUT of a draft submits.
func TestUpdateAfterSubmit_Ref2_5(t *testing.T) {
	st := MustSite(t)
	MustBasics(t, st.Sandbox)
	for _, cf := range []map[string]any{
		{"dt": "Sales Order", "label": "OTP Promise Date", "fieldname": "custom_otp_promise_date", "fieldtype": "Date", "insert_after": "delivery_date", "allow_on_submit": 1},
		{"dt": "Sales Order", "label": "Locked Note", "fieldtype": "Data", "insert_after": "append"},
		{"dt": "Sales Order Item", "label": "Line Promise", "fieldname": "custom_otp_line_promise_date", "fieldtype": "Date", "insert_after": "delivery_date", "allow_on_submit": 1},
	} {
		if r := st.call(t, "POST", "/api/resource/Custom Field", nil, cf); r.Status != 200 {
			t.Fatalf("custom field: %d %s", r.Status, r.Raw)
		}
	}
	so := MustInsert(t, st.Sandbox, "Sales Order", soDoc(line("ITEM-A", 2, "Stores - WH", "2026-03-05")))
	name := so["name"].(string)
	r := st.call(t, "PUT", "/api/resource/Sales Order/"+name, nil, map[string]any{"docstatus": 1})
	if r.Status != 200 || num(r.Body["data"].(map[string]any)["docstatus"]) != 1 {
		t.Fatalf("PUT docstatus 1 must submit: %d %s", r.Status, r.Raw)
	}
	sub, _ := st.Get("Sales Order", name)
	items := sub["items"].([]any)
	rowName := items[0].(map[string]any)["name"].(string)
	tests := []struct {
		name    string
		body    map[string]any
		status  int
		message string
	}{
		{"aos custom field", map[string]any{"custom_otp_promise_date": "2026-03-09"}, 200, ""},
		{"aos standard field", map[string]any{"po_no": "X-1"}, 200, ""},
		{"no aos: customer", map[string]any{"customer": "Cust One", "company": "Test Co", "skip_delivery_note": 1}, 417,
			"Not allowed to change <strong>Skip Delivery Note</strong> after submission from <strong>0</strong> to <strong>1</strong>"},
		{"no aos: custom field", map[string]any{"custom_locked_note": "x"}, 417,
			"Not allowed to change <strong>Locked Note</strong> after submission from <strong>None</strong> to <strong>x</strong>"},
		{"same value is no change", map[string]any{"customer": "Cust One"}, 200, ""},
		{"table length differs", map[string]any{"items": append(append([]any{}, items...), map[string]any{"item_code": "ITEM-B", "item_name": "ITEM-B",
			"qty": 1, "uom": "Nos", "conversion_factor": 1, "warehouse": "Stores - WH", "delivery_date": "2026-03-05"})}, 417,
			"Not allowed to change <strong>Items</strong> after submission from <strong>1</strong> to <strong>2</strong>"},
		{"child aos field via set_value row", nil, 200, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var r resp
			if tc.body == nil {
				r = st.call(t, "POST", "/api/method/frappe.client.set_value", nil, map[string]any{"doctype": "Sales Order Item", "name": rowName,
					"fieldname": "custom_otp_line_promise_date", "value": "2026-03-10"})
			} else {
				r = st.call(t, "PUT", "/api/resource/Sales Order/"+name, nil, tc.body)
			}
			if r.Status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.Status, tc.status, r.Raw)
			}
			if tc.status == 417 {
				if excType(r) != "UpdateAfterSubmitError" {
					t.Errorf("exc_type %q", excType(r))
				}
				msgs := serverMessages(t, r)
				if len(msgs) != 1 || msgs[0]["message"] != tc.message || msgs[0]["title"] != "Cannot Update After Submit" {
					t.Errorf("messages = %v, want %q", msgs, tc.message)
				}
			}
		})
	}
	full := map[string]any{}
	for k, v := range items[0].(map[string]any) {
		full[k] = v
	}
	full["qty"] = 5
	r = st.call(t, "PUT", "/api/resource/Sales Order/"+name, nil, map[string]any{"items": []any{full}})
	if r.Status != 417 || excType(r) != "UpdateAfterSubmitError" || !strings.Contains(string(r.Raw), "Quantity") {
		t.Errorf("child qty change on submitted order: %d %s, want 417 on Quantity", r.Status, r.Raw)
	}
	got, _ := st.Get("Sales Order", name)
	line0 := got["items"].([]any)[0].(map[string]any)
	if got["custom_otp_promise_date"] != "2026-03-09" || line0["custom_otp_line_promise_date"] != "2026-03-10" {
		t.Errorf("aos custom values not stored: %v %v", got["custom_otp_promise_date"], line0["custom_otp_line_promise_date"])
	}
}

// docs/erpnext.md#custom-fields: Custom Field naming, duplicates, insert_after, and the meta
// changing at once (and back on delete).
func TestCustomFields_Ref4(t *testing.T) {
	st := MustSite(t)
	MustBasics(t, st.Sandbox)
	tests := []struct {
		name      string
		body      map[string]any
		status    int
		wantName  string
		wantField string
		wantMsg   string
	}{
		{"from label", map[string]any{"dt": "Sales Order", "label": "Promised Date", "fieldtype": "Date", "insert_after": "delivery_date"}, 200,
			"Sales Order-custom_promised_date", "custom_promised_date", ""},
		{"given fieldname is lowercased, no prefix", map[string]any{"dt": "Sales Order", "label": "X", "fieldname": "OTP_Status", "fieldtype": "Data"}, 200,
			"Sales Order-otp_status", "otp_status", ""},
		{"label punctuation dropped", map[string]any{"dt": "Sales Order Item", "label": "Line Promise (OTP)!", "fieldtype": "Data", "insert_after": "append"}, 200,
			"Sales Order Item-custom_line_promise_otp", "custom_line_promise_otp", ""},
		{"restricted name gets 1", map[string]any{"dt": "Customer", "fieldname": "name", "label": "N", "fieldtype": "Data"}, 200,
			"Customer-name1", "name1", ""},
		{"duplicate", map[string]any{"dt": "Sales Order", "label": "Promised Date", "fieldtype": "Date"}, 417, "", "",
			"A field with the name <strong>custom_promised_date</strong> already exists in Sales Order"},
		{"duplicate of a standard field", map[string]any{"dt": "Sales Order", "fieldname": "status", "fieldtype": "Data"}, 417, "", "",
			"A field with the name <strong>status</strong> already exists in Sales Order"},
		{"insert_after must exist", map[string]any{"dt": "Sales Order", "label": "Y", "fieldtype": "Data", "insert_after": "nope"}, 404, "", "",
			"Insert After field 'nope' mentioned in Custom Field 'Sales Order-custom_y', with label 'Y', does not exist"},
		{"dt must exist", map[string]any{"dt": "No Such Doctype", "label": "Y", "fieldtype": "Data"}, 417, "", "", "Could not find DocType: No Such Doctype"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := st.call(t, "POST", "/api/resource/Custom Field", nil, tc.body)
			if r.Status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.Status, tc.status, r.Raw)
			}
			if tc.status == 200 {
				d := r.Body["data"].(map[string]any)
				if d["name"] != tc.wantName || d["fieldname"] != tc.wantField {
					t.Errorf("name %v fieldname %v, want %q %q", d["name"], d["fieldname"], tc.wantName, tc.wantField)
				}
				return
			}
			if msgs := serverMessages(t, r); len(msgs) != 1 || msgs[0]["message"] != tc.wantMsg {
				t.Errorf("messages %v, want %q", msgs, tc.wantMsg)
			}
		})
	}
	so := MustInsert(t, st.Sandbox, "Sales Order", soDoc(line("ITEM-A", 1, "Stores - WH", "2026-03-05")))
	name := so["name"].(string)
	r := st.call(t, "PUT", "/api/resource/Sales Order/"+name, nil, map[string]any{"custom_promised_date": "2026-03-06"})
	if r.Body["data"].(map[string]any)["custom_promised_date"] != "2026-03-06" {
		t.Fatalf("new custom field not writable at once: %s", r.Raw)
	}
	r = st.call(t, "GET", "/api/resource/Custom Field/Sales Order-custom_promised_date", nil, nil)
	if r.Status != 200 {
		t.Fatalf("idempotent GET by name: %d", r.Status)
	}
	r = st.call(t, "DELETE", "/api/resource/Custom Field/Sales Order-custom_promised_date", nil, nil)
	if r.Status != 202 {
		t.Fatalf("delete: %d %s", r.Status, r.Raw)
	}
	got, _ := st.Get("Sales Order", name)
	if _, ok := got["custom_promised_date"]; ok {
		t.Errorf("deleted custom field still in the document")
	}
	r = st.call(t, "GET", "/api/resource/Custom Field/Sales Order-custom_promised_date", nil, nil)
	if r.Status != 404 {
		t.Errorf("GET deleted custom field: %d, want 404", r.Status)
	}
}

// docs/erpnext.md#sales-order-item: validate_delivery_date; stock_qty = qty × conversion
// factor; naming series; Warehouse and Item autoname.
func TestSalesOrderValidation_Ref3_2(t *testing.T) {
	st := MustSite(t)
	MustBasics(t, st.Sandbox)
	t.Run("parent forced to the latest line date, empty lines get the parent's", func(t *testing.T) {
		doc := soDoc(line("ITEM-A", 2, "Stores - WH", "2026-03-05"), line("ITEM-B", 1, "Stores - WH", ""), line("ITEM-A", 1, "Stores - WH", "2026-03-09"))
		doc["delivery_date"] = "2026-03-04"
		so := MustInsert(t, st.Sandbox, "Sales Order", doc)
		var dates []string
		for _, r := range so["items"].([]any) {
			dates = append(dates, r.(map[string]any)["delivery_date"].(string))
		}
		if so["delivery_date"] != "2026-03-09" {
			t.Errorf("delivery_date %v, want 2026-03-09", so["delivery_date"])
		}
		if diff := cmp.Diff([]string{"2026-03-05", "2026-03-09", "2026-03-09"}, dates); diff != "" {
			t.Errorf("line dates (-want +got):\n%s", diff)
		}
		if so["name"] != "SAL-ORD-2026-00001" {
			t.Errorf("name %v, want SAL-ORD-2026-00001", so["name"])
		}
	})
	t.Run("a line date before the order date", func(t *testing.T) {
		_, err := st.Insert("Sales Order", soDoc(line("ITEM-A", 1, "Stores - WH", "2026-03-01")))
		var e *Error
		if !asError(err, &e) || e.Status != 417 || e.Message != "Expected Delivery Date should be after Sales Order Date" {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("no date at all", func(t *testing.T) {
		_, err := st.Insert("Sales Order", soDoc(line("ITEM-A", 1, "Stores - WH", "")))
		var e *Error
		if !asError(err, &e) || e.Message != "Please enter Delivery Date" {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("stock_qty in stock UOM", func(t *testing.T) {
		so := MustInsert(t, st.Sandbox, "Sales Order", soDoc(map[string]any{"item_code": "ITEM-A", "qty": 3, "uom": "Box", "warehouse": "Stores - WH", "delivery_date": "2026-03-05"}))
		row := so["items"].([]any)[0].(map[string]any)
		want := map[string]any{"uom": "Box", "stock_uom": "Nos", "conversion_factor": 6.0, "stock_qty": 18.0}
		got := map[string]any{"uom": row["uom"], "stock_uom": row["stock_uom"], "conversion_factor": row["conversion_factor"], "stock_qty": row["stock_qty"]}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})
	t.Run("stock item needs a warehouse", func(t *testing.T) {
		_, err := st.Insert("Sales Order", soDoc(line("ITEM-A", 1, "", "2026-03-05")))
		var e *Error
		if !asError(err, &e) || e.ExcType != "WarehouseRequired" || e.Status != 417 {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("naming series of other doctypes", func(t *testing.T) {
		po := MustInsert(t, st.Sandbox, "Purchase Order", map[string]any{"supplier": "Supp One", "company": "Test Co", "transaction_date": "2026-03-02",
			"items": []any{map[string]any{"item_code": "ITEM-A", "qty": 1, "schedule_date": "2026-03-09", "warehouse": "Stores - WH"}}})
		mr := MustInsert(t, st.Sandbox, "Material Request", map[string]any{"material_request_type": "Purchase", "company": "Test Co",
			"schedule_date": "2026-03-09", "items": []any{map[string]any{"item_code": "ITEM-A", "qty": 1, "warehouse": "Stores - WH"}}})
		got := []any{po["name"], mr["name"], po["schedule_date"]}
		if diff := cmp.Diff([]any{"PUR-ORD-2026-00001", "MAT-MR-2026-00001", "2026-03-09"}, got); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})
}
