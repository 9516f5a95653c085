package sandbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/erpnext-otp/otp/erp/sandbox/internal/pyjson"
	"github.com/google/go-cmp/cmp"
)

func mustRead(tb testing.TB, path string) string {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	return string(b)
}

func fixtureHeader(tb testing.TB, name, key string) string {
	tb.Helper()
	for _, l := range strings.Split(mustRead(tb, "testdata/frappe-webhook/"+name+".headers"), "\n") {
		if k, v, ok := strings.Cut(l, ": "); ok && k == key {
			return v
		}
	}
	tb.Fatalf("no %s in %s.headers", key, name)
	return ""
}

// docs/erpnext.md#examples, #the-request-body, #headers and #the-signature:
// rendering the example's JSON template (and the webhook_data rows) for the
// fixture's document gives the v15 bodies byte
// for byte, with the same signatures, sent through the real save path.
func TestWebhookBodyMatchesFixtures_Ref5_1(t *testing.T) {
	rc := MustReceiver(t)
	clock := time.Date(2025, 3, 3, 9, 0, 0, 0, time.UTC)
	st := MustSite(t)
	st.SetNow(clock)
	s := st.Sandbox
	MustInsert(t, s, "Company", map[string]any{"company_name": "Acme Corp", "abbr": "AC"})
	MustInsert(t, s, "Warehouse", map[string]any{"warehouse_name": "Stores", "company": "Acme Corp"})
	MustInsert(t, s, "Customer", map[string]any{"customer_name": "Café Dupont"})
	MustInsert(t, s, "Item", map[string]any{"item_code": "WIDGET-01", "stock_uom": "Nos", "uoms": []any{map[string]any{"uom": "Box", "conversion_factor": 12}}})
	MustInsert(t, s, "Item", map[string]any{"item_code": "GADGET-02", "stock_uom": "Nos"})
	MustInsert(t, s, "Stock Entry", map[string]any{"stock_entry_type": "Material Receipt", "company": "Acme Corp", "docstatus": 1,
		"items": []any{map[string]any{"item_code": "WIDGET-01", "qty": 200, "t_warehouse": "Stores - AC"}, map[string]any{"item_code": "GADGET-02", "qty": 5, "t_warehouse": "Stores - AC"}}})
	MustWebhook(t, s, "so-json", "Sales Order", "on_submit", rc.srv.URL+"/json", map[string]any{
		"request_structure": "JSON", "webhook_json": mustRead(t, "testdata/frappe-webhook/template-5.1.jinja"),
		"enable_security": 1, "webhook_secret": "my-secret",
		"webhook_headers": []any{map[string]any{"key": "Content-Type", "value": "application/json"}}})
	MustWebhook(t, s, "so-form", "Sales Order", "on_submit", rc.srv.URL+"/form", map[string]any{
		"request_structure": "Form URL-Encoded", "enable_security": 1, "webhook_secret": "my-secret",
		"webhook_headers": []any{map[string]any{"key": "Content-Type", "value": "application/x-www-form-urlencoded"}},
		"webhook_data": []any{
			map[string]any{"fieldname": "name", "key": "name"}, map[string]any{"fieldname": "customer", "key": "customer"},
			map[string]any{"fieldname": "delivery_date", "key": "delivery_date"}, map[string]any{"fieldname": "docstatus", "key": "docstatus"},
			map[string]any{"fieldname": "modified", "key": "modified"}, map[string]any{"fieldname": "set_warehouse", "key": "set_warehouse"}}})
	s.mu.Lock()
	s.series["SAL-ORD-2025-"] = 41
	s.mu.Unlock()
	so := MustInsert(t, s, "Sales Order", map[string]any{"customer": "Café Dupont", "company": "Acme Corp", "transaction_date": "2025-03-03",
		"items": []any{
			map[string]any{"name": "a1b2c3d4e5", "item_code": "WIDGET-01", "qty": 10, "uom": "Box", "warehouse": "Stores - AC", "delivery_date": "2025-03-14"},
			map[string]any{"name": "f6g7h8i9j0", "item_code": "GADGET-02", "qty": 3, "warehouse": "Stores - AC", "delivery_date": "2025-03-14"}}})
	if so["name"] != "SAL-ORD-2025-00042" {
		t.Fatalf("name %v", so["name"])
	}
	st.SetNow(time.Date(2025, 3, 3, 10, 15, 42, 123456000, time.UTC))
	if r := st.call(t, "PUT", "/api/resource/Sales Order/SAL-ORD-2025-00042", nil, map[string]any{"docstatus": 1}); r.Status != 200 {
		t.Fatalf("submit: %d %s", r.Status, r.Raw)
	}
	MustWait(t, s)
	got := map[string]recorded{}
	for _, r := range rc.requests() {
		got[r.Path] = r
	}
	for path, fixture := range map[string]string{"/json": "v15-json", "/form": "v15-form-urlencoded"} {
		r, ok := got[path]
		if !ok {
			t.Fatalf("no delivery to %s; deliveries: %+v", path, s.WebhookDeliveries())
		}
		if diff := cmp.Diff(mustRead(t, "testdata/frappe-webhook/"+fixture+".body"), string(r.Body)); diff != "" {
			t.Errorf("%s body (-want +got):\n%s", fixture, diff)
		}
		for _, h := range []string{"X-Frappe-Webhook-Signature", "Content-Type", "User-Agent"} {
			if want, gotH := fixtureHeader(t, fixture, h), r.Header.Get(h); want != gotH {
				t.Errorf("%s header %s = %q, want %q", fixture, h, gotH, want)
			}
		}
	}
	// Fdev26 sends frappe.as_json of the same data (docs/erpnext.md#the-request-body).
	data, err := pyjson.Loads(string(got["/json"].Body))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(mustRead(t, "testdata/frappe-webhook/develop-json.body"), frappeAsJSON.Encode(data)); diff != "" {
		t.Errorf("develop-json (-want +got):\n%s", diff)
	}
	if sig := sign("my-secret", mustRead(t, "testdata/frappe-webhook/develop-json.body")); sig != fixtureHeader(t, "develop-json", "X-Frappe-Webhook-Signature") {
		t.Errorf("develop signature %s", sig)
	}
}

