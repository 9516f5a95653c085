package quote_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/erpnext-otp/otp/erp"
	"github.com/erpnext-otp/otp/quote"
)

type applyBody struct {
	Status          string         `json:"status"`
	SalesOrderID    string         `json:"sales_order_id"`
	ActionsTaken    []string       `json:"actions_taken"`
	ERPNextResponse map[string]any `json:"erpnext_response"`
	Error           *string        `json:"error"`
}

// comments returns the contents of the Comments on a document's timeline.
func comments(tb testing.TB, q *quoteEnv, doctype, name string) []string {
	tb.Helper()
	rows, err := q.sb.List("Comment", []string{"content"},
		[]any{[]any{"reference_doctype", "=", doctype}, []any{"reference_name", "=", name}}, "creation asc", 0)
	if err != nil {
		tb.Fatal(err)
	}
	var out []string
	for _, r := range rows {
		s, _ := r["content"].(string)
		out = append(out, s)
	}
	return out
}

func TestApplyWritesOnePutAndAComment(t *testing.T) {
	q := MustQuoteEnv(t)
	so := q.sb.Demo().ContendedSO1 // submitted
	q.sb.ResetCounters()
	got := MustCall[applyBody](t, q, http.MethodPost, "/otp/apply",
		map[string]any{"sales_order_id": so, "promise_date": "2026-12-04", "confidence": "MEDIUM"}, http.StatusOK)
	want := applyBody{
		Status:       "success",
		SalesOrderID: so,
		ActionsTaken: []string{
			"Set custom field 'custom_otp_promise_date' to 2026-12-04",
			"Set custom field 'custom_otp_confidence' to MEDIUM",
			"Added comment to " + so,
		},
	}
	if diff := cmp.Diff(want, got, cmpopts.IgnoreFields(applyBody{}, "ERPNextResponse")); diff != "" {
		t.Errorf("response (-want +got):\n%s", diff)
	}
	if n := q.sb.Requests("PUT /api/resource/Sales Order"); n != 1 {
		t.Errorf("PUTs = %d, want 1 (date and confidence in one save)", n)
	}
	doc, err := q.sb.Get("Sales Order", so)
	if err != nil {
		t.Fatal(err)
	}
	for field, want := range map[string]string{
		erp.FieldPromiseDate: "2026-12-04", erp.FieldConfidence: "MEDIUM", erp.FieldFirstPromiseDate: "2026-12-04",
	} {
		if doc[field] != want {
			t.Errorf("%s = %v, want %s", field, doc[field], want)
		}
	}
	if diff := cmp.Diff([]string{"Order Promise Date: 2026-12-04 (Confidence: MEDIUM)<br>Calculated by OTP Engine."},
		comments(t, q, "Sales Order", so)); diff != "" {
		t.Errorf("comments (-want +got):\n%s", diff)
	}

	// A second apply moves the promise but never the first promised date.
	MustCall[applyBody](t, q, http.MethodPost, "/otp/apply",
		map[string]any{"sales_order_id": so, "promise_date": "2026-12-08", "confidence": "LOW", "action": "set_custom_field"}, http.StatusOK)
	doc, _ = q.sb.Get("Sales Order", so)
	if doc[erp.FieldPromiseDate] != "2026-12-08" || doc[erp.FieldFirstPromiseDate] != "2026-12-04" {
		t.Errorf("after a second apply: promise %v, first %v; want 2026-12-08 and 2026-12-04",
			doc[erp.FieldPromiseDate], doc[erp.FieldFirstPromiseDate])
	}
	if n := len(comments(t, q, "Sales Order", so)); n != 1 {
		t.Errorf("comments = %d, want still 1 (set_custom_field only)", n)
	}
}

