package quote_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/erpnext-otp/otp/erp"
	"github.com/erpnext-otp/otp/erp/sandbox"
	"github.com/erpnext-otp/otp/quote"
)

// validationBody is FastAPI's 422 body.
type validationBody struct {
	Detail []quote.FieldError `json:"detail"`
}

func TestPromiseValidation(t *testing.T) {
	q := MustQuoteEnv(t)
	ok := `{"item_code":"SKU-001","qty":1}`
	withRules := func(rules string) string {
		return `{"customer":"C","items":[` + ok + `],"rules":` + rules + `}`
	}
	tests := []struct {
		name string
		body string
		want []quote.FieldError // compared on type, loc and msg
	}{
		{"empty body", ``, []quote.FieldError{{Type: "missing", Loc: []any{"body"}, Msg: "Field required"}}},
		{"not JSON", `{"customer":`, []quote.FieldError{{Type: "json_invalid", Loc: []any{"body", 12.0}, Msg: "JSON decode error"}}},
		{"two values", `{} {}`, []quote.FieldError{{Type: "json_invalid", Loc: []any{"body", 3.0}, Msg: "JSON decode error"}}},
		{"not an object", `[1]`, []quote.FieldError{{Type: "model_attributes_type", Loc: []any{"body"},
			Msg: "Input should be a valid dictionary or object to extract fields from"}}},
		{"nothing", `{}`, []quote.FieldError{
			{Type: "missing", Loc: []any{"body", "customer"}, Msg: "Field required"},
			{Type: "missing", Loc: []any{"body", "items"}, Msg: "Field required"},
		}},
		{"no items", `{"customer":"C","items":[]}`, []quote.FieldError{{Type: "too_short", Loc: []any{"body", "items"},
			Msg: "List should have at least 1 item after validation, not 0"}}},
		{"items not a list", `{"customer":"C","items":{"item_code":"SKU-001"}}`, []quote.FieldError{{Type: "list_type",
			Loc: []any{"body", "items"}, Msg: "Input should be a valid list"}}},
		{"customer not a string", `{"customer":7,"items":[` + ok + `]}`, []quote.FieldError{{Type: "string_type",
			Loc: []any{"body", "customer"}, Msg: "Input should be a valid string"}}},
		{"qty zero", `{"customer":"C","items":[{"item_code":"SKU-001","qty":0}]}`, []quote.FieldError{{Type: "greater_than",
			Loc: []any{"body", "items", 0.0, "qty"}, Msg: "Input should be greater than 0"}}},
		{"qty negative string", `{"customer":"C","items":[{"item_code":"SKU-001","qty":"-2"}]}`, []quote.FieldError{{Type: "greater_than",
			Loc: []any{"body", "items", 0.0, "qty"}, Msg: "Input should be greater than 0"}}},
		{"qty not a number", `{"customer":"C","items":[{"item_code":"SKU-001","qty":"ten"}]}`, []quote.FieldError{{Type: "float_parsing",
			Loc: []any{"body", "items", 0.0, "qty"}, Msg: "Input should be a valid number, unable to parse string as a number"}}},
		{"qty boolean", `{"customer":"C","items":[{"item_code":"SKU-001","qty":true}]}`, []quote.FieldError{{Type: "float_type",
			Loc: []any{"body", "items", 0.0, "qty"}, Msg: "Input should be a valid number"}}},
		{"qty infinite", `{"customer":"C","items":[{"item_code":"SKU-001","qty":1e999}]}`, []quote.FieldError{{Type: "finite_number",
			Loc: []any{"body", "items", 0.0, "qty"}, Msg: "Input should be a finite number"}}},
		{"second line bad", `{"customer":"C","items":[` + ok + `,{"qty":1},{"item_code":" ","qty":1}]}`, []quote.FieldError{
			{Type: "missing", Loc: []any{"body", "items", 1.0, "item_code"}, Msg: "Field required"},
			{Type: "string_too_short", Loc: []any{"body", "items", 2.0, "item_code"}, Msg: "String should have at least 1 character"},
		}},
		{"bad date", `{"customer":"C","items":[` + ok + `],"desired_date":"2026-02-30"}`, []quote.FieldError{{Type: "date_from_datetime_parsing",
			Loc: []any{"body", "desired_date"}, Msg: "Input should be a valid date in the format YYYY-MM-DD"}}},
		{"bad mode", withRules(`{"desired_date_mode":"SOMETIMES"}`), []quote.FieldError{{Type: "enum",
			Loc: []any{"body", "rules", "desired_date_mode"}, Msg: "Input should be 'LATEST_ACCEPTABLE', 'STRICT_FAIL' or 'NO_EARLY_DELIVERY'"}}},
		{"bad cutoff", withRules(`{"cutoff_time":"25:00"}`), []quote.FieldError{{Type: "value_error",
			Loc: []any{"body", "rules", "cutoff_time"}, Msg: `Value error, cutoff_time "25:00" is not a time of day HH:MM`}}},
		{"cutoff with seconds", withRules(`{"cutoff_time":"14:00:00"}`), []quote.FieldError{{Type: "value_error",
			Loc: []any{"body", "rules", "cutoff_time"}, Msg: `Value error, cutoff_time "14:00:00" is not a time of day HH:MM`}}},
		{"unknown timezone", withRules(`{"timezone":"Mars/Olympus_Mons"}`), []quote.FieldError{{Type: "value_error",
			Loc: []any{"body", "rules", "timezone"}, Msg: `Value error, unknown timezone "Mars/Olympus_Mons"`}}},
		{"negative days", withRules(`{"processing_lead_time_days":-1}`), []quote.FieldError{{Type: "greater_than_equal",
			Loc: []any{"body", "rules", "processing_lead_time_days"}, Msg: "Input should be greater than or equal to 0"}}},
		{"fractional days", withRules(`{"lead_time_buffer_days":1.5}`), []quote.FieldError{{Type: "int_from_float",
			Loc: []any{"body", "rules", "lead_time_buffer_days"}, Msg: "Input should be a valid integer, got a number with a fractional part"}}},
		{"bad boolean", withRules(`{"no_weekends":"maybe"}`), []quote.FieldError{{Type: "bool_parsing",
			Loc: []any{"body", "rules", "no_weekends"}, Msg: "Input should be a valid boolean, unable to interpret input"}}},
		{"rules not an object", withRules(`"strict"`), []quote.FieldError{{Type: "model_attributes_type",
			Loc: []any{"body", "rules"}, Msg: "Input should be a valid dictionary or object to extract fields from"}}},
		{"every problem at once", `{"customer":"C","items":[{"item_code":"SKU-001","qty":0}],"rules":{"desired_date_mode":"X","timezone":""}}`,
			[]quote.FieldError{
				{Type: "greater_than", Loc: []any{"body", "items", 0.0, "qty"}, Msg: "Input should be greater than 0"},
				{Type: "value_error", Loc: []any{"body", "rules", "timezone"}, Msg: `Value error, timezone "" is not an IANA zone name`},
				{Type: "enum", Loc: []any{"body", "rules", "desired_date_mode"}, Msg: "Input should be 'LATEST_ACCEPTABLE', 'STRICT_FAIL' or 'NO_EARLY_DELIVERY'"},
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := MustCall[validationBody](t, q, http.MethodPost, "/otp/promise", tt.body, http.StatusUnprocessableEntity)
			if diff := cmp.Diff(tt.want, got.Detail, cmpopts.IgnoreFields(quote.FieldError{}, "Input", "Ctx")); diff != "" {
				t.Errorf("detail (-want +got):\n%s", diff)
			}
		})
	}
	if got := q.sb.TotalRequests(); got != 0 {
		t.Errorf("ERPNext requests for invalid quotes = %d, want 0", got)
	}
}

