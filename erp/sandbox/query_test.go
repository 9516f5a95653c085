package sandbox

import (
	"fmt"
	"net/url"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// names extracts a column from list rows.
func names(tb testing.TB, r resp, col string) []string {
	tb.Helper()
	if r.Status != 200 {
		tb.Fatalf("status %d: %s", r.Status, r.Raw)
	}
	rows, _ := r.Body["data"].([]any)
	if rows == nil {
		rows, _ = r.Body["message"].([]any)
	}
	out := []string{}
	for _, row := range rows {
		out = append(out, fmt.Sprint(row.(map[string]any)[col]))
	}
	return out
}

func listQ(fields, filters string, extra ...string) url.Values {
	v := q(extra...)
	if fields != "" {
		v.Set("fields", fields)
	}
	if filters != "" {
		v.Set("filters", filters)
	}
	return v
}

// docs/erpnext.md#lists-and-filters: fields default ["name"], "*", child columns with one row
// per child row, " as alias", unknown fields dropped silently.
func TestListFields_Ref2_3(t *testing.T) {
	st := MustSite(t, WithDemoData())
	demo := st.Demo()
	t.Run("default is name only", func(t *testing.T) {
		r := st.call(t, "GET", "/api/resource/Company", nil, nil)
		if diff := cmp.Diff([]any{map[string]any{"name": DemoCompany}}, r.Body["data"]); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})
	t.Run("star gives every column", func(t *testing.T) {
		r := st.call(t, "GET", "/api/resource/Company", q("fields", `["*"]`), nil)
		row := r.Body["data"].([]any)[0].(map[string]any)
		for _, k := range []string{"name", "owner", "modified", "docstatus", "abbr", "default_holiday_list"} {
			if _, ok := row[k]; !ok {
				t.Errorf("column %q missing from *: %v", k, row)
			}
		}
		if v, ok := row["parent_company"]; !ok || v != nil {
			t.Errorf("null columns are null in lists: parent_company = %v (present %v)", v, ok)
		}
	})
	t.Run("child columns: one row per child row, alias, unknown dropped", func(t *testing.T) {
		r := st.call(t, "GET", "/api/resource/Sales Order", listQ(
			`["name","items.item_code","items.qty as line_qty","no_such_field","items.uom"]`,
			`[["name","=","`+demo.MultiLineSO+`"]]`, "order_by", "items.idx asc"), nil)
		want := []any{
			map[string]any{"name": demo.MultiLineSO, "item_code": DemoItemPartlyIn, "line_qty": 10.0, "uom": "Nos"},
			map[string]any{"name": demo.MultiLineSO, "item_code": DemoItemBox, "line_qty": 2.0, "uom": "Box"},
			map[string]any{"name": demo.MultiLineSO, "item_code": DemoItemService, "line_qty": 1.0, "uom": "Nos"},
		}
		if diff := cmp.Diff(want, r.Body["data"]); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})
	t.Run("backquoted table columns", func(t *testing.T) {
		r := st.call(t, "GET", "/api/resource/Sales Order", listQ("[\"`tabSales Order Item`.`stock_qty`\"]",
			`[["name","=","`+demo.MultiLineSO+`"],["Sales Order Item","item_code","=","`+DemoItemBox+`"]]`), nil)
		if diff := cmp.Diff([]any{map[string]any{"stock_qty": 24.0}}, r.Body["data"]); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})
	t.Run("numbers are JSON numbers, dates YYYY-MM-DD", func(t *testing.T) {
		r := st.call(t, "GET", "/api/resource/Purchase Order Item", listQ(`["qty","schedule_date","expected_delivery_date"]`,
			`[["parent","=","`+demo.ScheduleOnlyPO+`"]]`, "parent", "Purchase Order"), nil)
		want := []any{map[string]any{"qty": 100.0, "schedule_date": "2026-03-16", "expected_delivery_date": nil}}
		if diff := cmp.Diff(want, r.Body["data"]); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})
}

// docs/erpnext.md#lists-and-filters: every filter form and operator.
func TestListFilters_Ref2_3(t *testing.T) {
	st := MustSite(t, WithDemoData())
	demo := st.Demo()
	tests := []struct {
		name, doctype, filters, orFilters, parent string
		want                                      []string
	}{
		{"dict equality", "Item", `{"item_code":"SKU-007"}`, "", "", []string{"SKU-007"}},
		{"dict with operator", "Item", `{"item_code":["in",["SKU-001","SKU-002"]]}`, "", "", []string{"SKU-001", "SKU-002"}},
		{"list of 3", "Item", `[["item_code","=","SKU-003"]]`, "", "", []string{"SKU-003"}},
		{"equality is case-insensitive", "Item", `[["item_code","=","sku-003"]]`, "", "", []string{"SKU-003"}},
		{"!=", "Item", `[["item_code","!=","SKU-001"],["item_code","<","SKU-004"]]`, "", "", []string{"SKU-002", "SKU-003"}},
		{"< and >", "Item", `[["item_code",">","SKU-047"]]`, "", "", []string{"SKU-048", "SKU-049", "SKU-050"}},
		{"<= and >=", "Item", `[["item_code",">=","SKU-010"],["item_code","<=","SKU-011"]]`, "", "", []string{"SKU-010", "SKU-011"}},
		{"numeric compare", "Item", `[["lead_time_days",">=",21]]`, "", "", []string{"SKU-032", "SKU-037"}},
		{"like", "Item", `[["item_name","like","%fastener%"]]`, "", "", []string{"SKU-049"}},
		{"not like", "Item", `[["item_code","not like","SKU-0%"]]`, "", "", []string{}},
		{"in as comma string", "Item", `[["item_code","in","SKU-005, SKU-006"]]`, "", "", []string{"SKU-005", "SKU-006"}},
		{"not in", "Item", `[["item_code","not in",["SKU-001"]],["item_code","<","SKU-003"]]`, "", "", []string{"SKU-002"}},
		{"is set", "Purchase Order Item", `[["expected_delivery_date","is","set"],["item_code","=","SKU-050"]]`, "", "Purchase Order", []string{"SKU-050"}},
		{"is not set", "Purchase Order Item", `[["expected_delivery_date","is","not set"],["docstatus","=",1]]`, "", "Purchase Order", []string{"SKU-031", "SKU-033"}},
		{"between dates", "Sales Order", `[["delivery_date","between",["2026-03-04","2026-03-06"]]]`, "", "", []string{demo.ContendedSO1, demo.ClosedSO}},
		{"4-element child filter", "Sales Order", `[["Sales Order Item","item_code","=","SKU-050"],["docstatus","=",1]]`, "", "", []string{demo.ContendedSO1, demo.ContendedSO2}},
		{"3-element child-only field auto-maps", "Sales Order", `[["item_code","=","SKU-050"],["docstatus","=",0]]`, "", "", []string{demo.DraftSO}},
		{"or_filters", "Item", `[["item_code","<","SKU-010"]]`, `[["item_code","=","SKU-001"],["item_code","=","SKU-009"]]`, "", []string{"SKU-001", "SKU-009"}},
		{"descendants of (inclusive)", "Warehouse", `[["name","descendants of (inclusive)","All Warehouses - WH"],["name","like","Stores%"]]`, "", "", []string{DemoStores, DemoStoresEast}},
		{"child doctype with parent filter", "Sales Order Item", `[["parent","=","` + demo.ContendedSO1 + `"]]`, "", "Sales Order", []string{"SKU-050"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			col := "name"
			if tc.doctype == "Purchase Order Item" || tc.doctype == "Sales Order Item" {
				col = "item_code"
			}
			v := listQ(`["`+col+`"]`, tc.filters, "limit_page_length", "0", "order_by", col+" asc")
			if tc.orFilters != "" {
				v.Set("or_filters", tc.orFilters)
			}
			if tc.parent != "" {
				v.Set("parent", tc.parent)
			}
			got := names(t, st.call(t, "GET", "/api/resource/"+tc.doctype, v, nil), col)
			want := append([]string{}, tc.want...)
			sort.Strings(want)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// docs/erpnext.md#lists-and-filters: limit_page_length default 20 (alias limit), 0 = all,
// limit_start offsets.
func TestListPaging_Ref2_3(t *testing.T) {
	st := MustSite(t, WithDemoData())
	tests := []struct {
		name      string
		v         url.Values
		wantLen   int
		wantFirst string
	}{
		{"default 20", q("order_by", "name asc"), 20, "SKU-001"},
		{"0 is all", q("order_by", "name asc", "limit_page_length", "0"), DemoItemCount, "SKU-001"},
		{"limit alias", q("order_by", "name asc", "limit", "5"), 5, "SKU-001"},
		{"limit_start", q("order_by", "name asc", "limit_start", "45", "limit_page_length", "10"), 5, "SKU-046"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := names(t, st.call(t, "GET", "/api/resource/Item", tc.v, nil), "name")
			if len(got) != tc.wantLen || got[0] != tc.wantFirst {
				t.Errorf("got %d rows starting %q, want %d starting %q", len(got), got[0], tc.wantLen, tc.wantFirst)
			}
		})
	}
	r := st.call(t, "POST", "/api/method/frappe.client.get_list", nil, map[string]any{"doctype": "Item", "limit_page_length": 0})
	if n := len(r.Body["message"].([]any)); n != DemoItemCount {
		t.Errorf("POST get_list limit 0: %d rows, want %d", n, DemoItemCount)
	}
}

// docs/erpnext.md#lists-and-filters: order_by forms; default modified desc, submittable
// doctypes docstatus asc first.
func TestListOrderBy_Ref2_3(t *testing.T) {
	st := MustSite(t, WithDemoData())
	demo := st.Demo()
	t.Run("field desc", func(t *testing.T) {
		got := names(t, st.call(t, "GET", "/api/resource/Item", q("order_by", "name desc", "limit", "2"), nil), "name")
		if diff := cmp.Diff([]string{"SKU-050", "SKU-049"}, got); diff != "" {
			t.Error(diff)
		}
	})
	t.Run("backquoted and several terms", func(t *testing.T) {
		got := names(t, st.call(t, "GET", "/api/resource/Item",
			q("order_by", "`tabItem`.`lead_time_days` desc, `tabItem`.`name` asc", "limit", "3"), nil), "name")
		if diff := cmp.Diff([]string{"SKU-032", "SKU-037", "SKU-003"}, got); diff != "" {
			t.Error(diff)
		}
	})
	t.Run("default: drafts first, then newest modified", func(t *testing.T) {
		got := names(t, st.call(t, "GET", "/api/resource/Sales Order", q("limit", "3"), nil), "name")
		want := []string{demo.DraftSO2, demo.DraftSO, demo.DeliveredSO}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})
}

// docs/erpnext.md#child-tables: a child doctype without parent → 403 even for
// Administrator; the parent must contain the child.
func TestChildTableNeedsParent_Ref2_8(t *testing.T) {
	st := MustSite(t, WithDemoData())
	tests := []struct {
		name   string
		v      url.Values
		status int
	}{
		{"no parent", q(), 403},
		{"wrong parent", q("parent", "Purchase Order"), 403},
		{"right parent", q("parent", "Sales Order"), 200},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := st.call(t, "GET", "/api/resource/Sales Order Item", tc.v, nil)
			if r.Status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.Status, tc.status, r.Raw)
			}
			if tc.status == 403 && excType(r) != "PermissionError" {
				t.Errorf("exc_type %q", excType(r))
			}
		})
	}
	if _, err := st.List("Sales Order Item", nil, nil, "", 0); err != nil {
		t.Errorf("in-process List supplies the parent: %v", err)
	}
	var se *Error
	err := st.run(Administrator, func(tx *tx) error {
		_, err := tx.getList(listArgs{Doctype: "Holiday", PageLen: 20})
		return err
	})
	if !asError(err, &se) || se.Status != 403 {
		t.Errorf("Administrator without parent: %v, want 403", err)
	}
}

// compareLower orders as strings.Compare(strings.ToLower(a), b) does.
func TestCompareLower(t *testing.T) {
	words := []string{"", "a", "A", "ab", "aB", "Ab", "abc", "b", "Z", "z", "SAL-ORD-2026-00001", "sal-ord-2026-00001",
		"sal-ord-2026-00002", "Café", "cafe", "CAFÉ", "café", "İstanbul", "istanbul", "Straße", "STRASSE", "a\xffb", "[", "_", "@"}
	for _, a := range words {
		for _, w := range words {
			b := strings.ToLower(w)
			if got, want := compareLower(a, b), strings.Compare(strings.ToLower(a), b); got != want {
				t.Errorf("compareLower(%q, %q) = %d, want %d", a, b, got, want)
			}
		}
	}
}
