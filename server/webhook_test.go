package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/erpnext-otp/otp/tasks"
)

// acceptedBody is the answer to a webhook that is (or already was) queued.
type acceptedBody struct {
	Status string `json:"status"` // "queued" or "duplicate"
	TaskID string `json:"task_id,omitempty"`
}

// The fixtures' order and its `modified` (testdata/frappe-webhook).
const (
	fixtureOrder    = "SAL-ORD-2025-00042"
	fixtureModified = "2025-03-03 10:15:42.123456"
)

// Each recorded Frappe delivery (v15 JSON, develop JSON, v15 "Form
// URL-Encoded" whose body is JSON anyway, docs/erpnext.md#the-request-body) is
// accepted with 202 and queues exactly one promise task.
func TestFixturesAreQueued(t *testing.T) {
	wantID := tasks.PromiseOrderID(fixtureOrder, fixtureModified)
	for _, f := range MustFixtures(t) {
		t.Run(f.name, func(t *testing.T) {
			e := MustEnv(t, nil)
			rec := e.do(t, f.request())
			if rec.Code != http.StatusAccepted {
				t.Fatalf("status = %d %s, want 202", rec.Code, rec.Body)
			}
			got := decode[acceptedBody](t, rec)
			if diff := cmp.Diff(acceptedBody{Status: "queued", TaskID: wantID}, got); diff != "" {
				t.Errorf("body (-want +got):\n%s", diff)
			}
			infos := e.pending(t, tasks.QueuePromise)
			if len(infos) != 1 {
				t.Fatalf("pending promise tasks = %d, want 1", len(infos))
			}
			p, err := tasks.DecodePromiseOrder(asyncTask(infos[0]))
			if err != nil {
				t.Fatal(err)
			}
			want := tasks.PromiseOrder{SalesOrder: fixtureOrder, Modified: fixtureModified, Event: "on_submit"}
			if len(p.RequestID) != 32 {
				t.Errorf("request_id %q, want a generated one", p.RequestID)
			}
			want.RequestID = p.RequestID
			if diff := cmp.Diff(want, p); diff != "" {
				t.Errorf("payload (-want +got):\n%s", diff)
			}
			if infos[0].ID != wantID || infos[0].Type != tasks.TypePromiseOrder {
				t.Errorf("task = %s %s, want %s %s", infos[0].Type, infos[0].ID, tasks.TypePromiseOrder, wantID)
			}
		})
	}
}

// The three fixtures are the same save in three formats: one task, the
// later deliveries answered 200 "duplicate" with the same task id.
func TestSameSaveTwiceIsOneTask(t *testing.T) {
	e := MustEnv(t, nil)
	wantID := tasks.PromiseOrderID(fixtureOrder, fixtureModified)
	var got []int
	for i, f := range append(MustFixtures(t), MustFixtures(t)[0]) {
		rec := e.do(t, f.request())
		got = append(got, rec.Code)
		b := decode[acceptedBody](t, rec)
		if b.TaskID != wantID {
			t.Errorf("delivery %d: task_id = %q, want %q", i, b.TaskID, wantID)
		}
		if i > 0 && b.Status != "duplicate" {
			t.Errorf("delivery %d: status = %q, want duplicate", i, b.Status)
		}
	}
	if diff := cmp.Diff([]int{202, 200, 200, 200}, got); diff != "" {
		t.Errorf("statuses (-want +got):\n%s", diff)
	}
	if n := len(e.pending(t, tasks.QueuePromise)); n != 1 {
		t.Errorf("pending promise tasks = %d, want 1", n)
	}
}

// A burst of saves arriving out of order: each version is queued, and the
// newest is recorded, so the worker promises only that one.
func TestBurstRecordsNewestVersion(t *testing.T) {
	e := MustEnv(t, nil)
	versions := []string{"2026-11-25 10:00:01", "2026-11-25 10:00:03.5", "2026-11-25 10:00:02.999999"}
	for _, m := range versions {
		rec := e.post(t, "/webhooks/erpnext/sales-order", []byte(`{"name":"SAL-ORD-2026-00001","modified":"`+m+`"}`))
		if rec.Code != http.StatusAccepted {
			t.Fatalf("modified %s: status %d %s", m, rec.Code, rec.Body)
		}
	}
	if n := len(e.pending(t, tasks.QueuePromise)); n != 3 {
		t.Errorf("pending = %d, want 3 (one per version)", n)
	}
	ctx := t.Context()
	got := map[string]bool{}
	for _, m := range versions {
		sup, err := e.versions.Superseded(ctx, "SAL-ORD-2026-00001", m)
		if err != nil {
			t.Fatal(err)
		}
		got[m] = sup
	}
	want := map[string]bool{versions[0]: true, versions[1]: false, versions[2]: true}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Superseded (-want +got):\n%s", diff)
	}
}