func TestPromiseValidationInputAndCtx(t *testing.T) {
	q := MustQuoteEnv(t)
	got := MustCall[validationBody](t, q, http.MethodPost, "/otp/promise",
		`{"customer":"C","items":[{"item_code":"SKU-001","qty":"0"},{"item_code":"SKU-001"}]}`, http.StatusUnprocessableEntity)
	want := []quote.FieldError{
		{Type: "greater_than", Loc: []any{"body", "items", 0.0, "qty"}, Msg: "Input should be greater than 0", Input: "0",
			Ctx: map[string]any{"gt": 0.0}},
		// FastAPI's "missing" carries the object the field is missing from.
		{Type: "missing", Loc: []any{"body", "items", 1.0, "qty"}, Msg: "Field required",
			Input: map[string]any{"item_code": "SKU-001"}},
	}
	if diff := cmp.Diff(want, got.Detail); diff != "" {
		t.Errorf("detail (-want +got):\n%s", diff)
	}
}

func TestPromiseUnknownItemOrWarehouse(t *testing.T) {
	q := MustQuoteEnv(t)
	tests := []struct {
		name string
		line map[string]any
		want string
	}{
		{"item", line("NOPE-1", 2), "Item 'NOPE-1' not found"},
		{"warehouse", map[string]any{"item_code": "SKU-001", "qty": 2, "warehouse": "Nowhere - WH"}, "Warehouse 'Nowhere - WH' not found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := MustCall[struct{ Detail string }](t, q, http.MethodPost, "/otp/promise",
				quoteBody([]map[string]any{line("SKU-001", 1), tt.line}, nil), http.StatusNotFound)
			if got.Detail != tt.want {
				t.Errorf("detail = %q, want %q", got.Detail, tt.want)
			}
		})
	}
}