// eventsFor returns the events delivered for a document since `from`.
func eventsFor(s *Sandbox, from int, doc string) []string {
	var out []string
	for _, d := range s.WebhookDeliveries()[from:] {
		if d.DocName == doc {
			out = append(out, d.Event)
		}
	}
	sort.Strings(out)
	return out
}

// docs/erpnext.md#which-save-fires-which-event: which save path fires which webhook events.
func TestWebhookEvents_Ref1_2(t *testing.T) {
	rc := MustReceiver(t)
	st := MustSite(t)
	s := st.Sandbox
	MustBasics(t, s)
	MustInsert(t, s, "Stock Entry", map[string]any{"stock_entry_type": "Material Receipt", "company": "Test Co", "docstatus": 1,
		"items": []any{map[string]any{"item_code": "ITEM-A", "qty": 100, "t_warehouse": "Stores - WH"}}})
	for _, ev := range []string{"after_insert", "on_update", "on_submit", "on_cancel", "on_trash", "on_change", "on_update_after_submit"} {
		MustWebhook(t, s, "so-"+ev, "Sales Order", ev, rc.srv.URL+"/"+ev, nil)
	}
	var cur string
	var row string
	steps := []struct {
		name string
		do   func(t *testing.T) string
		want []string
	}{
		{"insert draft", func(t *testing.T) string {
			r := st.call(t, "POST", "/api/resource/Sales Order", nil, soDoc(line("ITEM-A", 2, "Stores - WH", "2026-03-05")))
			cur = r.Body["data"].(map[string]any)["name"].(string)
			row = r.Body["data"].(map[string]any)["items"].([]any)[0].(map[string]any)["name"].(string)
			return cur
		}, []string{"after_insert", "on_update"}},
		{"save draft (no change still fires)", func(t *testing.T) string {
			st.call(t, "PUT", "/api/resource/Sales Order/"+cur, nil, map[string]any{})
			return cur
		}, []string{"on_change", "on_update"}},
		{"submit", func(t *testing.T) string {
			st.call(t, "PUT", "/api/resource/Sales Order/"+cur, nil, map[string]any{"docstatus": 1})
			return cur
		}, []string{"on_change", "on_submit", "on_update"}},
		{"update after submit: only on_change", func(t *testing.T) string {
			st.call(t, "POST", "/api/method/frappe.client.set_value", nil, map[string]any{"doctype": "Sales Order", "name": cur, "fieldname": "po_no", "value": "P1"})
			return cur
		}, []string{"on_change"}},
		{"delivery updates the order by db_set: only on_change", func(t *testing.T) string {
			MustInsert(t, s, "Delivery Note", map[string]any{"customer": "Cust One", "company": "Test Co", "docstatus": 1,
				"items": []any{map[string]any{"item_code": "ITEM-A", "qty": 1, "warehouse": "Stores - WH", "against_sales_order": cur, "so_detail": row}}})
			return cur
		}, []string{"on_change"}},
		{"close by update_status: only on_change", func(t *testing.T) string {
			if _, err := s.SetStatus("Sales Order", cur, "Closed"); err != nil {
				t.Fatal(err)
			}
			return cur
		}, []string{"on_change"}},
		{"insert submitted in one go", func(t *testing.T) string {
			d := soDoc(line("ITEM-A", 1, "Stores - WH", "2026-03-05"))
			d["docstatus"] = 1
			r := st.call(t, "POST", "/api/resource/Sales Order", nil, d)
			cur = r.Body["data"].(map[string]any)["name"].(string)
			return cur
		}, []string{"after_insert", "on_submit", "on_update"}},
		{"cancel", func(t *testing.T) string {
			st.call(t, "POST", "/api/method/frappe.client.cancel", nil, map[string]any{"doctype": "Sales Order", "name": cur})
			return cur
		}, []string{"on_cancel", "on_change"}},
		{"delete a draft", func(t *testing.T) string {
			d := MustInsert(t, s, "Sales Order", soDoc(line("ITEM-A", 1, "Stores - WH", "2026-03-05")))
			MustWait(t, s)
			n := len(s.WebhookDeliveries())
			st.call(t, "DELETE", "/api/resource/Sales Order/"+d["name"].(string), nil, nil)
			cur = d["name"].(string)
			_ = n
			return cur
		}, []string{"after_insert", "on_trash", "on_update"}},
	}
	for _, step := range steps {
		t.Run(step.name, func(t *testing.T) {
			MustWait(t, s)
			from := len(s.WebhookDeliveries())
			doc := step.do(t)
			MustWait(t, s)
			if diff := cmp.Diff(step.want, eventsFor(s, from, doc)); diff != "" {
				t.Errorf("events (-want +got):\n%s", diff)
			}
		})
	}
	for _, d := range s.WebhookDeliveries() {
		if d.Event == "on_update_after_submit" {
			t.Errorf("on_update_after_submit fired; it never does on v15 (docs/erpnext.md#which-save-fires-which-event)")
		}
		if d.Status != 200 || d.Attempt != 1 {
			t.Errorf("delivery %+v", d)
		}
	}
}

