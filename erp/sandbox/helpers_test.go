package sandbox

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// pinned is the tests' clock: Monday 2 March 2026, 09:00 UTC.
var pinned = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// site is a sandbox served over real HTTP with a client for the API user.
type site struct {
	*Sandbox
	srv    *httptest.Server
	sleeps *sleepRecorder
}

type sleepRecorder struct {
	mu     sync.Mutex
	sleeps []time.Duration
}

func (r *sleepRecorder) sleep(ctx context.Context, d time.Duration) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sleeps = append(r.sleeps, d)
	return ctx.Err()
}

func (r *sleepRecorder) all() []time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]time.Duration(nil), r.sleeps...)
}

// MustSite starts a sandbox (pinned clock, instant webhook sleeps) behind
// httptest.NewServer and closes both when the test ends.
func MustSite(tb testing.TB, opts ...Option) *site {
	tb.Helper()
	rec := &sleepRecorder{}
	all := append([]Option{WithClock(func() time.Time { return pinned }), WithWebhookSleep(rec.sleep)}, opts...)
	s := New(all...)
	srv := httptest.NewServer(s)
	tb.Cleanup(func() {
		srv.Close()
		if err := s.Close(); err != nil {
			tb.Errorf("Close: %v", err)
		}
	})
	return &site{Sandbox: s, srv: srv, sleeps: rec}
}

// resp is a decoded response.
type resp struct {
	Status int
	Body   map[string]any
	Raw    []byte
	Header http.Header
}

// call sends one request as the API user. body, when not nil, is sent as
// JSON; query values go in the URL.
func (st *site) call(tb testing.TB, method, path string, query url.Values, body any) resp {
	tb.Helper()
	return st.callAuth(tb, st.AuthHeader(), method, path, query, body)
}