// ERPNext names compare without case (its MariaDB collation), so "sku-001"
// in "stores - wh" is the item SKU-001 in Stores - WH: the same promise as
// the canonical spelling, and the reply names them as ERPNext does.
func TestPromiseNamesWithoutCase(t *testing.T) {
	q := MustQuoteEnv(t)
	canonical := MustCall[map[string]any](t, q, http.MethodPost, "/otp/promise",
		quoteBody([]map[string]any{{"item_code": sandbox.DemoItemInStock, "qty": 3, "warehouse": sandbox.DemoStores}}, nil), http.StatusOK)
	typed := MustCall[map[string]any](t, q, http.MethodPost, "/otp/promise",
		quoteBody([]map[string]any{{"item_code": " " + strings.ToLower(sandbox.DemoItemInStock) + " ", "qty": 3,
			"warehouse": strings.ToLower(sandbox.DemoStores)}}, nil), http.StatusOK)
	if canonical["status"] != "OK" || canonical["promise_date"] == nil {
		t.Fatalf("canonical quote = %v %v, want a promise", canonical["status"], canonical["promise_date"])
	}
	if diff := cmp.Diff(canonical, typed); diff != "" {
		t.Errorf("lower-case quote differs from the canonical one (-canonical +lower-case):\n%s", diff)
	}
	plan, _ := typed["plan"].([]any)
	if len(plan) != 1 {
		t.Fatalf("plan = %v, want one line", typed["plan"])
	}
	got := plan[0].(map[string]any)
	if got["item_code"] != sandbox.DemoItemInStock || got["warehouse"] != sandbox.DemoStores {
		t.Errorf("plan names %q in %q, want ERPNext's %q in %q", got["item_code"], got["warehouse"], sandbox.DemoItemInStock, sandbox.DemoStores)
	}
}

func TestPromiseStrictFail(t *testing.T) {
	q := MustQuoteEnv(t)
	strict := func(desired string) map[string]any {
		return quoteBody([]map[string]any{line("SKU-001", 10)},
			map[string]any{"desired_date": desired, "rules": map[string]any{"desired_date_mode": "STRICT_FAIL"}})
	}
	// The earliest promise is Friday 2026-11-27 (see TestPromiseHappyPaths).
	late := MustCall[promiseBody](t, q, http.MethodPost, "/otp/promise", strict("2026-11-26"), http.StatusConflict)
	wantLate := promiseSummary{Status: "OK", PromiseDate: ptr("2026-11-27"), Raw: "2026-11-27", Confidence: "HIGH", CanFulfill: true,
		OnTime: ptr(false), Sources: []string{"SKU-001: stock 10 2026-11-25 2026-11-26"}}
	if diff := cmp.Diff(wantLate, late.summary()); diff != "" {
		t.Errorf("409 body (-want +got):\n%s", diff)
	}
	if want := "Cannot meet desired delivery date 2026-11-26. Earliest possible promise: 2026-11-27 (1 day late)."; late.Detail != want {
		t.Errorf("detail = %q, want %q", late.Detail, want)
	}
	if late.DesiredDateMode == nil || *late.DesiredDateMode != "STRICT_FAIL" {
		t.Errorf("desired_date_mode = %v, want STRICT_FAIL", late.DesiredDateMode)
	}

	onTime := MustCall[promiseBody](t, q, http.MethodPost, "/otp/promise", strict("2026-11-27"), http.StatusOK)
	if onTime.OnTime == nil || !*onTime.OnTime || onTime.Detail != "" {
		t.Errorf("strict and on time: on_time %v, detail %q; want true and none", onTime.OnTime, onTime.Detail)
	}

	// A shortage can never meet a strict date (the earlier OTP answered
	// 200 when the covered part alone was on time, docs/erpnext.md#child-tables).
	short := MustCall[promiseBody](t, q, http.MethodPost, "/otp/promise",
		quoteBody([]map[string]any{line("SKU-035", 1)},
			map[string]any{"desired_date": "2027-01-29", "rules": map[string]any{"desired_date_mode": "STRICT_FAIL"}}),
		http.StatusConflict)
	if short.Status != "CANNOT_FULFILL" || short.PromiseDate != nil ||
		short.Detail != "Cannot meet desired delivery date 2027-01-29: the order cannot be fulfilled from known supply." {
		t.Errorf("strict with a shortage: status %s, promise %v, detail %q", short.Status, short.PromiseDate, short.Detail)
	}
}