// docs/erpnext.md#conditions: the condition is evaluated on the live document; an error
// in it fails the user's save.
func TestWebhookCondition_Ref1_3(t *testing.T) {
	rc := MustReceiver(t)
	st := MustSite(t)
	s := st.Sandbox
	MustBasics(t, s)
	MustWebhook(t, s, "not-mine", "Sales Order", "on_change", rc.srv.URL+"/c", map[string]any{
		"condition": `doc.docstatus == 1 and doc.modified_by != "otp@example.com" and doc.status in ["To Deliver and Bill", "To Bill"]`})
	d := soDoc(line("ITEM-B", 1, "Stores East - WH", "2026-03-05"))
	d["docstatus"] = 1
	so := MustInsert(t, s, "Sales Order", d)
	name := so["name"].(string)
	MustWait(t, s)
	from := len(s.WebhookDeliveries())
	st.call(t, "PUT", "/api/resource/Sales Order/"+name, nil, map[string]any{"po_no": "mine"})
	MustWait(t, s)
	if got := eventsFor(s, from, name); len(got) != 0 {
		t.Errorf("own write fired %v", got)
	}
	if _, err := s.SaveAs("clerk@example.com", "Sales Order", name, map[string]any{"po_no": "theirs"}); err != nil {
		t.Fatal(err)
	}
	MustWait(t, s)
	if diff := cmp.Diff([]string{"on_change"}, eventsFor(s, from, name)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}

	r := st.call(t, "POST", "/api/resource/Webhook", nil, map[string]any{"name": "bad", "webhook_doctype": "Sales Order", "webhook_docevent": "on_update",
		"request_url": rc.srv.URL, "condition": "doc.status =="})
	if r.Status != 417 || !strings.Contains(string(r.Raw), "Invalid Condition") {
		t.Errorf("syntax error in condition: %d %s", r.Status, r.Raw)
	}
	MustWebhook(t, s, "breaks", "Sales Order", "on_change", rc.srv.URL+"/b", map[string]any{"condition": `doc.po_no == "boom" and doc.no_such_field`})
	r = st.call(t, "PUT", "/api/resource/Sales Order/"+name, nil, map[string]any{"po_no": "boom"})
	if r.Status != 500 || excType(r) != "AttributeError" {
		t.Errorf("broken condition must fail the save: %d %s", r.Status, r.Raw)
	}
	got, _ := s.Get("Sales Order", name)
	if got["po_no"] != "theirs" {
		t.Errorf("failed save was stored: po_no %v", got["po_no"])
	}
}