func TestSignature(t *testing.T) {
	body := MustFixtures(t)[0].body
	tests := []struct {
		name   string
		header string // "" sends none
		want   string
	}{
		{"missing", "", "missing X-Frappe-Webhook-Signature header"},
		{"wrong secret", sign("not-the-secret", body), "bad X-Frappe-Webhook-Signature"},
		{"other body", sign(secret, append([]byte(" "), body...)), "bad X-Frappe-Webhook-Signature"},
		{"hex of the right HMAC", hexMAC(secret, body), "bad X-Frappe-Webhook-Signature"},
		{"GitHub style prefix", "sha256=" + sign(secret, body), "X-Frappe-Webhook-Signature is not base64"},
		{"truncated", sign(secret, body)[:21], "X-Frappe-Webhook-Signature is not base64"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := MustEnv(t, nil)
			req := httptest.NewRequest(http.MethodPost, "/webhooks/erpnext/sales-order", bytes.NewReader(body))
			if tt.header != "" {
				req.Header.Set(SignatureHeader, tt.header)
			}
			rec := e.do(t, req)
			if rec.Code != http.StatusUnauthorized {
				t.Fatalf("status = %d, want 401", rec.Code)
			}
			if got := decode[errBody](t, rec).Error; got != tt.want {
				t.Errorf("error = %q, want %q", got, tt.want)
			}
			if n := len(e.pending(t, tasks.QueuePromise)); n != 0 {
				t.Errorf("pending = %d, want 0", n)
			}
		})
	}
}

func TestBodySizeLimit(t *testing.T) {
	// A valid delivery padded with whitespace to exactly the limit is taken;
	// one byte more is refused before it is parsed.
	base := []byte(`{"name":"SAL-ORD-2026-00001","modified":"2026-11-25 10:00:00"}`)
	exact := append(append([]byte{}, base...), bytes.Repeat([]byte(" "), MaxBodyBytes-len(base))...)
	tests := []struct {
		name string
		body []byte
		want int
	}{
		{"exactly 1 MiB", exact, http.StatusAccepted},
		{"1 MiB + 1", append(exact, ' '), http.StatusRequestEntityTooLarge},
		{"8 MiB", bytes.Repeat([]byte("x"), 8<<20), http.StatusRequestEntityTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := MustEnv(t, nil)
			rec := e.post(t, "/webhooks/erpnext/sales-order", tt.body)
			if rec.Code != tt.want {
				t.Fatalf("status = %d %s, want %d", rec.Code, rec.Body, tt.want)
			}
			if tt.want == http.StatusRequestEntityTooLarge {
				b := decode[errBody](t, rec)
				if b.Error != "request body too large" || b.Detail["limit_bytes"] != float64(MaxBodyBytes) {
					t.Errorf("body = %+v", b)
				}
				if n := len(e.pending(t, tasks.QueuePromise)); n != 0 {
					t.Errorf("pending = %d, want 0", n)
				}
			}
		})
	}
}

func TestMalformedBody(t *testing.T) {
	tests := []struct {
		name string
		body string
		want string // substring of the error
	}{
		{"empty", "", "empty body"},
		{"whitespace", "  \n", "empty body"},
		{"truncated JSON", `{"name": "SAL-ORD-1"`, "malformed JSON"},
		{"form encoding", `name=SAL-ORD-1&modified=x`, "malformed JSON"},
		{"array", `[{"name":"SAL-ORD-1"}]`, "body is not a JSON object"},
		{"string", `"SAL-ORD-1"`, "body is not a JSON object"},
		{"name missing", `{"customer": "Caf\u00e9 Dupont", "modified": "2025-03-03 10:15:42"}`, "field name is required"},
		{"name null", `{"name": null}`, "field name is required"},
		{"name blank", `{"name": "  "}`, "field name is required"},
		{"name a number", `{"name": 42}`, "field name: want string, got number"},
		{"modified not a timestamp", `{"name": "SAL-ORD-1", "modified": "yesterday"}`, "field modified: want YYYY-MM-DD HH:MM:SS[.ffffff]"},
		{"modified a number", `{"name": "SAL-ORD-1", "modified": 1735000000}`, "field modified: want string, got number"},
		{"wrong doctype", `{"doctype": "Purchase Order", "name": "PUR-ORD-1"}`, "field doctype: this receiver takes Sales Order, got Purchase Order"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := MustEnv(t, nil)
			rec := e.post(t, "/webhooks/erpnext/sales-order", []byte(tt.body))
			if rec.Code != http.StatusBadRequest {
				t.Fatalf("status = %d %s, want 400", rec.Code, rec.Body)
			}
			if got := decode[errBody](t, rec).Error; !strings.Contains(got, tt.want) {
				t.Errorf("error = %q, want it to contain %q", got, tt.want)
			}
			if n := len(e.pending(t, tasks.QueuePromise)); n != 0 {
				t.Errorf("pending = %d, want 0", n)
			}
		})
	}
}

