package quote_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // rules.timezone in tests does not depend on the machine's zoneinfo

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/google/go-cmp/cmp"

	"github.com/erpnext-otp/otp/erp"
	"github.com/erpnext-otp/otp/erp/sandbox"
	"github.com/erpnext-otp/otp/planner"
	"github.com/erpnext-otp/otp/promise"
	"github.com/erpnext-otp/otp/quote"
	"github.com/erpnext-otp/otp/server"
)

// The quote API's tests run the real server over real HTTP against the
// Frappe-faithful sandbox (with its demo data) through the real erp client,
// at a pinned clock: Wednesday 2026-11-25 10:00 UTC, before the 14:00
// cutoff. The demo company's Holiday List has Saturdays and Sundays as weekly
// offs, and Christmas and Boxing Day. Every request and response is checked
// against /openapi.json (spec.check).

var pinned = time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)

// quoteEnv is OTP's server and the sandbox, each on its own listener.
type quoteEnv struct {
	*env
	sb     *sandbox.Sandbox
	erpAPI *httptest.Server // the sandbox
	otp    *httptest.Server // OTP
	client *erp.Client
	spec   *spec
}

// MustQuoteEnv starts the sandbox with demo data and OTP's custom fields,
// and OTP's server wired to it with the configured defaults of README.md#configure.
func MustQuoteEnv(tb testing.TB, opts ...erp.Option) *quoteEnv {
	tb.Helper()
	return MustQuoteEnvWith(tb, nil, opts...)
}

// MustQuoteEnvWith is MustQuoteEnv with the server's deps adjusted by edit.
func MustQuoteEnvWith(tb testing.TB, edit func(*server.Deps), opts ...erp.Option) *quoteEnv {
	tb.Helper()
	sb := sandbox.New(sandbox.WithDemoData(), sandbox.WithClock(func() time.Time { return pinned }),
		sandbox.WithWebhookSleep(func(context.Context, time.Duration) error { return nil }))
	tb.Cleanup(func() { sb.Close() })
	MustCustomFields(tb, sb)
	api := httptest.NewServer(sb)
	tb.Cleanup(api.Close)
	key, secret := sb.Credentials()
	client, err := erp.New(api.URL, key, secret, opts...)
	if err != nil {
		tb.Fatal(err)
	}
	e := MustEnv(tb, func(d *server.Deps) {
		d.Quote = quote.Deps{ERP: client, Planner: planner.Config{DefaultWarehouse: sandbox.DemoStores, Rules: promise.DefaultRules()}}
		if edit != nil {
			edit(d)
		}
	})
	otp := httptest.NewServer(e.srv.Handler())
	tb.Cleanup(otp.Close)
	return &quoteEnv{env: e, sb: sb, erpAPI: api, otp: otp, client: client, spec: MustSpec(tb)}
}

// MustCustomFields creates OTP's custom fields as `otp migrate` does
// (docs/erpnext.md#otps-custom-fields), Allow on Submit so submitted orders accept them.
func MustCustomFields(tb testing.TB, sb *sandbox.Sandbox) {
	tb.Helper()
	confidence := "\nHIGH\nMEDIUM\nLOW"
	for _, f := range []struct{ dt, name, typ, options string }{
		{"Sales Order", erp.FieldPromiseDate, "Date", ""},
		{"Sales Order", erp.FieldConfidence, "Select", confidence},
		{"Sales Order", erp.FieldPromiseStatus, "Data", ""},
		{"Sales Order", erp.FieldFirstPromiseDate, "Date", ""},
		{"Sales Order", erp.FieldPromisedAt, "Datetime", ""},
		{"Sales Order", erp.FieldExplanation, "Small Text", ""},
		{"Sales Order", erp.FieldFingerprint, "Data", ""},
		{"Sales Order Item", erp.FieldLinePromiseDate, "Date", ""},
		{"Sales Order Item", erp.FieldLineConfidence, "Select", confidence},
	} {
		doc := map[string]any{"dt": f.dt, "fieldname": f.name, "label": f.name, "fieldtype": f.typ,
			"insert_after": "append", "allow_on_submit": 1, "read_only": 1, "no_copy": 1}
		if f.options != "" {
			doc["options"] = f.options
		}
		if _, err := sb.Insert("Custom Field", doc); err != nil {
			tb.Fatalf("custom field %s.%s: %v", f.dt, f.name, err)
		}
	}
}

