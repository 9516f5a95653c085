package quote_test

import (
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/erpnext-otp/otp/quote"
)

type procurementBody struct {
	Status       string  `json:"status"`
	SuggestionID string  `json:"suggestion_id"`
	Type         string  `json:"type"`
	ItemsCount   int     `json:"items_count"`
	ERPNextURL   string  `json:"erpnext_url"`
	Error        *string `json:"error"`
}

func TestProcurementCreatesADraftMaterialRequest(t *testing.T) {
	q := MustQuoteEnv(t)
	got := MustCall[procurementBody](t, q, http.MethodPost, "/otp/procurement-suggest", map[string]any{
		"items": []any{
			map[string]any{"item_code": "SKU-050", "qty_needed": 1, "required_by": "2026-12-04", "reason": "short on a quote"},
			map[string]any{"item_code": "SKU-036", "qty_needed": "3", "required_by": "2026-12-01", "reason": "lead time",
				"warehouse": "Stores East - WH"},
		},
		"priority": "HIGH",
	}, http.StatusOK)
	if got.Status != "success" || got.Type != "material_request" || got.ItemsCount != 2 || got.Error != nil ||
		got.ERPNextURL != q.erpAPI.URL+"/app/material-request/"+got.SuggestionID {
		t.Fatalf("response = %+v", got)
	}
	mr, err := q.sb.Get("Material Request", got.SuggestionID)
	if err != nil {
		t.Fatal(err)
	}
	type row struct{ Item, Warehouse, By string }
	var rows []row
	for _, r := range mr["items"].([]any) {
		m := r.(map[string]any)
		rows = append(rows, row{m["item_code"].(string), m["warehouse"].(string), m["schedule_date"].(string)})
	}
	wantRows := []row{{"SKU-050", "Stores - WH", "2026-12-04"}, {"SKU-036", "Stores East - WH", "2026-12-01"}}
	if diff := cmp.Diff(wantRows, rows); diff != "" {
		t.Errorf("Material Request items (-want +got):\n%s", diff)
	}
	// A draft, for today, required by the earliest date, for the demo company.
	for field, want := range map[string]any{
		"docstatus": 0.0, "material_request_type": "Purchase", "transaction_date": "2026-11-25",
		"schedule_date": "2026-12-01", "company": "OTP Demo Co",
	} {
		if mr[field] != want {
			t.Errorf("%s = %v, want %v", field, mr[field], want)
		}
	}
	// The reasons are kept on the request's timeline.
	want := []string{"Suggested by OTP:<ul><li>SKU-050: short on a quote</li><li>SKU-036: lead time</li></ul>"}
	if diff := cmp.Diff(want, comments(t, q, "Material Request", got.SuggestionID)); diff != "" {
		t.Errorf("comments (-want +got):\n%s", diff)
	}
}

// TestProcurementFromAPromise: a promise's procurement_suggestions are a
// procurement request's items as they are.
func TestProcurementFromAPromise(t *testing.T) {
	q := MustQuoteEnv(t)
	p := MustCall[promiseBody](t, q, http.MethodPost, "/otp/promise",
		quoteBody([]map[string]any{line("SKU-050", 6), line("SKU-036", 2)}, nil), http.StatusOK)
	if len(p.ProcurementSuggestions) != 2 {
		t.Fatalf("procurement_suggestions = %+v, want SKU-050's shortage and SKU-036's lead-time supply", p.ProcurementSuggestions)
	}
	got := MustCall[procurementBody](t, q, http.MethodPost, "/otp/procurement-suggest",
		map[string]any{"items": p.ProcurementSuggestions}, http.StatusOK)
	if got.Status != "success" || got.ItemsCount != 2 {
		t.Errorf("response = %+v", got)
	}
}

func TestProcurementErrors(t *testing.T) {
	q := MustQuoteEnv(t)
	item := func(code string, extra map[string]any) map[string]any {
		m := map[string]any{"item_code": code, "qty_needed": 1, "required_by": "2026-12-04", "reason": "r"}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	for _, tt := range []struct {
		name string
		item map[string]any
		want string
	}{
		{"unknown item", item("NOPE-1", nil), "Item 'NOPE-1' not found"},
		{"unknown warehouse", item("SKU-001", map[string]any{"warehouse": "Nowhere - WH"}), "Warehouse 'Nowhere - WH' not found"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := MustCall[struct{ Detail string }](t, q, http.MethodPost, "/otp/procurement-suggest",
				map[string]any{"items": []any{item("SKU-001", nil), tt.item}}, http.StatusNotFound)
			if got.Detail != tt.want {
				t.Errorf("detail = %q, want %q", got.Detail, tt.want)
			}
		})
	}

	t.Run("not implemented types", func(t *testing.T) {
		got := MustCall[procurementBody](t, q, http.MethodPost, "/otp/procurement-suggest",
			map[string]any{"items": []any{item("SKU-001", nil)}, "suggestion_type": "draft_po"}, http.StatusOK)
		if got.Status != "error" || got.Error == nil || *got.Error != "Suggestion type 'draft_po' not implemented yet" {
			t.Errorf("response = %+v", got)
		}
	})

	t.Run("validation", func(t *testing.T) {
		got := MustCall[validationBody](t, q, http.MethodPost, "/otp/procurement-suggest",
			`{"items":[{"item_code":"SKU-001","qty_needed":0,"reason":"r"}],"suggestion_type":"fax"}`, http.StatusUnprocessableEntity)
		want := []quote.FieldError{
			{Type: "greater_than", Loc: []any{"body", "items", 0.0, "qty_needed"}, Msg: "Input should be greater than 0"},
			{Type: "missing", Loc: []any{"body", "items", 0.0, "required_by"}, Msg: "Field required"},
			{Type: "enum", Loc: []any{"body", "suggestion_type"}, Msg: "Input should be 'material_request', 'draft_po' or 'task'"},
		}
		if diff := cmp.Diff(want, got.Detail, cmpopts.IgnoreFields(quote.FieldError{}, "Input", "Ctx")); diff != "" {
			t.Errorf("detail (-want +got):\n%s", diff)
		}
	})
}
