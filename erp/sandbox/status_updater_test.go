package sandbox

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// labels returns the contents of a document's "Label" timeline comments, in
// order.
func labels(tb testing.TB, s *Sandbox, doctype, name string) []string {
	tb.Helper()
	rows, err := s.List("Comment", []string{"content"}, []any{
		[]any{"comment_type", "=", "Label"}, []any{"reference_doctype", "=", doctype}, []any{"reference_name", "=", name},
	}, "creation asc", 0)
	if err != nil {
		tb.Fatal(err)
	}
	out := []string{}
	for _, r := range rows {
		out = append(out, r["content"].(string))
	}
	return out
}

// ERPNext's StatusUpdater treats every target alike (the reference covers
// only the Sales Order, docs/erpnext.md#which-save-fires-which-event; this follows erpnext/controllers/
// status_updater.py): set_status(update=True) adds a "Label" comment when
// the target's status changes, except to Cancelled, Partially Ordered,
// Ordered, Issued or Transferred; _update_percent_field sets the percent to
// ifnull(... having sum(target_ref_field) > 0, 0), so 0 % when the target's
// rows total 0.
func TestStatusUpdaterEveryTarget_StatusUpdaterPy(t *testing.T) {
	st := MustSite(t)
	s := st.Sandbox
	MustBasics(t, s)

	t.Run("PR → PO: status change adds the Label comment", func(t *testing.T) {
		po := MustInsert(t, s, "Purchase Order", map[string]any{"supplier": "Supp One", "company": "Test Co", "transaction_date": "2026-03-02", "docstatus": 1,
			"items": []any{map[string]any{"item_code": "ITEM-A", "qty": 2, "schedule_date": "2026-03-09", "warehouse": "Stores - WH"}}})
		name := po["name"].(string)
		before := labels(t, s, "Purchase Order", name)
		MustInsert(t, s, "Purchase Receipt", map[string]any{"supplier": "Supp One", "company": "Test Co", "docstatus": 1,
			"items": []any{map[string]any{"item_code": "ITEM-A", "qty": 2, "warehouse": "Stores - WH", "purchase_order": name,
				"purchase_order_item": po["items"].([]any)[0].(map[string]any)["name"]}}})
		got, _ := s.Get("Purchase Order", name)
		if got["status"] != "To Bill" {
			t.Fatalf("PO status %v, want To Bill", got["status"])
		}
		if diff := cmp.Diff(append(before, "To Bill"), labels(t, s, "Purchase Order", name)); diff != "" {
			t.Errorf("PO Label comments (-want +got):\n%s", diff)
		}
	})

	t.Run("PO → MR: Ordered adds none, back to Pending adds one", func(t *testing.T) {
		mr := MustInsert(t, s, "Material Request", map[string]any{"material_request_type": "Purchase", "company": "Test Co", "schedule_date": "2026-03-20", "docstatus": 1,
			"items": []any{map[string]any{"item_code": "ITEM-B", "qty": 4, "warehouse": "Stores - WH"}}})
		name := mr["name"].(string)
		before := labels(t, s, "Material Request", name)
		po := MustInsert(t, s, "Purchase Order", map[string]any{"supplier": "Supp One", "company": "Test Co", "transaction_date": "2026-03-02", "docstatus": 1,
			"items": []any{map[string]any{"item_code": "ITEM-B", "qty": 4, "schedule_date": "2026-03-09", "warehouse": "Stores - WH",
				"material_request": name, "material_request_item": mr["items"].([]any)[0].(map[string]any)["name"]}}})
		got, _ := s.Get("Material Request", name)
		if got["status"] != "Ordered" {
			t.Fatalf("MR status %v, want Ordered", got["status"])
		}
		if diff := cmp.Diff(before, labels(t, s, "Material Request", name)); diff != "" {
			t.Errorf("Ordered is one of the statuses ERPNext adds no comment for (-want +got):\n%s", diff)
		}
		if _, err := s.Cancel("Purchase Order", po["name"].(string)); err != nil {
			t.Fatal(err)
		}
		got, _ = s.Get("Material Request", name)
		if got["status"] != "Pending" || num(got["per_ordered"]) != 0 {
			t.Fatalf("MR status %v per_ordered %v, want Pending 0", got["status"], got["per_ordered"])
		}
		if diff := cmp.Diff(append(before, "Pending"), labels(t, s, "Material Request", name)); diff != "" {
			t.Errorf("MR Label comments (-want +got):\n%s", diff)
		}
	})

	t.Run("PR → PO: rows totalling 0 give 0 %", func(t *testing.T) {
		po := MustInsert(t, s, "Purchase Order", map[string]any{"supplier": "Supp One", "company": "Test Co", "transaction_date": "2026-03-02", "docstatus": 1,
			"items": []any{map[string]any{"item_code": "ITEM-A", "qty": 0, "schedule_date": "2026-03-09", "warehouse": "Stores - WH"}}})
		name := po["name"].(string)
		// A percent left from before (as if its rows had once had a quantity).
		if err := s.run(Administrator, func(t *tx) error {
			return t.dbSet("Purchase Order", name, func(d *document) { d.V["per_received"] = 50.0 })
		}); err != nil {
			t.Fatal(err)
		}
		MustInsert(t, s, "Purchase Receipt", map[string]any{"supplier": "Supp One", "company": "Test Co", "docstatus": 1,
			"items": []any{map[string]any{"item_code": "ITEM-A", "qty": 1, "warehouse": "Stores - WH", "purchase_order": name,
				"purchase_order_item": po["items"].([]any)[0].(map[string]any)["name"]}}})
		got, _ := s.Get("Purchase Order", name)
		if num(got["per_received"]) != 0 {
			t.Errorf("PO per_received %v, want 0 (rows total 0)", got["per_received"])
		}
	})
}