func TestPromiseOfABookOrder(t *testing.T) {
	q := MustQuoteEnv(t)
	demo := q.sb.Demo()
	// SKU-050's first submitted order wants 30: 20 on hand and the 40 of
	// the PO arriving 12-02. Quoting its line without naming it is a new
	// order after the whole book: only 5 can ever be free, so it cannot be
	// fulfilled.
	body := quoteBody([]map[string]any{line("SKU-050", 30)}, nil)
	anonymous := MustCall[promiseBody](t, q, http.MethodPost, "/otp/promise", body, http.StatusOK)
	if anonymous.Status != "CANNOT_FULFILL" {
		t.Errorf("anonymous re-quote: status %s, want CANNOT_FULFILL (the book holds all but 5)", anonymous.Status)
	}
	// Named, it is the book's promise of that order, first in line: 20 from
	// stock and 10 from the PO on 12-02: ready 12-03, promised Friday 12-04,
	// later than the Monday 11-30 it asked for (its 11-28 is a Saturday).
	body["sales_order_id"] = demo.ContendedSO1
	named := MustCall[promiseBody](t, q, http.MethodPost, "/otp/promise", body, http.StatusOK)
	want := promiseSummary{Status: "OK", PromiseDate: ptr("2026-12-04"), Raw: "2026-12-04", Confidence: "MEDIUM", CanFulfill: true,
		OnTime: ptr(false), Sources: []string{"SKU-050: stock 20 2026-11-25 2026-11-26", "SKU-050: purchase_order 10 2026-12-02 2026-12-03 " + demo.OpenPO}}
	if diff := cmp.Diff(want, named.summary()); diff != "" {
		t.Errorf("named re-quote (-want +got):\n%s", diff)
	}
}

func TestPromiseShortageSuggestsProcurement(t *testing.T) {
	q := MustQuoteEnv(t)
	got := MustCall[promiseBody](t, q, http.MethodPost, "/otp/promise", quoteBody([]map[string]any{line("SKU-050", 6)}, nil), http.StatusOK)
	if len(got.Plan) != 1 || got.Plan[0].Shortage != 1 || got.Plan[0].PromiseDate != nil {
		t.Fatalf("plan = %+v, want one line short 1 with no promise date", got.Plan)
	}
	if len(got.ProcurementSuggestions) != 1 {
		t.Fatalf("procurement_suggestions = %+v, want one", got.ProcurementSuggestions)
	}
	sg := got.ProcurementSuggestions[0]
	// Required by the intake day: nothing else in the order waits longer.
	if sg.ItemCode != "SKU-050" || sg.QtyNeeded != 1 || sg.RequiredBy != "2026-11-25" || sg.Warehouse != "Stores - WH" {
		t.Errorf("suggestion = %+v, want 1 SKU-050 at Stores - WH by 2026-11-25", sg)
	}
	if !containsPrefix(got.Blockers, "Item SKU-050: shortage of 1 at Stores - WH") {
		t.Errorf("blockers = %q, want the shortage named", got.Blockers)
	}
}

func containsPrefix(ss []string, prefix string) bool {
	for _, s := range ss {
		if strings.HasPrefix(s, prefix) {
			return true
		}
	}
	return false
}

func TestPromiseBodyTooLarge(t *testing.T) {
	q := MustQuoteEnv(t)
	big := `{"customer":"` + strings.Repeat("x", quote.MaxBodyBytes) + `","items":[{"item_code":"SKU-001","qty":1}]}`
	status, _ := q.call(t, http.MethodPost, "/otp/promise", big)
	if status != http.StatusRequestEntityTooLarge {
		t.Errorf("status = %d, want 413", status)
	}
}