// docs/erpnext.md#queueing-and-deduplication: nothing is sent unless the transaction commits; the last
// instance per (webhook, document) is kept.
func TestWebhookOnlyAfterCommit_Ref1_4(t *testing.T) {
	rc := MustReceiver(t)
	st := MustSite(t)
	s := st.Sandbox
	MustBasics(t, s)
	MustInsert(t, s, "Customer", map[string]any{"customer_name": "Bad"})
	MustWebhook(t, s, "first", "Sales Order", "on_update", rc.srv.URL+"/first", nil)
	MustWebhook(t, s, "second", "Sales Order", "on_update", rc.srv.URL+"/second", map[string]any{"condition": `doc.customer == "Bad" and doc.nope`})
	bad := soDoc(line("ITEM-A", 1, "Stores - WH", "2026-03-05"))
	bad["customer"] = "Bad"
	if r := st.call(t, "POST", "/api/resource/Sales Order", nil, bad); r.Status != 500 {
		t.Fatalf("want the second webhook's condition to fail the insert: %d %s", r.Status, r.Raw)
	}
	if r := st.call(t, "POST", "/api/resource/Sales Order", nil, soDoc(line("ITEM-A", 1, "Stores - WH", "2026-03-01"))); r.Status != 417 {
		t.Fatalf("want a validation failure: %d", r.Status)
	}
	MustWait(t, s)
	if n := len(rc.requests()); n != 0 {
		t.Fatalf("%d requests sent for rolled-back saves", n)
	}
	if rows, _ := s.List("Sales Order", nil, nil, "", 0); len(rows) != 0 {
		t.Errorf("rolled-back insert stored: %v", rows)
	}
	err := s.run(Administrator, func(tx *tx) error {
		tx.queue = []queuedHook{{webhook: "first", event: "on_update", doctype: "Webhook", docname: "first"},
			{webhook: "first", event: "on_change", doctype: "Webhook", docname: "first"},
			{webhook: "second", event: "on_update", doctype: "Webhook", docname: "first"}}
		jobs := tx.buildJobs(tx.queue)
		tx.queue = nil
		var got []string
		for _, j := range jobs {
			got = append(got, j.webhook.name()+"/"+j.event)
		}
		if diff := cmp.Diff([]string{"first/on_change", "second/on_update"}, got); diff != "" {
			t.Errorf("dedup (-want +got):\n%s", diff)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// docs/erpnext.md#timeouts-and-retries, #the-request-log: up to 3 attempts; failures sleep 1 s, 4 s, 7 s; a
// read timeout retries at once; a Webhook Request Log row per attempt.
func TestWebhookRetries_Ref1_8(t *testing.T) {
	tests := []struct {
		name       string
		status     func(n int) int
		client     *http.Client
		wantStatus []int
		wantSleeps []time.Duration
	}{
		{"always 500", func(int) int { return 500 }, nil, []int{500, 500, 500}, []time.Duration{time.Second, 4 * time.Second, 7 * time.Second}},
		{"fails once", func(n int) int {
			if n == 1 {
				return 503
			}
			return 200
		}, nil, []int{503, 200}, []time.Duration{time.Second}},
		{"4xx is retried too", func(int) int { return 401 }, nil, []int{401, 401, 401}, []time.Duration{time.Second, 4 * time.Second, 7 * time.Second}},
		{"read timeout retries at once", nil, &http.Client{Transport: timeoutTransport{}}, []int{0, 0, 0}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rc := MustReceiver(t)
			if tc.status != nil {
				rc.status = tc.status
			}
			opts := []Option{}
			if tc.client != nil {
				opts = append(opts, WithWebhookClient(tc.client))
			}
			st := MustSite(t, opts...)
			s := st.Sandbox
			MustWebhook(t, s, "cust", "Customer", "after_insert", rc.srv.URL+"/x", nil)
			MustInsert(t, s, "Customer", map[string]any{"customer_name": "Retry Me"})
			MustWait(t, s)
			var statuses []int
			for i, d := range s.WebhookDeliveries() {
				statuses = append(statuses, d.Status)
				if d.Attempt != i+1 || string(d.Body) != `{"name": "Retry Me", "docstatus": 0}` {
					t.Errorf("delivery %d: attempt %d body %s", i, d.Attempt, d.Body)
				}
			}
			if diff := cmp.Diff(tc.wantStatus, statuses); diff != "" {
				t.Errorf("attempts (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantSleeps, st.sleeps.all()); diff != "" {
				t.Errorf("sleeps (-want +got):\n%s", diff)
			}
			logs, err := s.List("Webhook Request Log", []string{"webhook", "reference_document", "error"}, nil, "creation asc", 0)
			if err != nil {
				t.Fatal(err)
			}
			if len(logs) != len(tc.wantStatus) {
				t.Errorf("%d request logs, want one per attempt (%d)", len(logs), len(tc.wantStatus))
			}
		})
	}
}

type timeoutTransport struct{}

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "read tcp: i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

var _ net.Error = timeoutErr{}

func (timeoutTransport) RoundTrip(*http.Request) (*http.Response, error) { return nil, timeoutErr{} }

// docs/erpnext.md#the-request-body: Jinja gotchas — `doc.items` is the dict method (the for
// fails: a log row, nothing sent); a None renders as the text None; no
// default Content-Type; no signature without enable_security.
func TestWebhookJinjaGotchas_Ref1_5(t *testing.T) {
	rc := MustReceiver(t)
	st := MustSite(t)
	s := st.Sandbox
	MustBasics(t, s)
	MustWebhook(t, s, "items-attr", "Sales Order", "after_insert", rc.srv.URL+"/bad", map[string]any{"request_structure": "JSON",
		"webhook_json": `{"lines": [{% for i in doc.items %}"{{ i.item_code }}"{% endfor %}]}`})
	MustWebhook(t, s, "none-text", "Sales Order", "after_insert", rc.srv.URL+"/none", map[string]any{"request_structure": "JSON",
		"webhook_json": `{"po": "{{ doc.po_no }}", "n": {{ doc["items"] | length }}, "q": {{ doc["items"][0].qty }}, "c": "{{ doc.customer }}"}`})
	MustInsert(t, s, "Sales Order", soDoc(line("ITEM-A", 2, "Stores - WH", "2026-03-05")))
	MustWait(t, s)
	reqs := rc.requests()
	if len(reqs) != 1 || reqs[0].Path != "/none" {
		t.Fatalf("requests %+v", reqs)
	}
	if want := `{"po": "None", "n": 1, "q": 2.0, "c": "Cust One"}`; string(reqs[0].Body) != want {
		t.Errorf("body %s, want %s", reqs[0].Body, want)
	}
	if ct := reqs[0].Header.Get("Content-Type"); ct != "" {
		t.Errorf("Content-Type %q, want none (docs/erpnext.md#headers)", ct)
	}
	if sig := reqs[0].Header.Get("X-Frappe-Webhook-Signature"); sig != "" {
		t.Errorf("signature without enable_security: %q", sig)
	}
	var failed *Delivery
	for _, d := range s.WebhookDeliveries() {
		if d.Webhook == "items-attr" {
			d := d
			failed = &d
		}
	}
	if failed == nil || failed.Attempt != 0 || !strings.Contains(failed.Err, "not iterable") {
		t.Fatalf("doc.items delivery: %+v", failed)
	}
	logs, _ := s.List("Webhook Request Log", []string{"webhook", "error"}, map[string]any{"webhook": "items-attr"}, "", 0)
	if len(logs) != 1 || !strings.Contains(logs[0]["error"].(string), "not iterable") {
		t.Errorf("request log %v", logs)
	}
}

func TestWaitForWebhooksHonoursContext(t *testing.T) {
	block := make(chan struct{})
	srv := MustReceiver(t)
	srv.status = func(int) int { <-block; return 200 }
	st := MustSite(t)
	MustWebhook(t, st.Sandbox, "slow", "Customer", "after_insert", srv.srv.URL, nil)
	MustInsert(t, st.Sandbox, "Customer", map[string]any{"customer_name": "Slow"})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := st.WaitForWebhooks(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want deadline exceeded", err)
	}
	close(block)
	MustWait(t, st.Sandbox)
}

// A Password field reads back as one asterisk per character, as Frappe's
// _save_passwords stores "*" * len(value) (a Python str: characters, not
// UTF-8 bytes).
func TestWebhookSecretIsMaskedPerCharacter(t *testing.T) {
	rc := MustReceiver(t)
	s := MustSite(t).Sandbox
	MustBasics(t, s)
	const secret = "pässwörd-ü"
	MustWebhook(t, s, "masked", "Customer", "after_insert", rc.srv.URL, map[string]any{
		"request_structure": "JSON", "webhook_json": `{"name": {{ doc.name | tojson }}}`,
		"enable_security": 1, "webhook_secret": secret})
	got, err := s.Get("Webhook", "masked")
	if err != nil {
		t.Fatal(err)
	}
	if want := strings.Repeat("*", 10); got["webhook_secret"] != want {
		t.Errorf("webhook_secret reads back as %q, want %q (one asterisk per character)", got["webhook_secret"], want)
	}
}

// flightReceiver answers webhooks after hold returns, counting the
// requests in flight at once.
type flightReceiver struct {
	srv            *httptest.Server
	mu             sync.Mutex
	inFlight, peak int
	names          []string
}

func newFlightReceiver(t *testing.T, hold func(name string, inFlight int)) *flightReceiver {
	t.Helper()
	fr := &flightReceiver{}
	fr.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var doc struct {
			Name string `json:"name"`
		}
		_ = json.Unmarshal(b, &doc)
		fr.mu.Lock()
		fr.inFlight++
		fr.peak = max(fr.peak, fr.inFlight)
		fr.names = append(fr.names, doc.Name)
		n := fr.inFlight
		fr.mu.Unlock()
		hold(doc.Name, n)
		fr.mu.Lock()
		fr.inFlight--
		fr.mu.Unlock()
	}))
	t.Cleanup(fr.srv.Close)
	return fr
}

func (fr *flightReceiver) peakInFlight() int {
	fr.mu.Lock()
	defer fr.mu.Unlock()
	return fr.peak
}

// WithWebhookWorkers(n): n deliveries are in flight at once and never
// more, and every one is made; with the default, one at a time.
func TestWebhookWorkersInFlight(t *testing.T) {
	for _, workers := range []int{1, 3} {
		t.Run(strconv.Itoa(workers), func(t *testing.T) {
			full := make(chan struct{})
			var once sync.Once
			fr := newFlightReceiver(t, func(_ string, inFlight int) {
				if inFlight == workers {
					once.Do(func() { close(full) })
				}
				select { // until every worker holds a delivery (a guard, not a timing)
				case <-full:
				case <-time.After(10 * time.Second):
				}
			})
			s := MustSite(t, WithWebhookWorkers(workers)).Sandbox
			MustWebhook(t, s, "cust", "Customer", "after_insert", fr.srv.URL, map[string]any{
				"request_structure": "JSON", "webhook_json": `{"name": {{ doc.name | tojson }}}`})
			var want []string
			for i := range 2 * workers {
				name := fmt.Sprintf("Customer %d", i)
				MustInsert(t, s, "Customer", map[string]any{"customer_name": name})
				want = append(want, name)
			}
			MustWait(t, s)
			if got := fr.peakInFlight(); got != workers {
				t.Errorf("%d deliveries in flight at once, want %d", got, workers)
			}
			var got []string
			for _, d := range s.WebhookDeliveries() {
				if d.Status != http.StatusOK || d.Attempt != 1 {
					t.Errorf("delivery %s: status %d attempt %d", d.DocName, d.Status, d.Attempt)
				}
				got = append(got, d.DocName)
			}
			sort.Strings(got)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("deliveries (-want +got):\n%s", diff)
			}
		})
	}
}

