package sandbox

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// Knobs: latency, injected errors, scripted failures, counters and clock.
func TestKnobs(t *testing.T) {
	st := MustSite(t, WithDemoData())
	t.Run("latency", func(t *testing.T) {
		st.SetLatency(30 * time.Millisecond)
		defer st.SetLatency(0)
		start := time.Now()
		st.call(t, "GET", "/api/method/ping", nil, nil)
		if d := time.Since(start); d < 30*time.Millisecond {
			t.Errorf("request took %v, want ≥ 30ms", d)
		}
	})
	t.Run("inject errors every Nth", func(t *testing.T) {
		st.InjectErrors(0.5, http.StatusServiceUnavailable)
		var got []int
		for i := 0; i < 4; i++ {
			got = append(got, st.call(t, "GET", "/api/resource/Item", nil, nil).Status)
		}
		st.InjectErrors(0, 0)
		if diff := cmp.Diff([]int{200, 503, 200, 503}, got); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
		if r := st.call(t, "GET", "/api/resource/Item", nil, nil); r.Status != 200 {
			t.Errorf("rate 0 must turn it off: %d", r.Status)
		}
	})
	t.Run("fail next with headers and a non-JSON body", func(t *testing.T) {
		st.FailNext(2, http.StatusTooManyRequests, "slow down", http.Header{"Retry-After": {"3"}})
		r1 := st.call(t, "GET", "/api/resource/Bin", nil, nil)
		r2 := st.call(t, "GET", "/api/resource/Bin", nil, nil)
		r3 := st.call(t, "GET", "/api/resource/Bin", nil, nil)
		if r1.Status != 429 || string(r1.Raw) != "slow down" || r1.Header.Get("Retry-After") != "3" || r2.Status != 429 || r3.Status != 200 {
			t.Errorf("got %d %q %q, %d, %d", r1.Status, r1.Raw, r1.Header.Get("Retry-After"), r2.Status, r3.Status)
		}
		st.FailNext(1, http.StatusBadGateway, "<html>502 Bad Gateway</html>", nil)
		if r := st.call(t, "PUT", "/api/resource/Sales Order/x", nil, map[string]any{}); r.Status != 502 || r.Body != nil {
			t.Errorf("proxy 502: %d %s", r.Status, r.Raw)
		}
	})
	t.Run("fail next on one route", func(t *testing.T) {
		st.FailNextOn("POST /api/resource/Comment", 1, http.StatusTooManyRequests, "slow down", http.Header{"Retry-After": {"1"}})
		if r := st.call(t, "GET", "/api/resource/Bin", nil, nil); r.Status != 200 {
			t.Errorf("another route: %d, want 200", r.Status)
		}
		comment := map[string]any{"comment_type": "Comment", "reference_doctype": "Sales Order", "reference_name": st.Demo().DraftSO, "content": "x"}
		r1 := st.call(t, "POST", "/api/resource/Comment", nil, comment)
		r2 := st.call(t, "POST", "/api/resource/Comment", nil, comment)
		if r1.Status != 429 || r1.Header.Get("Retry-After") != "1" || r2.Status != 200 {
			t.Errorf("got %d %q, then %d; want 429 with Retry-After, then 200", r1.Status, r1.Header.Get("Retry-After"), r2.Status)
		}
	})
	t.Run("counters", func(t *testing.T) {
		st.ResetCounters()
		st.call(t, "GET", "/api/resource/Bin", nil, nil)
		st.call(t, "GET", "/api/resource/Sales Order/"+st.Demo().DraftSO, nil, nil)
		st.call(t, "GET", "/api/v1/resource/Sales Order/"+st.Demo().DraftSO2, nil, nil)
		st.call(t, "POST", "/api/method/frappe.client.get_list", nil, map[string]any{"doctype": "Item"})
		want := map[string]int{"GET /api/resource/Bin": 1, "GET /api/resource/Sales Order": 2, "POST /api/method/frappe.client.get_list": 1}
		if diff := cmp.Diff(want, st.RequestCounts()); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
		if st.Requests("GET /api/resource/Sales Order") != 2 || st.TotalRequests() != 4 {
			t.Errorf("Requests %d Total %d", st.Requests("GET /api/resource/Sales Order"), st.TotalRequests())
		}
	})
	t.Run("clock drives modified, today and naming", func(t *testing.T) {
		st.SetNow(time.Date(2027, 1, 4, 15, 30, 0, 0, time.UTC))
		defer st.SetNow(pinned)
		so := MustInsert(t, st.Sandbox, "Sales Order", map[string]any{"customer": DemoCustomer, "company": DemoCompany,
			"items": []any{map[string]any{"item_code": "SKU-010", "qty": 1, "warehouse": DemoStores, "delivery_date": "2027-01-08"}}})
		got := []any{so["name"], so["transaction_date"], so["modified"]}
		if diff := cmp.Diff([]any{"SAL-ORD-2027-00001", "2027-01-04", "2027-01-04 15:30:00"}, got); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})
}