// call sends a request to OTP over HTTP and checks it and its answer
// against the OpenAPI description. body is JSON-encoded unless it is a
// string or []byte, sent as is.
func (q *quoteEnv) call(tb testing.TB, method, path string, body any) (int, []byte) {
	tb.Helper()
	status, _, got := q.callWith(tb, method, path, body, nil)
	return status, got
}

// callWith is call with extra request headers; it returns the response's
// headers too.
func (q *quoteEnv) callWith(tb testing.TB, method, path string, body any, header http.Header) (int, http.Header, []byte) {
	tb.Helper()
	var raw []byte
	switch b := body.(type) {
	case nil:
	case string:
		raw = []byte(b)
	case []byte:
		raw = b
	default:
		var err error
		if raw, err = json.Marshal(b); err != nil {
			tb.Fatal(err)
		}
	}
	req, err := http.NewRequest(method, q.otp.URL+path, bytes.NewReader(raw))
	if err != nil {
		tb.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	resp, err := q.otp.Client().Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	got, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatal(err)
	}
	q.spec.check(tb, method, path, raw, resp, got)
	return resp.StatusCode, resp.Header, got
}

// MustCall is call that fails the test unless the status is want, and
// decodes the body into T.
func MustCall[T any](tb testing.TB, q *quoteEnv, method, path string, body any, want int) T {
	tb.Helper()
	status, raw := q.call(tb, method, path, body)
	if status != want {
		tb.Fatalf("%s %s: status %d, want %d; body %s", method, path, status, want, raw)
	}
	var v T
	if err := json.Unmarshal(raw, &v); err != nil {
		tb.Fatalf("%s %s: body %s: %v", method, path, raw, err)
	}
	return v
}

// spec checks requests and responses against openapi.json: every response
// must match what the description declares for its status, and every
// request the handlers accept (any answer but 422, 400 and 413) must be one
// the description accepts.
type spec struct {
	doc    *openapi3.T
	router routers.Router
}

// MustSpec loads and validates openapi.json.
func MustSpec(tb testing.TB) *spec {
	tb.Helper()
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData([]byte(quote.OpenAPIDocument))
	if err != nil {
		tb.Fatalf("openapi.json does not load: %v", err)
	}
	if err := doc.Validate(loader.Context); err != nil {
		tb.Fatalf("openapi.json is not valid OpenAPI 3: %v", err)
	}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		tb.Fatal(err)
	}
	return &spec{doc: doc, router: router}
}

// validateRequest checks one JSON request against the description.
func (s *spec) validateRequest(method, path, body string) error {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	route, params, err := s.router.FindRoute(req)
	if err != nil {
		return err
	}
	return openapi3filter.ValidateRequest(context.Background(), &openapi3filter.RequestValidationInput{
		Request: req, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}})
}

func (s *spec) check(tb testing.TB, method, path string, reqBody []byte, resp *http.Response, respBody []byte) {
	tb.Helper()
	ctx := context.Background()
	req := httptest.NewRequest(method, path, bytes.NewReader(reqBody))
	if len(reqBody) > 0 {
		req.Header.Set("Content-Type", "application/json")
	}
	route, params, err := s.router.FindRoute(req)
	if err != nil {
		tb.Errorf("%s %s: not in openapi.json: %v", method, path, err)
		return
	}
	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route,
		Options: &openapi3filter.Options{MultiError: true, AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}}
	switch resp.StatusCode {
	case http.StatusUnprocessableEntity, http.StatusBadRequest, http.StatusRequestEntityTooLarge:
	default:
		if err := openapi3filter.ValidateRequest(ctx, in); err != nil {
			tb.Errorf("%s %s: answered %d, but openapi.json rejects the request %s: %v", method, path, resp.StatusCode, reqBody, err)
		}
	}
	out := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in,
		Status:                 resp.StatusCode,
		Header:                 resp.Header,
		Body:                   io.NopCloser(bytes.NewReader(respBody)),
		Options:                &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	if err := openapi3filter.ValidateResponse(ctx, out); err != nil {
		tb.Errorf("%s %s: response %d does not match openapi.json: %v\nbody: %s", method, path, resp.StatusCode, err, respBody)
	}
}

