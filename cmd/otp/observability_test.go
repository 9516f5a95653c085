package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/erpnext-otp/otp/erp/sandbox"
	"github.com/erpnext-otp/otp/tasks"
)

// jsonLines decodes every line of OTP's log; a line that is not JSON fails.
func jsonLines(tb testing.TB, logs string) []map[string]any {
	tb.Helper()
	var out []map[string]any
	for _, l := range strings.Split(logs, "\n") {
		if !strings.HasPrefix(l, "{") {
			continue // the banner goes to the same buffer in these tests
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			tb.Fatalf("log line is not JSON: %q", l)
		}
		out = append(out, m)
	}
	return out
}

// A save's whole path shares one request_id: the webhook's lines in the
// server and its task's lines in the worker, the last one with the
// runbook's fields. The task's result is readable in the dashboard API.
func TestRequestIDFromWebhookToWorkerAndResult(t *testing.T) {
	a := MustStart(t, time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC), nil)
	order := a.insertOrder(t, sandbox.DemoItemInStock, 5)
	a.promised(t, order)
	a.settle(t)

	lines := jsonLines(t, a.logs.String())
	var id string
	for _, l := range lines {
		if l["msg"] == "webhook queued" && l["sales_order"] == order {
			id, _ = l["request_id"].(string)
			break
		}
	}
	if id == "" {
		t.Fatalf("no webhook queued line with a request_id for %s:\n%s", order, a.logs)
	}
	var byID []map[string]any
	for _, l := range lines {
		if l["request_id"] == id {
			byID = append(byID, l)
		}
	}
	var finished map[string]any
	for _, l := range byID {
		if l["msg"] == "task finished" && l["outcome"] == tasks.OutcomeWritten {
			finished = l
		}
	}
	if finished == nil {
		t.Fatalf("grep request_id %s finds no written task line: %v", id, byID)
	}
	for _, k := range []string{"customer", "sales_order", "promise_date", "confidence", "status", "duration_ms", "erpnext_requests", "task_id"} {
		if _, ok := finished[k]; !ok {
			t.Errorf("task finished line lacks %s: %v", k, finished)
		}
	}
	if finished["customer"] != sandbox.DemoCustomer2 || finished["promise_date"] != "2026-12-04" || finished["confidence"] != "HIGH" {
		t.Errorf("task finished line: %v", finished)
	}
	if n, _ := finished["erpnext_requests"].(float64); n < 2 {
		t.Errorf("erpnext_requests = %v, want the read and the write at least", finished["erpnext_requests"])
	}
	hasPromised := false
	for _, l := range byID {
		hasPromised = hasPromised || l["msg"] == "promised"
	}
	if !hasPromised {
		t.Errorf("the worker's promised line does not carry request_id %s", id)
	}

	// The dashboard API shows the result as JSON text.
	status, body, err := get(t, a.m.HTTPURL+"/monitoring/api/queues/"+tasks.QueuePromise+"/completed_tasks")
	if err != nil || status != http.StatusOK {
		t.Fatalf("dashboard API = %d (%v)", status, err)
	}
	var list struct {
		Tasks []struct {
			ID     string `json:"id"`
			Result string `json:"result"`
		} `json:"tasks"`
	}
	if err := json.Unmarshal([]byte(body), &list); err != nil {
		t.Fatalf("dashboard API body %s: %v", body, err)
	}
	var got *tasks.Result
	for _, tk := range list.Tasks {
		r, err := tasks.DecodeResult([]byte(tk.Result))
		if err != nil {
			t.Errorf("task %s result %q is not JSON: %v", tk.ID, tk.Result, err)
			continue
		}
		if r.Outcome == tasks.OutcomeWritten && r.SalesOrder == order {
			got = &r
		}
	}
	if got == nil {
		t.Fatalf("no written result for %s among %d completed tasks", order, len(list.Tasks))
	}
	// The save's pass writes every order whose promise changed: on a fresh
	// demo site, the order and the demo book's six other open orders.
	if got.OrdersWritten != 7 || got.PromiseDate != "2026-12-04" || got.Confidence != "HIGH" || got.Status != "OK" ||
		got.RequestID != id || got.ERPNextRequests < 2 || got.DurationMS <= 0 {
		t.Errorf("result %+v", *got)
	}
}

// Spans: one per webhook request, one per task linked to it through the
// payload, one per ERPNext request under the task's span.
func TestTracingLinksWebhookTaskAndERPNext(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	a := MustStart(t, time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC), nil, func(m *Main) { m.TracerProvider = tp })
	order := a.insertOrder(t, sandbox.DemoItemInStock, 5)
	a.promised(t, order)
	a.settle(t)

	spans := rec.Ended()
	var webhooks, taskSpans []sdktrace.ReadOnlySpan
	for _, s := range spans {
		switch s.Name() {
		case "POST /webhooks/erpnext/sales-order":
			webhooks = append(webhooks, s)
		case "task " + tasks.TypePromiseOrder:
			taskSpans = append(taskSpans, s)
		}
	}
	if len(webhooks) == 0 || len(taskSpans) == 0 {
		t.Fatalf("%d webhook spans, %d task spans among %d", len(webhooks), len(taskSpans), len(spans))
	}
	linked := 0
	for _, ts := range taskSpans {
		for _, l := range ts.Links() {
			for _, w := range webhooks {
				if l.SpanContext.SpanID() == w.SpanContext().SpanID() && l.SpanContext.TraceID() == w.SpanContext().TraceID() {
					linked++
				}
			}
		}
		children := 0
		for _, s := range spans {
			if s.Parent().SpanID() == ts.SpanContext().SpanID() && strings.HasPrefix(s.Name(), "GET /api/") {
				children++
			}
		}
		if children == 0 {
			t.Errorf("task span %s has no ERPNext request span under it", ts.SpanContext().SpanID())
		}
	}
	if linked == 0 {
		t.Error("no task span links to a webhook span")
	}
}
