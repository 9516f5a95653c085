package sandbox

import (
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/erpnext-otp/otp/erp/sandbox/internal/pyjson"
	"github.com/google/go-cmp/cmp"
)

// pageThrough reads a list in pages of size until a short page.
func pageThrough(t *testing.T, st *site, path string, size int, extra ...string) []string {
	t.Helper()
	var out []string
	for start := 0; ; start += size {
		page := names(t, st.call(t, "GET", path, q(append(extra, "limit_start", strconv.Itoa(start),
			"limit_page_length", strconv.Itoa(size))...), nil), "name")
		out = append(out, page...)
		if len(page) < size {
			return out
		}
	}
}

// Pages of a list, read one request each, are the slices of the whole
// list: same rows, same order, for parent and child-table queries.
func TestListPagesAreSlicesOfTheWholeList(t *testing.T) {
	st := MustSite(t, WithDemoData())
	for _, tc := range []struct {
		name  string
		path  string
		extra []string
	}{
		{"items by lead time then name", "/api/resource/Item", []string{"order_by", "lead_time_days desc, name asc"}},
		{"items filtered", "/api/resource/Item", []string{"filters", `[["lead_time_days",">",3]]`, "order_by", "name desc"}},
		{"default order", "/api/resource/Item", nil},
		{"order lines joined", "/api/resource/Sales Order", []string{"fields", `["name","items.item_code as item_code"]`,
			"order_by", "name asc, items.idx asc"}},
		{"child rows with parent", "/api/resource/Sales Order Item", []string{"parent", "Sales Order", "fields", `["name","item_code"]`,
			"order_by", "item_code asc"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			whole := names(t, st.call(t, "GET", tc.path, q(append(tc.extra, "limit_page_length", "0")...), nil), "name")
			if len(whole) < 8 {
				t.Fatalf("only %d rows: the test needs several pages", len(whole))
			}
			if diff := cmp.Diff(whole, pageThrough(t, st, tc.path, 3, tc.extra...)); diff != "" {
				t.Errorf("pages joined (-whole +pages):\n%s", diff)
			}
		})
	}
}

// A write between two pages is seen by the next page, as SQL's LIMIT and
// OFFSET would see it: an inserted row that sorts first shifts the rest by
// one, an updated row leaves a filter at once, a deleted one is gone.
func TestListPageAfterAWrite(t *testing.T) {
	st := MustSite(t, WithDemoData())
	page := func(start int, extra ...string) []string {
		return names(t, st.call(t, "GET", "/api/resource/Item", q(append(extra, "order_by", "name asc",
			"limit_start", strconv.Itoa(start), "limit_page_length", "5")...), nil), "name")
	}
	if diff := cmp.Diff([]string{"SKU-001", "SKU-002", "SKU-003", "SKU-004", "SKU-005"}, page(0)); diff != "" {
		t.Fatalf("first page:\n%s", diff)
	}
	if _, err := st.Insert("Item", map[string]any{"item_code": "SKU-000", "item_group": "Products", "stock_uom": DemoUOM}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"SKU-005", "SKU-006", "SKU-007", "SKU-008", "SKU-009"}, page(5)); diff != "" {
		t.Errorf("after an insert that sorts first (-want +got):\n%s", diff)
	}

	enabled := []string{"filters", `[["disabled","=",0]]`}
	if got := page(0, enabled...); got[2] != "SKU-002" {
		t.Fatalf("enabled items: %v", got)
	}
	if _, err := st.Update("Item", "SKU-002", map[string]any{"disabled": 1}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"SKU-006", "SKU-007", "SKU-008", "SKU-009", "SKU-010"}, page(5, enabled...)); diff != "" {
		t.Errorf("after disabling SKU-002 (-want +got):\n%s", diff)
	}

	if err := st.Delete("Item", "SKU-000"); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"SKU-001", "SKU-002", "SKU-003", "SKU-004", "SKU-005"}, page(0)); diff != "" {
		t.Errorf("after deleting SKU-000 (-want +got):\n%s", diff)
	}
}