func (st *site) callAuth(tb testing.TB, auth, method, path string, query url.Values, body any) resp {
	tb.Helper()
	u := st.srv.URL + escapePath(path)
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	var rd io.Reader
	if m, ok := body.(map[string]any); ok && m == nil {
		body = nil
	}
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			tb.Fatalf("marshal: %v", err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, u, rd)
	if err != nil {
		tb.Fatalf("request: %v", err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	out := resp{Status: res.StatusCode, Raw: raw, Header: res.Header}
	_ = json.Unmarshal(raw, &out.Body)
	return out
}

// escapePath escapes each segment ("Sales Order" → "Sales%20Order").
func escapePath(p string) string {
	segs := strings.Split(p, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return strings.Join(segs, "/")
}

func q(kv ...string) url.Values {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	return v
}

func jsonText(tb testing.TB, v any) string {
	tb.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		tb.Fatal(err)
	}
	return string(b)
}

// MustInsert inserts in process and fails the test on error.
func MustInsert(tb testing.TB, s *Sandbox, doctype string, doc map[string]any) map[string]any {
	tb.Helper()
	d, err := s.Insert(doctype, doc)
	if err != nil {
		tb.Fatalf("insert %s: %v", doctype, err)
	}
	return d
}

// MustBasics creates a company (abbr "WH"), its Stores warehouse, a
// customer, a supplier and stock items ITEM-A (Nos, Box of 6) and ITEM-B.
func MustBasics(tb testing.TB, s *Sandbox) {
	tb.Helper()
	MustInsert(tb, s, "Company", map[string]any{"company_name": "Test Co", "abbr": "WH"})
	MustInsert(tb, s, "Warehouse", map[string]any{"warehouse_name": "All Warehouses", "company": "Test Co", "is_group": 1})
	MustInsert(tb, s, "Warehouse", map[string]any{"warehouse_name": "Stores", "company": "Test Co", "parent_warehouse": "All Warehouses - WH"})
	MustInsert(tb, s, "Warehouse", map[string]any{"warehouse_name": "Stores East", "company": "Test Co", "parent_warehouse": "All Warehouses - WH"})
	MustInsert(tb, s, "Customer", map[string]any{"customer_name": "Cust One"})
	MustInsert(tb, s, "Supplier", map[string]any{"supplier_name": "Supp One"})
	MustInsert(tb, s, "Item", map[string]any{"item_code": "ITEM-A", "stock_uom": "Nos", "lead_time_days": 3,
		"uoms": []any{map[string]any{"uom": "Box", "conversion_factor": 6}}})
	MustInsert(tb, s, "Item", map[string]any{"item_code": "ITEM-B", "stock_uom": "Nos"})
	MustInsert(tb, s, "Item", map[string]any{"item_code": "SERVICE", "stock_uom": "Nos", "is_stock_item": 0})
}

// soDoc is a Sales Order body for Test Co.
func soDoc(lines ...map[string]any) map[string]any {
	rows := make([]any, len(lines))
	for i, l := range lines {
		rows[i] = l
	}
	return map[string]any{"customer": "Cust One", "company": "Test Co", "transaction_date": "2026-03-02", "items": rows}
}

func line(item string, qty float64, wh, date string) map[string]any {
	m := map[string]any{"item_code": item, "qty": qty, "warehouse": wh}
	if date != "" {
		m["delivery_date"] = date
	}
	return m
}

// excType decodes an error body's exception class.
func excType(r resp) string {
	s, _ := r.Body["exc_type"].(string)
	return s
}

// serverMessages decodes _server_messages: a JSON string holding a list of
// JSON strings (docs/erpnext.md#errors).
func serverMessages(tb testing.TB, r resp) []map[string]any {
	tb.Helper()
	raw, ok := r.Body["_server_messages"].(string)
	if !ok {
		return nil
	}
	var list []string
	if err := json.Unmarshal([]byte(raw), &list); err != nil {
		tb.Fatalf("_server_messages is not a JSON list of strings: %v (%s)", err, raw)
	}
	var out []map[string]any
	for _, s := range list {
		var m map[string]any
		if err := json.Unmarshal([]byte(s), &m); err != nil {
			tb.Fatalf("_server_messages entry is not JSON: %v (%s)", err, s)
		}
		out = append(out, m)
	}
	return out
}

func num(v any) float64 {
	f, _ := v.(float64)
	return f
}

// receiver is an httptest server recording webhook requests.
type receiver struct {
	srv    *httptest.Server
	mu     sync.Mutex
	got    []recorded
	status func(n int) int // status for the n-th request (1-based)
}

type recorded struct {
	Method string
	Path   string
	Header http.Header
	Body   []byte
}

func MustReceiver(tb testing.TB) *receiver {
	tb.Helper()
	rc := &receiver{status: func(int) int { return http.StatusOK }}
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		rc.got = append(rc.got, recorded{Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone(), Body: b})
		n := len(rc.got)
		st := rc.status(n)
		rc.mu.Unlock()
		w.WriteHeader(st)
		_, _ = w.Write([]byte(`{"ok":true}`))
	}))
	tb.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) requests() []recorded {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]recorded(nil), rc.got...)
}

// MustWebhook creates a webhook on doctype/event posting to url+path.
func MustWebhook(tb testing.TB, s *Sandbox, name, doctype, event, u string, extra map[string]any) {
	tb.Helper()
	doc := map[string]any{"name": name, "webhook_doctype": doctype, "webhook_docevent": event, "request_url": u,
		"request_structure": "Form URL-Encoded",
		"webhook_data":      []any{map[string]any{"fieldname": "name", "key": "name"}, map[string]any{"fieldname": "docstatus", "key": "docstatus"}}}
	for k, v := range extra {
		doc[k] = v
	}
	MustInsert(tb, s, "Webhook", doc)
}

func MustWait(tb testing.TB, s *Sandbox) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.WaitForWebhooks(ctx); err != nil {
		tb.Fatalf("WaitForWebhooks: %v", err)
	}
}

func jsonDecode(r io.Reader, v any) error { return json.NewDecoder(r).Decode(v) }

func asError(err error, target **Error) bool { return errors.As(err, target) }