// FailAfterCommit: the write is saved (and its webhooks queued), and
// then the answer is a 500, or no answer until the client gives up;
// requests of other routes go through untouched.
func TestFailAfterCommit(t *testing.T) {
	st := MustSite(t, WithDemoData())
	so := st.Demo().DraftSO
	path := "/api/resource/Sales Order/" + so
	poNo := func() string {
		t.Helper()
		doc, err := st.Get("Sales Order", so)
		if err != nil {
			t.Fatal(err)
		}
		s, _ := doc["po_no"].(string)
		return s
	}

	t.Run("500 after the commit", func(t *testing.T) {
		st.FailAfterCommit(1, "PUT /api/resource/Sales Order", http.StatusInternalServerError)
		if r := st.call(t, "GET", path, nil, nil); r.Status != 200 {
			t.Fatalf("a GET is not the PUT route: %d", r.Status)
		}
		r := st.call(t, "PUT", path, nil, map[string]any{"po_no": "first"})
		if r.Status != 500 || r.Body["exc_type"] == nil {
			t.Errorf("PUT answered %d %s, want 500 with Frappe's error body", r.Status, r.Raw)
		}
		if got := poNo(); got != "first" {
			t.Errorf("po_no after the failed answer = %q, want the committed %q", got, "first")
		}
		if r := st.call(t, "PUT", path, nil, map[string]any{"po_no": "second"}); r.Status != 200 {
			t.Errorf("the next PUT: %d, want 200 (n was 1)", r.Status)
		}
		if got := st.FaultCounts()["commit then status 500"]; got != 1 {
			t.Errorf("FaultCounts = %v, want one commit then status 500", st.FaultCounts())
		}
		st.FailAfterCommit(1, "PUT /api/resource/Sales Order", 500)
		st.FailNext(1, 502, "", nil)
		st.ClearFaults()
		if r := st.call(t, "PUT", path, nil, map[string]any{"po_no": "second"}); r.Status != 200 {
			t.Errorf("a PUT after ClearFaults: %d, want 200", r.Status)
		}
	})

	t.Run("no answer after the commit", func(t *testing.T) {
		st.FailAfterCommit(1, "PUT /api/resource/Sales Order", 0)
		req, err := http.NewRequest("PUT", st.srv.URL+escapePath(path), strings.NewReader(`{"po_no":"third"}`))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", st.AuthHeader())
		req.Header.Set("Content-Type", "application/json")
		start := time.Now()
		res, err := (&http.Client{Timeout: 200 * time.Millisecond}).Do(req)
		if err == nil {
			res.Body.Close()
			t.Fatalf("PUT answered %d, want a client timeout", res.StatusCode)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("the client gave up after %v", d)
		}
		if got := poNo(); got != "third" {
			t.Errorf("po_no after the timeout = %q, want the committed %q", got, "third")
		}
	})
}