// promiseSummary is the part of a promise response most tests compare.
type promiseSummary struct {
	Status      string
	PromiseDate *string
	Raw         string
	Confidence  string
	CanFulfill  bool
	OnTime      *bool
	Adjusted    bool
	Sources     []string // per line: "source qty available ship_ready [po]"
}

type promiseBody struct {
	Status          string  `json:"status"`
	PromiseDate     *string `json:"promise_date"`
	PromiseDateRaw  string  `json:"promise_date_raw"`
	DesiredDate     *string `json:"desired_date"`
	DesiredDateMode *string `json:"desired_date_mode"`
	OnTime          *bool   `json:"on_time"`
	Adjusted        bool    `json:"adjusted_due_to_no_early_delivery"`
	CanFulfill      bool    `json:"can_fulfill"`
	Confidence      string  `json:"confidence"`
	Plan            []struct {
		ItemCode    string  `json:"item_code"`
		QtyRequired float64 `json:"qty_required"`
		Shortage    float64 `json:"shortage"`
		Warehouse   string  `json:"warehouse"`
		PromiseDate *string `json:"promise_date"`
		Confidence  string  `json:"confidence"`
		Fulfillment []struct {
			Source        string  `json:"source"`
			Qty           float64 `json:"qty"`
			AvailableDate string  `json:"available_date"`
			ShipReadyDate string  `json:"ship_ready_date"`
			Warehouse     *string `json:"warehouse"`
			POID          *string `json:"po_id"`
			ExpectedDate  *string `json:"expected_date"`
		} `json:"fulfillment"`
	} `json:"plan"`
	Reasons  []string `json:"reasons"`
	Blockers []string `json:"blockers"`
	Options  []struct {
		Type string  `json:"type"`
		POID *string `json:"po_id"`
	} `json:"options"`
	Explanation            string `json:"explanation"`
	ProcurementSuggestions []struct {
		ItemCode   string  `json:"item_code"`
		QtyNeeded  float64 `json:"qty_needed"`
		RequiredBy string  `json:"required_by"`
		Warehouse  string  `json:"warehouse"`
		Reason     string  `json:"reason"`
	} `json:"procurement_suggestions"`
	Detail string `json:"detail"`
}

func (b promiseBody) summary() promiseSummary {
	s := promiseSummary{Status: b.Status, PromiseDate: b.PromiseDate, Raw: b.PromiseDateRaw, Confidence: b.Confidence,
		CanFulfill: b.CanFulfill, OnTime: b.OnTime, Adjusted: b.Adjusted}
	for _, l := range b.Plan {
		for _, f := range l.Fulfillment {
			src := f.Source + " " + promise.FormatQty(f.Qty) + " " + f.AvailableDate + " " + f.ShipReadyDate
			if f.POID != nil {
				src += " " + *f.POID
			}
			s.Sources = append(s.Sources, l.ItemCode+": "+src)
		}
	}
	return s
}

func ptr[T any](v T) *T { return &v }

// quoteBody is a promise request.
func quoteBody(lines []map[string]any, extra map[string]any) map[string]any {
	items := make([]any, len(lines))
	for i, l := range lines {
		items[i] = l
	}
	b := map[string]any{"customer": sandbox.DemoCustomer, "items": items}
	for k, v := range extra {
		b[k] = v
	}
	return b
}

func line(item string, qty any) map[string]any { return map[string]any{"item_code": item, "qty": qty} }