// A transaction that lists what it wrote and then fails leaves no trace in
// later lists: the rollback is a change too.
func TestListAfterRollback(t *testing.T) {
	st := MustSite(t, WithDemoData())
	list := func(tx *tx) []string {
		rows, err := tx.getList(listArgs{Doctype: "Item", Filters: `[["item_code","like","SKU-9%"]]`})
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, r := range rows {
			v, _ := r.(*pyjson.Dict).Get("name")
			out = append(out, str(v))
		}
		return out
	}
	failed := errors.New("fails after the insert")
	err := st.run(Administrator, func(tx *tx) error {
		if _, err := tx.insert("Item", map[string]any{"item_code": "SKU-900", "item_group": "Products", "stock_uom": DemoUOM}); err != nil {
			return err
		}
		if diff := cmp.Diff([]string{"SKU-900"}, list(tx)); diff != "" {
			t.Errorf("inside the transaction (-want +got):\n%s", diff)
		}
		return failed
	})
	if !errors.Is(err, failed) {
		t.Fatalf("run: %v", err)
	}
	if err := st.run(Administrator, func(tx *tx) error {
		if got := list(tx); len(got) != 0 {
			t.Errorf("after the rollback: %v, want none", got)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// Filter values that compare differently get different cache keys: "1" and
// 1.0 against a text column, a list and its text, nested lists.
func TestListCacheKeyValues(t *testing.T) {
	values := []any{"1", 1, 1.0, json.Number("1"), nil, "", []any{"a", "b"}, []any{"a,b"}, "a,b", []string{"a", "b"},
		[]string{"a b"}, []any{[]any{"a"}, "b"}, []any{"a", []any{"b"}}, map[string]any{"a": "b"}, map[string]any{"a": []any{"b"}}}
	seen := map[string]any{}
	for _, v := range values {
		var b strings.Builder
		writeKeyValue(&b, v)
		if prev, dup := seen[b.String()]; dup {
			t.Errorf("%#v and %#v share the key %s", prev, v, b.String())
		}
		seen[b.String()] = v
	}
}

// A list filtered by a text field equal to a value (a timeline's comments)
// reads an index of that field: it follows inserts, saves that change the
// field, deletes and rollbacks, compares case-insensitively as the list
// does, and finds what a scan finds.
func TestListByEqualFieldFollowsWrites(t *testing.T) {
	st := MustSite(t, WithDemoData())
	byRef := func(ref string) []string {
		t.Helper()
		var out []string
		err := st.read(Administrator, func(tx *tx) error {
			rows, err := tx.getList(listArgs{Doctype: "Comment", Fields: `["name"]`, OrderBy: "creation asc",
				Filters: `[["reference_doctype","=","Item"],["reference_name","=","` + ref + `"]]`})
			for _, r := range rows {
				v, _ := r.(*pyjson.Dict).Get("name")
				out = append(out, str(v))
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	comment := func(ref, text string) string {
		t.Helper()
		d, err := st.Insert("Comment", map[string]any{"comment_type": "Comment", "reference_doctype": "Item",
			"reference_name": ref, "content": text})
		if err != nil {
			t.Fatal(err)
		}
		return d["name"].(string)
	}
	if got := byRef("SKU-001"); len(got) != 0 {
		t.Fatalf("comments before any: %v", got)
	}
	a := comment("SKU-001", "a")
	b := comment("SKU-002", "b")
	if diff := cmp.Diff([]string{a}, byRef("sku-001")); diff != "" {
		t.Errorf("after the first insert, asked in lower case (-want +got):\n%s", diff)
	}
	c := comment("SKU-001", "c")
	if diff := cmp.Diff([]string{a, c}, byRef("SKU-001")); diff != "" {
		t.Errorf("after an insert into the index (-want +got):\n%s", diff)
	}
	if _, err := st.Update("Comment", b, map[string]any{"reference_name": "SKU-001"}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{a, b, c}, byRef("SKU-001")); diff != "" {
		t.Errorf("after a save moved a comment to it (-want +got):\n%s", diff)
	}
	if err := st.Delete("Comment", a); err != nil {
		t.Fatal(err)
	}
	failed := errors.New("fails after the insert")
	if err := st.run(Administrator, func(tx *tx) error {
		if _, err := tx.insert("Comment", map[string]any{"comment_type": "Comment", "reference_doctype": "Item",
			"reference_name": "SKU-001", "content": "rolled back"}); err != nil {
			return err
		}
		return failed
	}); !errors.Is(err, failed) {
		t.Fatalf("run: %v", err)
	}
	if diff := cmp.Diff([]string{b, c}, byRef("SKU-001")); diff != "" {
		t.Errorf("after a delete and a rollback (-want +got):\n%s", diff)
	}
	if got := byRef("SKU-002"); len(got) != 0 {
		t.Errorf("SKU-002's comments: %v, want none: its one moved", got)
	}
}