func TestQuotePostsWantJSON(t *testing.T) {
	q := MustQuoteEnv(t)
	for _, path := range []string{"/otp/promise", "/otp/apply", "/otp/procurement-suggest"} {
		for _, ct := range []string{"text/plain;charset=UTF-8", "application/x-www-form-urlencoded", ""} {
			req, _ := http.NewRequest(http.MethodPost, q.otp.URL+path, strings.NewReader(`{"customer":"C","items":[{"item_code":"SKU-001","qty":1}]}`))
			if ct != "" {
				req.Header.Set("Content-Type", ct)
			}
			resp, err := q.otp.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			var b struct{ Detail string }
			err = json.NewDecoder(resp.Body).Decode(&b)
			resp.Body.Close()
			if err != nil || resp.StatusCode != http.StatusUnsupportedMediaType || b.Detail != "Content-Type must be application/json" {
				t.Errorf("POST %s as %q: %d %q (%v), want 415", path, ct, resp.StatusCode, b.Detail, err)
			}
		}
	}
	if n := q.sb.Requests("PUT /api/resource/Sales Order") + q.sb.Requests("POST /api/resource/Material Request"); n != 0 {
		t.Errorf("ERPNext writes = %d, want 0", n)
	}
}

// TestPromiseERPNextUnavailable: ERPNext down, failing or refusing to be
// asked by the breaker gives 503 with a detail, never 500.
func TestPromiseERPNextUnavailable(t *testing.T) {
	fast := []erp.Option{erp.WithRetry(1, time.Millisecond, time.Millisecond), erp.WithBreaker(3, time.Hour)}
	body := quoteBody([]map[string]any{line("SKU-001", 1)}, nil)
	wantDetail := func(t *testing.T, raw []byte, want string) {
		t.Helper()
		var b struct{ Detail string }
		if err := json.Unmarshal(raw, &b); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(b.Detail, "ERPNext unavailable: ") || !strings.Contains(b.Detail, want) {
			t.Errorf("detail = %q, want \"ERPNext unavailable: ...%s...\"", b.Detail, want)
		}
	}

	t.Run("down before the first quote", func(t *testing.T) {
		q := MustQuoteEnv(t, fast...)
		q.erpAPI.Close()
		status, raw := q.call(t, http.MethodPost, "/otp/promise", body)
		if status != http.StatusServiceUnavailable {
			t.Fatalf("status = %d, want 503; body %s", status, raw)
		}
		wantDetail(t, raw, "transport error")
	})
	t.Run("down after quotes worked", func(t *testing.T) {
		q := MustQuoteEnv(t, fast...)
		MustCall[promiseBody](t, q, http.MethodPost, "/otp/promise", body, http.StatusOK)
		q.erpAPI.Close()
		status, raw := q.call(t, http.MethodPost, "/otp/promise", body)
		if status != http.StatusServiceUnavailable {
			t.Fatalf("status = %d, want 503; body %s", status, raw)
		}
		wantDetail(t, raw, "transport error")
		// Three failures open the breaker: ERPNext is not even asked.
		for range 3 {
			q.call(t, http.MethodPost, "/otp/promise", body)
		}
		status, raw = q.call(t, http.MethodPost, "/otp/promise", body)
		if status != http.StatusServiceUnavailable {
			t.Fatalf("breaker open: status = %d, want 503; body %s", status, raw)
		}
		wantDetail(t, raw, "circuit open")
	})
	t.Run("server errors", func(t *testing.T) {
		q := MustQuoteEnv(t, fast...)
		MustCall[promiseBody](t, q, http.MethodPost, "/otp/promise", body, http.StatusOK)
		q.sb.FailNext(10, http.StatusBadGateway, "<html><body>502 Bad Gateway</body></html>", nil)
		status, raw := q.call(t, http.MethodPost, "/otp/promise", body)
		if status != http.StatusServiceUnavailable {
			t.Fatalf("status = %d, want 503; body %s", status, raw)
		}
		wantDetail(t, raw, "502")
	})
	t.Run("rate limited", func(t *testing.T) {
		q := MustQuoteEnv(t, fast...)
		MustCall[promiseBody](t, q, http.MethodPost, "/otp/promise", body, http.StatusOK)
		q.sb.FailNext(10, http.StatusTooManyRequests, `{"exc_type":"RateLimitExceededError"}`, http.Header{"Retry-After": {"30"}})
		req, _ := http.NewRequest(http.MethodPost, q.otp.URL+"/otp/promise", strings.NewReader(`{"customer":"C","items":[{"item_code":"SKU-001","qty":1}]}`))
		req.Header.Set("Content-Type", "application/json")
		resp, err := q.otp.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") != "30" {
			t.Errorf("status %d, Retry-After %q; want 503 and 30", resp.StatusCode, resp.Header.Get("Retry-After"))
		}
	})
}
