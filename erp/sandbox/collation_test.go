package sandbox

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Frappe's tables use MariaDB's case-insensitive collation utf8mb4_unicode_ci
// (the reference does not cover it): `where name = 'stores - wh'` finds
// "Stores - WH", and a primary key that differs only by case is a duplicate
// entry. The document keeps the spelling it was stored with.
func TestNamesCompareWithoutCase_MariaDBCollation(t *testing.T) {
	st := MustSite(t, WithUserRoles(DefaultAPIUser, "Stock Manager", "Sales User", "Sales Manager", "Stock User"))
	MustBasics(t, st.Sandbox)

	t.Run("GET by name in another case returns the stored spelling", func(t *testing.T) {
		r := st.call(t, "GET", "/api/resource/Warehouse/stores - wh", nil, nil)
		if r.Status != 200 {
			t.Fatalf("GET: %d %s", r.Status, r.Raw)
		}
		d := r.Body["data"].(map[string]any)
		if d["name"] != "Stores - WH" || d["company"] != "Test Co" {
			t.Errorf("name %v company %v, want the stored \"Stores - WH\" of Test Co", d["name"], d["company"])
		}
	})
	t.Run("get_value by name", func(t *testing.T) {
		r := st.call(t, "GET", "/api/method/frappe.client.get_value",
			q("doctype", "Warehouse", "fieldname", `["name","company"]`, "filters", "STORES - WH"), nil)
		if diff := cmp.Diff(map[string]any{"name": "Stores - WH", "company": "Test Co"}, r.Body["message"]); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})
	t.Run("list filters = and in on name and Link fields", func(t *testing.T) {
		r := st.call(t, "GET", "/api/resource/Warehouse", listQ(`["name"]`, `[["name","=","stores - wh"]]`), nil)
		if diff := cmp.Diff([]string{"Stores - WH"}, names(t, r, "name")); diff != "" {
			t.Errorf("name = (-want +got):\n%s", diff)
		}
		r = st.call(t, "GET", "/api/resource/Warehouse", listQ(`["name"]`, `[["name","in",["STORES - WH","stores east - wh"]]]`, "order_by", "name asc"), nil)
		if diff := cmp.Diff([]string{"Stores - WH", "Stores East - WH"}, names(t, r, "name")); diff != "" {
			t.Errorf("name in (-want +got):\n%s", diff)
		}
		r = st.call(t, "GET", "/api/resource/Warehouse", listQ(`["name"]`, `[["parent_warehouse","=","all warehouses - wh"]]`, "order_by", "name asc"), nil)
		if diff := cmp.Diff([]string{"Stores - WH", "Stores East - WH"}, names(t, r, "name")); diff != "" {
			t.Errorf("Link = (-want +got):\n%s", diff)
		}
	})
	t.Run("Link validation finds the value in another case", func(t *testing.T) {
		r := st.call(t, "POST", "/api/resource/Sales Order", nil, soDoc(line("item-a", 2, "stores - wh", "2026-03-10")))
		if r.Status != 200 {
			t.Fatalf("POST: %d %s, want 200: Links match without case", r.Status, r.Raw)
		}
	})
	t.Run("insert differing only by case is a duplicate", func(t *testing.T) {
		r := st.call(t, "POST", "/api/resource/Customer", nil, map[string]any{"customer_name": "CUST ONE"})
		if r.Status != 409 || excType(r) != "DuplicateEntryError" {
			t.Fatalf("POST: %d %s, want 409 DuplicateEntryError", r.Status, r.Raw)
		}
		rows, err := st.List("Customer", []string{"name"}, nil, "", 0)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]map[string]any{{"name": "Cust One"}}, rows); diff != "" {
			t.Errorf("customers after the duplicate (-want +got):\n%s", diff)
		}
	})
	t.Run("PUT and DELETE by name in another case", func(t *testing.T) {
		MustInsert(t, st.Sandbox, "Warehouse", map[string]any{"warehouse_name": "Returns", "company": "Test Co"})
		r := st.call(t, "PUT", "/api/resource/Warehouse/RETURNS - wh", nil, map[string]any{"disabled": 1})
		if r.Status != 200 {
			t.Fatalf("PUT: %d %s", r.Status, r.Raw)
		}
		if d := r.Body["data"].(map[string]any); d["name"] != "Returns - WH" || num(d["disabled"]) != 1 {
			t.Errorf("PUT: name %v disabled %v, want the stored \"Returns - WH\" disabled", d["name"], d["disabled"])
		}
		r = st.call(t, "DELETE", "/api/resource/Warehouse/returns - WH", nil, nil)
		if r.Status != 202 {
			t.Fatalf("DELETE: %d %s", r.Status, r.Raw)
		}
		r = st.call(t, "GET", "/api/resource/Warehouse/Returns - WH", nil, nil)
		if r.Status != 404 || excType(r) != "DoesNotExistError" {
			t.Errorf("GET after delete: %d %s, want 404", r.Status, r.Raw)
		}
	})
}