// Frappe's shapes that must be tolerated: unknown keys, nulls, child rows
// in full, Content-Type lying about the encoding.
func TestTolerantBody(t *testing.T) {
	e := MustEnv(t, nil)
	body := []byte(`{"name": "SAL-ORD-2026-00007", "modified": "2026-11-25 10:00:00", "docstatus": 1, "status": null,
		"set_warehouse": null, "items": [{"parent": "SAL-ORD-2026-00007", "item_code": "W-1", "qty": 1.0, "delivery_date": null}, "odd"],
		"custom_otp_promise_date": null, "extra": {"nested": [1, 2]}}`)
	req := httptest.NewRequest(http.MethodPost, "/webhooks/erpnext/sales-order", bytes.NewReader(body))
	req.Header.Set(SignatureHeader, sign(secret, body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := e.do(t, req)
	if rec.Code != http.StatusAccepted {
		t.Fatalf("status = %d %s, want 202", rec.Code, rec.Body)
	}
}

// Without `modified` a delivery cannot be deduplicated; each one is queued
// so no save is lost, and nothing is recorded as a version.
func TestDeliveryWithoutModified(t *testing.T) {
	e := MustEnv(t, nil)
	body := []byte(`{"name": "SAL-ORD-2026-00009"}`)
	first := decode[acceptedBody](t, e.post(t, "/webhooks/erpnext/sales-order", body))
	e.clock.Advance(1)
	rec := e.post(t, "/webhooks/erpnext/sales-order", body)
	second := decode[acceptedBody](t, rec)
	if rec.Code != http.StatusAccepted || first.TaskID == second.TaskID || first.TaskID == "" {
		t.Errorf("second delivery: %d, ids %q and %q; want 202 and two ids", rec.Code, first.TaskID, second.TaskID)
	}
	if n := len(e.pending(t, tasks.QueuePromise)); n != 2 {
		t.Errorf("pending = %d, want 2", n)
	}
}

// A supply document's deliveries without `modified` are each queued too: the
// second save of a Purchase Order is not a duplicate of the first, or the
// orders it moves would not be re-promised until tasks.Retention passed.
func TestSupplyDeliveryWithoutModified(t *testing.T) {
	e := MustEnv(t, nil)
	body := []byte(`{"doctype": "Purchase Order", "name": "PUR-ORD-2026-00001", "items": [{"item_code": "W-1"}]}`)
	var codes []int
	var ids []string
	for range 2 {
		rec := e.post(t, "/webhooks/erpnext/purchase-order?event=on_change", body)
		codes = append(codes, rec.Code)
		ids = append(ids, decode[acceptedBody](t, rec).TaskID)
		e.clock.Advance(1)
	}
	if diff := cmp.Diff([]int{http.StatusAccepted, http.StatusAccepted}, codes); diff != "" {
		t.Errorf("statuses (-want +got):\n%s", diff)
	}
	infos := e.pending(t, tasks.QueueSupply)
	var queued []string
	for _, info := range infos {
		queued = append(queued, info.ID)
	}
	if len(infos) != 2 || ids[0] == ids[1] || !slices.Contains(queued, ids[0]) || !slices.Contains(queued, ids[1]) {
		t.Errorf("answered ids %q, queued %q; want two distinct ids, both queued", ids, queued)
	}
	for _, info := range infos {
		got, err := tasks.DecodeSupplyChanged(asyncTask(info))
		if err != nil {
			t.Fatal(err)
		}
		want := tasks.SupplyChanged{DocType: "Purchase Order", Name: "PUR-ORD-2026-00001", Event: "on_change", Items: []string{"W-1"}}
		want.RequestID = got.RequestID // generated per delivery
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("payload (-want +got):\n%s", diff)
		}
	}
}

func TestRedisDownIs503(t *testing.T) {
	e := MustEnv(t, nil)
	e.mr.Close()
	rec := e.post(t, "/webhooks/erpnext/sales-order", MustFixtures(t)[0].body)
	if rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("status = %d %s, want 503", rec.Code, rec.Body)
	}
	if got := decode[errBody](t, rec).Error; got != "queue unavailable" {
		t.Errorf("error = %q", got)
	}
}

