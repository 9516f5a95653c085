package sandbox

import (
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// docs/erpnext.md#custom-fields, and Frappe v15 CustomField.on_trash: a Custom Field that
// Administrator owns can be deleted by Administrator only; the DocPerms
// (System Manager: delete, no if_owner) do not lift that. One the API user
// made is deleted by any System Manager; a Sales User may not delete at all.
func TestCustomFieldDeleteOwner_Ref4(t *testing.T) {
	st := MustUsersSite(t)
	MustInsert(t, st.Sandbox, "Custom Field", map[string]any{"dt": "Sales Order", "label": "By Admin", "fieldtype": "Data"})
	for _, label := range []string{"By API", "By API Two"} {
		if r := st.call(t, "POST", "/api/resource/Custom Field", nil, map[string]any{"dt": "Sales Order", "label": label, "fieldtype": "Data"}); r.Status != 200 {
			t.Fatalf("POST %s: %d %s", label, r.Status, r.Raw)
		}
	}
	const path = "/api/resource/Custom Field/Sales Order-custom_"
	refused := "Custom Field <strong>By Admin</strong> is created by the Administrator and can only be deleted through the Administrator account."
	tests := []struct {
		name, auth, field string
		wantStatus        int
		wantExc, wantMsg  string
	}{
		{"API user (System Manager), Administrator's field", st.AuthHeader(), "by_admin", 417, "ValidationError", refused},
		{"another System Manager, Administrator's field", TokenHeader(sysKey, sysSecret), "by_admin", 417, "ValidationError", refused},
		{"Sales User, API user's field", TokenHeader(DemoSalesKey, DemoSalesSecret), "by_api", 403, "PermissionError", ""},
		{"API user, its own field", st.AuthHeader(), "by_api", 202, "", ""},
		{"another System Manager, API user's field", TokenHeader(sysKey, sysSecret), "by_api_two", 202, "", ""},
		{"Administrator, its own field", TokenHeader(adminKey, adminSecret), "by_admin", 202, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := st.callAuth(t, tc.auth, "DELETE", path+tc.field, nil, nil)
			if r.Status != tc.wantStatus || excType(r) != tc.wantExc {
				t.Fatalf("%d %q, want %d %q: %s", r.Status, excType(r), tc.wantStatus, tc.wantExc, r.Raw)
			}
			if tc.wantMsg != "" {
				if msgs := serverMessages(t, r); len(msgs) != 1 || msgs[0]["message"] != tc.wantMsg {
					t.Errorf("messages %v, want %q", msgs, tc.wantMsg)
				}
			}
			_, err := st.Get("Custom Field", "Sales Order-custom_"+tc.field)
			if gone := err != nil; gone != (tc.wantStatus == 202) {
				t.Errorf("after the DELETE the field is gone: %v, want %v (%v)", gone, tc.wantStatus == 202, err)
			}
		})
	}
}

// docs/erpnext.md#custom-fields: Custom Field has Frappe v15's fields, Check fields always
// present in GET (docs/erpnext.md#reading-one-document): collapsible and its siblings can be set and read
// back; translatable is cleared for a type that cannot be translated; a
// break without a label or fieldname is named after its type.
func TestCustomFieldMeta_Ref4(t *testing.T) {
	st := MustSite(t)
	r := st.call(t, "POST", "/api/resource/Custom Field", nil, map[string]any{
		"dt": "Sales Order", "fieldname": "custom_promise_section", "label": "Promise", "fieldtype": "Section Break",
		"insert_after": "items", "collapsible": 1, "collapsible_depends_on": "eval:doc.docstatus==1", "depends_on": "eval:doc.customer",
		"description": "OTP's promise", "print_hide": 1, "bold": 1,
	})
	if r.Status != 200 {
		t.Fatalf("POST section: %d %s", r.Status, r.Raw)
	}
	r = st.call(t, "POST", "/api/resource/Custom Field", nil, map[string]any{
		"dt": "Sales Order", "fieldname": "custom_promise_date", "label": "Promised", "fieldtype": "Date",
		"insert_after": "custom_promise_section", "translatable": 1, "in_list_view": 1, "in_standard_filter": 1,
		"hidden": 1, "fetch_from": "customer.name", "length": 12,
	})
	if r.Status != 200 {
		t.Fatalf("POST date: %d %s", r.Status, r.Raw)
	}
	pick := func(name string, keys ...string) map[string]any {
		t.Helper()
		r := st.call(t, "GET", "/api/resource/Custom Field/"+name, nil, nil)
		if r.Status != 200 {
			t.Fatalf("GET %s: %d %s", name, r.Status, r.Raw)
		}
		out := map[string]any{}
		for _, k := range keys {
			out[k] = r.Body["data"].(map[string]any)[k]
		}
		return out
	}
	keys := []string{"collapsible", "collapsible_depends_on", "depends_on", "description", "hidden", "print_hide", "in_list_view",
		"in_standard_filter", "bold", "translatable", "length", "fetch_from", "is_system_generated"}
	got := map[string]any{
		"section": pick("Sales Order-custom_promise_section", keys...),
		"date":    pick("Sales Order-custom_promise_date", keys...),
	}
	want := map[string]any{
		"section": map[string]any{"collapsible": 1.0, "collapsible_depends_on": "eval:doc.docstatus==1", "depends_on": "eval:doc.customer",
			"description": "OTP's promise", "hidden": 0.0, "print_hide": 1.0, "in_list_view": 0.0, "in_standard_filter": 0.0, "bold": 1.0,
			"translatable": 0.0, "length": 0.0, "fetch_from": nil, "is_system_generated": 0.0},
		"date": map[string]any{"collapsible": 0.0, "collapsible_depends_on": nil, "depends_on": nil, "description": nil, "hidden": 1.0,
			"print_hide": 0.0, "in_list_view": 1.0, "in_standard_filter": 1.0, "bold": 0.0, "translatable": 0.0, "length": 12.0,
			"fetch_from": "customer.name", "is_system_generated": 0.0},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Custom Field GET (-want +got):\n%s", diff)
	}

	r = st.call(t, "POST", "/api/resource/Custom Field", nil, map[string]any{"dt": "Sales Order", "fieldtype": "Column Break", "insert_after": "custom_promise_date"})
	if r.Status != http.StatusOK {
		t.Fatalf("POST unnamed column break: %d %s", r.Status, r.Raw)
	}
	fn, _ := r.Body["data"].(map[string]any)["fieldname"].(string)
	if suffix, ok := strings.CutPrefix(fn, "custom_column_break_"); !ok || len(suffix) != 5 {
		t.Errorf("unnamed column break's fieldname %q, want custom_column_break_ and 5 characters", fn)
	}
}