func TestApplyCommentOnly(t *testing.T) {
	q := MustQuoteEnv(t)
	so := q.sb.Demo().DraftSO
	q.sb.ResetCounters()
	got := MustCall[applyBody](t, q, http.MethodPost, "/otp/apply", map[string]any{
		"sales_order_id": so, "promise_date": "2026-12-04", "confidence": "HIGH", "action": "add_comment",
		"comment_text": "Ships <b>Friday</b>\nCall first",
	}, http.StatusOK)
	if got.Status != "success" || len(got.ActionsTaken) != 1 {
		t.Errorf("response = %+v, want success with one action", got)
	}
	if n := q.sb.Requests("PUT /api/resource/Sales Order"); n != 0 {
		t.Errorf("PUTs = %d, want 0", n)
	}
	// The text is text: its markup is escaped, its line breaks kept.
	if diff := cmp.Diff([]string{"Ships &lt;b&gt;Friday&lt;/b&gt;<br>Call first"}, comments(t, q, "Sales Order", so)); diff != "" {
		t.Errorf("comments (-want +got):\n%s", diff)
	}
}

func TestApplyErrors(t *testing.T) {
	q := MustQuoteEnv(t)

	t.Run("unknown order is a 404", func(t *testing.T) {
		got := MustCall[struct{ Detail string }](t, q, http.MethodPost, "/otp/apply",
			map[string]any{"sales_order_id": "SAL-ORD-2026-99999", "promise_date": "2026-12-04", "confidence": "HIGH"}, http.StatusNotFound)
		if got.Detail != "Sales Order SAL-ORD-2026-99999 not found" {
			t.Errorf("detail = %q", got.Detail)
		}
	})

	t.Run("action and confidence are checked", func(t *testing.T) {
		got := MustCall[validationBody](t, q, http.MethodPost, "/otp/apply",
			`{"sales_order_id":"X","promise_date":"2026-12-04","confidence":"SURE","action":"delete"}`, http.StatusUnprocessableEntity)
		want := []quote.FieldError{
			{Type: "enum", Loc: []any{"body", "confidence"}, Msg: "Input should be 'HIGH', 'MEDIUM' or 'LOW'"},
			{Type: "enum", Loc: []any{"body", "action"}, Msg: "Input should be 'add_comment', 'set_custom_field' or 'both'"},
		}
		if diff := cmp.Diff(want, got.Detail, cmpopts.IgnoreFields(quote.FieldError{}, "Input", "Ctx")); diff != "" {
			t.Errorf("detail (-want +got):\n%s", diff)
		}
	})

	t.Run("required fields", func(t *testing.T) {
		got := MustCall[validationBody](t, q, http.MethodPost, "/otp/apply", `{"sales_order_id":"X"}`, http.StatusUnprocessableEntity)
		want := []quote.FieldError{
			{Type: "missing", Loc: []any{"body", "promise_date"}, Msg: "Field required"},
			{Type: "missing", Loc: []any{"body", "confidence"}, Msg: "Field required"},
		}
		if diff := cmp.Diff(want, got.Detail, cmpopts.IgnoreFields(quote.FieldError{}, "Input", "Ctx")); diff != "" {
			t.Errorf("detail (-want +got):\n%s", diff)
		}
	})

	t.Run("a refused write is an error, not a success", func(t *testing.T) {
		so := q.sb.Demo().ContendedSO2
		if _, err := q.sb.Cancel("Sales Order", so); err != nil {
			t.Fatal(err)
		}
		got := MustCall[applyBody](t, q, http.MethodPost, "/otp/apply",
			map[string]any{"sales_order_id": so, "promise_date": "2026-12-04", "confidence": "HIGH"}, http.StatusOK)
		if got.Status != "error" || got.Error == nil || !strings.HasPrefix(*got.Error, "Failed to set custom fields: ERPNext 417: ") {
			t.Errorf("response = %+v, want status error with ERPNext's 417 message", got)
		}
		t.Logf("error: %s", *got.Error)
		if len(got.ActionsTaken) != 0 || len(comments(t, q, "Sales Order", so)) != 0 {
			t.Errorf("actions %q, comments %q: want none (no comment announces an unsaved promise)",
				got.ActionsTaken, comments(t, q, "Sales Order", so))
		}
	})
}