func TestUnsignedWhenNoSecret(t *testing.T) {
	e := MustEnv(t, func(d *Deps) { d.WebhookSecret = "" })
	req := httptest.NewRequest(http.MethodPost, "/webhooks/erpnext/sales-order", strings.NewReader(`{"name":"SAL-ORD-2026-00001","modified":"2026-11-25 10:00:00"}`))
	if rec := e.do(t, req); rec.Code != http.StatusAccepted {
		t.Fatalf("status = %d %s, want 202", rec.Code, rec.Body)
	}
}

func TestProductionRequiresSecret(t *testing.T) {
	e := MustEnv(t, nil)
	d := e.srv.deps
	d.Production, d.WebhookSecret = true, ""
	if _, err := New(d); err != ErrNoWebhookSecret {
		t.Errorf("New = %v, want ErrNoWebhookSecret", err)
	}
}

func TestSupplyWebhooks(t *testing.T) {
	tests := []struct {
		slug, doctype string
	}{
		{"purchase-order", "Purchase Order"},
		{"purchase-receipt", "Purchase Receipt"},
		{"delivery-note", "Delivery Note"},
		{"stock-entry", "Stock Entry"},
	}
	for _, tt := range tests {
		t.Run(tt.slug, func(t *testing.T) {
			e := MustEnv(t, nil)
			body := []byte(`{"doctype": "` + tt.doctype + `", "name": "DOC-0001", "modified": "2026-11-25 10:00:00",
				"items": [{"item_code": "W-2"}, {"item_code": "W-1"}, {"item_code": "W-2"}, {"qty": 1}]}`)
			rec := e.post(t, "/webhooks/erpnext/"+tt.slug+"?event=on_submit", body)
			if rec.Code != http.StatusAccepted {
				t.Fatalf("status = %d %s, want 202", rec.Code, rec.Body)
			}
			infos := e.pending(t, tasks.QueueSupply)
			if len(infos) != 1 {
				t.Fatalf("pending supply tasks = %d, want 1", len(infos))
			}
			if got := decode[acceptedBody](t, rec); got.TaskID != infos[0].ID {
				t.Errorf("task_id = %q, queued %q", got.TaskID, infos[0].ID)
			}
			got, err := tasks.DecodeSupplyChanged(asyncTask(infos[0]))
			if err != nil {
				t.Fatal(err)
			}
			want := tasks.SupplyChanged{DocType: tt.doctype, Name: "DOC-0001", Modified: "2026-11-25 10:00:00", Event: "on_submit", Items: []string{"W-1", "W-2"}}
			want.RequestID = got.RequestID // generated per delivery
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("payload (-want +got):\n%s", diff)
			}
			again := e.post(t, "/webhooks/erpnext/"+tt.slug+"?event=on_submit", body)
			wantAgain := acceptedBody{Status: "duplicate", TaskID: infos[0].ID}
			if diff := cmp.Diff(wantAgain, decode[acceptedBody](t, again)); again.Code != http.StatusOK || diff != "" {
				t.Errorf("second delivery: status %d, want 200; body (-want +got):\n%s", again.Code, diff)
			}
		})
	}
}

func TestUnknownReceiverIs404(t *testing.T) {
	e := MustEnv(t, nil)
	rec := e.post(t, "/webhooks/erpnext/journal-entry", []byte(`{"name":"JV-1"}`))
	if rec.Code != http.StatusNotFound {
		t.Fatalf("status = %d, want 404", rec.Code)
	}
	if got := decode[errBody](t, rec).Error; got != `no webhook receiver for "journal-entry"` {
		t.Errorf("error = %q", got)
	}
}

// recorderFunc is a VersionRecorder with a function field.
type recorderFunc func(ctx context.Context, order, modified string) (bool, error)

func (f recorderFunc) Record(ctx context.Context, order, modified string) (bool, error) {
	return f(ctx, order, modified)
}

// The version is recorded only after the task is queued, and failing to
// record it does not lose the delivery: the task is queued and answered 202.
func TestVersionRecordedAfterEnqueue(t *testing.T) {
	var calls []string
	var e *env
	e = MustEnv(t, func(d *Deps) {
		d.Versions = recorderFunc(func(ctx context.Context, order, modified string) (bool, error) {
			calls = append(calls, fmt.Sprintf("%s %s, %d pending", order, modified, len(e.pending(t, tasks.QueuePromise))))
			return false, errors.New("redis: connection reset")
		})
	})
	rec := e.do(t, MustFixtures(t)[0].request())
	if rec.Code != http.StatusAccepted {
		t.Fatalf("status = %d %s, want 202", rec.Code, rec.Body)
	}
	want := []string{fixtureOrder + " " + fixtureModified + ", 1 pending"}
	if diff := cmp.Diff(want, calls); diff != "" {
		t.Errorf("Record calls (-want +got):\n%s", diff)
	}
}