func TestPromiseHappyPaths(t *testing.T) {
	q := MustQuoteEnv(t)
	demo := q.sb.Demo()
	tests := []struct {
		name string
		body map[string]any
		want promiseSummary
	}{
		{
			// 120 on hand, 5 owed to a past-due order: from stock today
			// (Wednesday, before 14:00), ready Thursday, +1 buffer: Friday.
			name: "in stock",
			body: quoteBody([]map[string]any{line("SKU-001", 10)}, nil),
			want: promiseSummary{Status: "OK", PromiseDate: ptr("2026-11-27"), Raw: "2026-11-27", Confidence: "HIGH", CanFulfill: true,
				Sources: []string{"SKU-001: stock 10 2026-11-25 2026-11-26"}},
		},
		{
			// Quantities as strings, a null warehouse, unknown fields: v1's
			// pydantic leniency. Same answer.
			name: "lax request",
			body: quoteBody([]map[string]any{{"item_code": "SKU-001", "qty": "10", "warehouse": nil, "colour": "red"}},
				map[string]any{"desired_date": nil, "rules": nil, "channel": "web"}),
			want: promiseSummary{Status: "OK", PromiseDate: ptr("2026-11-27"), Raw: "2026-11-27", Confidence: "HIGH", CanFulfill: true,
				Sources: []string{"SKU-001: stock 10 2026-11-25 2026-11-26"}},
		},
		{
			// SKU-050: 20 on hand, but 30 due Saturday and 25 due 2026-12-05
			// on other orders; 40 arrive on a PO Wednesday 2026-12-02. ATP
			// is negative until the PO, then min(20+40-30, 60-55) = 5: the 5
			// are available 12-02, ready Thursday 12-03, promised Friday
			// 12-04. The PO is 7 days out (near): MEDIUM.
			// SKU-050: 20 on hand, 40 on a PO due 12-02. The first order (30)
			// ships 12-04 and books 12-02; the second (25, wanted 12-05)
			// books 12-03. From 12-03 on only 5 are left, so 5 of the 20 on
			// hand are free today: a new order of 5 ships from stock.
			name: "contended stock: what the book leaves free",
			body: quoteBody([]map[string]any{line("SKU-050", 5)}, nil),
			want: promiseSummary{Status: "OK", PromiseDate: ptr("2026-11-27"), Raw: "2026-11-27", Confidence: "HIGH", CanFulfill: true,
				Sources: []string{"SKU-050: stock 5 2026-11-25 2026-11-26"}},
		},
		{
			// One more than can ever be free without breaking the other
			// orders' promises, and no lead time: 5 from the PO, short 1,
			// cannot be fulfilled. promise_date is null; promise_date_raw
			// is still set (v1 docs/erpnext.md#the-webhook-document): what a line from stock would get.
			name: "over-contended cannot be fulfilled",
			body: quoteBody([]map[string]any{line("SKU-050", 6)}, nil),
			want: promiseSummary{Status: "CANNOT_FULFILL", Raw: "2026-11-27", Confidence: "LOW", CanFulfill: false,
				Sources: []string{"SKU-050: purchase_order 5 2026-12-02 2026-12-03 " + demo.OpenPO}},
		},
		{
			// SKU-036: no stock, no PO, lead time 10 days: 2026-12-05 is a
			// Saturday, so available Monday 12-07, ready 12-08, promised
			// Wednesday 12-09, LOW (replenishment lead time).
			name: "lead time fallback",
			body: quoteBody([]map[string]any{line("SKU-036", 3)}, nil),
			want: promiseSummary{Status: "OK", PromiseDate: ptr("2026-12-09"), Raw: "2026-12-09", Confidence: "LOW", CanFulfill: true,
				Sources: []string{"SKU-036: lead_time 3 2026-12-07 2026-12-08"}},
		},
		{
			// Processing and buffer days 0: shipped the day it is ordered.
			name: "rules override the configured days",
			body: quoteBody([]map[string]any{line("SKU-001", 1)},
				map[string]any{"rules": map[string]any{"processing_lead_time_days": 0, "lead_time_buffer_days": "0"}}),
			want: promiseSummary{Status: "OK", PromiseDate: ptr("2026-11-25"), Raw: "2026-11-25", Confidence: "HIGH", CanFulfill: true,
				Sources: []string{"SKU-001: stock 1 2026-11-25 2026-11-25"}},
		},
		{
			// A 09:00 cutoff has passed at 10:00: intake Thursday, ready
			// Friday, +1 buffer over the weekend: Monday 11-30.
			name: "after the cutoff",
			body: quoteBody([]map[string]any{line("SKU-001", 1)}, map[string]any{"rules": map[string]any{"cutoff_time": "09:00"}}),
			want: promiseSummary{Status: "OK", PromiseDate: ptr("2026-11-30"), Raw: "2026-11-30", Confidence: "HIGH", CanFulfill: true,
				Sources: []string{"SKU-001: stock 1 2026-11-26 2026-11-27"}},
		},
		{
			// 10:00 UTC is 19:00 in Tokyo, after 14:00 there: as above.
			name: "timezone moves now past the cutoff",
			body: quoteBody([]map[string]any{line("SKU-001", 1)}, map[string]any{"rules": map[string]any{"timezone": "Asia/Tokyo"}}),
			want: promiseSummary{Status: "OK", PromiseDate: ptr("2026-11-30"), Raw: "2026-11-30", Confidence: "HIGH", CanFulfill: true,
				Sources: []string{"SKU-001: stock 1 2026-11-26 2026-11-27"}},
		},
		{
			// 2 processing days: ready Friday; with weekends as working
			// days the buffer day is Saturday 11-28 ...
			name: "no_weekends false",
			body: quoteBody([]map[string]any{line("SKU-001", 1)},
				map[string]any{"rules": map[string]any{"processing_lead_time_days": 2, "no_weekends": false}}),
			want: promiseSummary{Status: "OK", PromiseDate: ptr("2026-11-28"), Raw: "2026-11-28", Confidence: "HIGH", CanFulfill: true,
				Sources: []string{"SKU-001: stock 1 2026-11-25 2026-11-27"}},
		},
		{
			// ... and Monday 11-30 when they are not.
			name: "no_weekends true",
			body: quoteBody([]map[string]any{line("SKU-001", 1)},
				map[string]any{"rules": map[string]any{"processing_lead_time_days": 2, "no_weekends": "yes"}}),
			want: promiseSummary{Status: "OK", PromiseDate: ptr("2026-11-30"), Raw: "2026-11-30", Confidence: "HIGH", CanFulfill: true,
				Sources: []string{"SKU-001: stock 1 2026-11-25 2026-11-27"}},
		},
		{
			name: "latest acceptable, on time",
			body: quoteBody([]map[string]any{line("SKU-001", 1)}, map[string]any{"desired_date": "2026-12-01"}),
			want: promiseSummary{Status: "OK", PromiseDate: ptr("2026-11-27"), Raw: "2026-11-27", Confidence: "HIGH", CanFulfill: true,
				OnTime: ptr(true), Sources: []string{"SKU-001: stock 1 2026-11-25 2026-11-26"}},
		},
		{
			// docs/quote-api.md's example: the SKU-050 line waits for the PO as
			// above, SKU-001 ships from stock; the order, Friday 12-04, is
			// 3 days after the desired Tuesday.
			name: "docs/quote-api.md example",
			body: quoteBody([]map[string]any{line("SKU-050", 5), line("SKU-001", "10")}, map[string]any{"desired_date": "2026-12-01"}),
			want: promiseSummary{Status: "OK", PromiseDate: ptr("2026-11-27"), Raw: "2026-11-27", Confidence: "HIGH", CanFulfill: true,
				OnTime: ptr(true), Sources: []string{"SKU-050: stock 5 2026-11-25 2026-11-26",
					"SKU-001: stock 10 2026-11-25 2026-11-26"}},
		},
		{
			// No delivery before Tuesday 12-01: the promise is held to it.
			name: "no early delivery",
			body: quoteBody([]map[string]any{line("SKU-001", 1)},
				map[string]any{"desired_date": "2026-12-01", "rules": map[string]any{"desired_date_mode": "NO_EARLY_DELIVERY"}}),
			want: promiseSummary{Status: "OK", PromiseDate: ptr("2026-12-01"), Raw: "2026-11-27", Confidence: "HIGH", CanFulfill: true,
				OnTime: ptr(true), Adjusted: true, Sources: []string{"SKU-001: stock 1 2026-11-25 2026-11-26"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := MustCall[promiseBody](t, q, http.MethodPost, "/otp/promise", tt.body, http.StatusOK)
			if diff := cmp.Diff(tt.want, got.summary()); diff != "" {
				t.Errorf("promise (-want +got):\n%s\nexplanation: %s\nreasons: %q", diff, got.Explanation, got.Reasons)
			}
		})
	}
}