// With two workers a later job can finish first: the first save's
// delivery is held until the second's is made, and both are made. With one
// worker the second waits for the first.
func TestWebhookWorkersOutOfOrder(t *testing.T) {
	for _, tc := range []struct {
		workers int
		guard   time.Duration // how long First is held at most
		want    []string
	}{
		{1, 200 * time.Millisecond, []string{"First", "Second"}},
		{2, 10 * time.Second, []string{"Second", "First"}},
	} {
		t.Run(strconv.Itoa(tc.workers), func(t *testing.T) {
			var s *Sandbox
			secondDone := func() bool {
				for _, d := range s.WebhookDeliveries() {
					if d.DocName == "Second" {
						return true
					}
				}
				return false
			}
			fr := newFlightReceiver(t, func(name string, _ int) {
				if name != "First" {
					return
				}
				// One worker never sends Second while First is held: give up
				// after a while (a guard, not a timing).
				for deadline := time.Now().Add(tc.guard); !secondDone() && time.Now().Before(deadline); {
					time.Sleep(time.Millisecond)
				}
			})
			s = MustSite(t, WithWebhookWorkers(tc.workers)).Sandbox
			MustWebhook(t, s, "cust", "Customer", "after_insert", fr.srv.URL, map[string]any{
				"request_structure": "JSON", "webhook_json": `{"name": {{ doc.name | tojson }}}`})
			MustInsert(t, s, "Customer", map[string]any{"customer_name": "First"})
			MustInsert(t, s, "Customer", map[string]any{"customer_name": "Second"})
			MustWait(t, s)
			var got []string
			for _, d := range s.WebhookDeliveries() {
				got = append(got, d.DocName)
				if d.Queued.IsZero() || d.Sent.Before(d.Queued) || d.Answered.Before(d.Sent) {
					t.Errorf("delivery %s: queued %v sent %v answered %v", d.DocName, d.Queued, d.Sent, d.Answered)
				}
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("deliveries in the order made (-want +got):\n%s", diff)
			}
		})
	}
}
