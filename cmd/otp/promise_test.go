package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/erpnext-otp/otp/config"
	"github.com/erpnext-otp/otp/erp"
	"github.com/erpnext-otp/otp/erp/sandbox"
	"github.com/erpnext-otp/otp/migrations"
)

// Wednesday 2026-11-25 10:00 UTC, before the 14:00 cutoff.
var promiseNow = time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)

// demoNames are the demo data's order names at promiseNow (the sandbox
// names them from its clock, so any sandbox built at that time agrees).
func demoNames(tb testing.TB) sandbox.DemoData {
	tb.Helper()
	sb := sandbox.New(sandbox.WithDemoData(), sandbox.WithClock(func() time.Time { return promiseNow }))
	defer sb.Close()
	return sb.Demo()
}

func runPromiseCmd(tb testing.TB, environ map[string]string, args ...string) (string, string, error) {
	tb.Helper()
	var stdout, stderr bytes.Buffer
	cmd := promiseCmd{environ: environ, now: func() time.Time { return promiseNow }}
	err := cmd.run(context.Background(), args, &stdout, &stderr)
	return stdout.String(), stderr.String(), err
}

// MustSite serves a demo sandbox with OTP's custom fields (as the
// migrations define them; no webhooks, since no OTP listens) and returns
// the environment that points OTP at it.
func MustSite(tb testing.TB) (*sandbox.Sandbox, map[string]string) {
	tb.Helper()
	sb := sandbox.New(sandbox.WithDemoData(), sandbox.WithClock(func() time.Time { return promiseNow }),
		sandbox.WithWebhookSleep(func(context.Context, time.Duration) error { return nil }))
	tb.Cleanup(func() { sb.Close() })
	fields := 0
	for _, step := range migrations.Steps() {
		for _, d := range step.Documents(migrations.Config{PublicURL: "http://127.0.0.1:1", APIUser: sb.APIUser()}) {
			if d.DocType != "Custom Field" {
				continue
			}
			if _, err := sb.Insert(d.DocType, d.Fields); err != nil {
				tb.Fatalf("custom field %s: %v", d.Name, err)
			}
			fields++
		}
	}
	if fields == 0 {
		tb.Fatal("the migrations define no Custom Field")
	}
	api := httptest.NewServer(sb)
	tb.Cleanup(api.Close)
	key, secret := sb.Credentials()
	return sb, map[string]string{"ERPNEXT_BASE_URL": api.URL, "ERPNEXT_API_KEY": key, "ERPNEXT_API_SECRET": secret, "LOG_LEVEL": "ERROR"}
}

func TestPromiseCommandPrintsThePlan(t *testing.T) {
	so := demoNames(t).ContendedSO1
	// No ERPNEXT_BASE_URL: the in-process demo sandbox.
	out, stderr, err := runPromiseCmd(t, map[string]string{"LOG_LEVEL": "ERROR"}, so)
	if err != nil {
		t.Fatalf("err = %v; stderr %s", err, stderr)
	}
	// SKU-050 × 30, first in the book: 20 on hand and 10 of the 40
	// arriving Wednesday 12-02: ready 12-03, promised Friday 12-04, MEDIUM;
	// the order asked for Saturday 11-28, so Monday 11-30: 4 working days late.
	for _, want := range []string{
		so + "  Café Dupont  (To Deliver and Bill)\n",
		"Promise:      2026-12-04  MEDIUM  OK\n",
		"Requested:    2026-11-28 (4 working days late)\n",
		"  1. SKU-050 × 30 at Stores - WH: promised 2026-12-04 (MEDIUM)\n" +
			"       stock           20  available 2026-11-25  ready 2026-11-26\n" +
			"       purchase_order  10  available 2026-12-02  ready 2026-12-03  PUR-ORD-2026-00001, due 2026-12-02\n",
		"Explanation:  20 from stock at Stores - WH; 10 from PUR-ORD-2026-00001 due 2026-12-02; +1 processing day; +1 buffer day; " +
			"4 working days later than requested (2026-11-28)\n",
		"Not written: run again with --apply",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(stderr, "in-process sandbox") {
		t.Errorf("stderr does not say the demo sandbox is used: %q", stderr)
	}
}

func TestPromiseCommandJSON(t *testing.T) {
	so := demoNames(t).ContendedSO1
	out, _, err := runPromiseCmd(t, map[string]string{"LOG_LEVEL": "ERROR"}, "--json", so)
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		SalesOrder  string  `json:"sales_order"`
		Status      string  `json:"status"`
		PromiseDate *string `json:"promise_date"`
		Confidence  string  `json:"confidence"`
		OnTime      *bool   `json:"on_time"`
		Plan        []struct {
			Fulfillment []struct {
				Source string  `json:"source"`
				Qty    float64 `json:"qty"`
			} `json:"fulfillment"`
		} `json:"plan"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	if got.SalesOrder != so || got.Status != "OK" || got.PromiseDate == nil || *got.PromiseDate != "2026-12-04" ||
		got.Confidence != "MEDIUM" || got.OnTime == nil || *got.OnTime || len(got.Plan) != 1 || len(got.Plan[0].Fulfillment) != 2 {
		t.Errorf("JSON = %s", out)
	}
}

func TestPromiseCommandWritesOnlyWithApply(t *testing.T) {
	sb, env := MustSite(t)
	so := sb.Demo().ContendedSO1
	sb.ResetCounters()

	if _, _, err := runPromiseCmd(t, env, so); err != nil {
		t.Fatal(err)
	}
	if n := sb.Requests("PUT /api/resource/Sales Order"); n != 0 {
		t.Fatalf("without --apply: %d PUTs, want 0", n)
	}

	out, stderr, err := runPromiseCmd(t, env, so, "--apply")
	if err != nil {
		t.Fatalf("--apply: %v; stderr %s", err, stderr)
	}
	if want := "Written to " + so + ": promise date 2026-12-04, confidence MEDIUM.\n"; !strings.Contains(out, want) {
		t.Errorf("output lacks %q:\n%s", want, out)
	}
	doc, err := sb.Get("Sales Order", so)
	if err != nil {
		t.Fatal(err)
	}
	if doc[erp.FieldPromiseDate] != "2026-12-04" || doc[erp.FieldConfidence] != "MEDIUM" || doc[erp.FieldPromiseStatus] != "OK" {
		t.Errorf("order holds %v %v %v, want 2026-12-04 MEDIUM OK",
			doc[erp.FieldPromiseDate], doc[erp.FieldConfidence], doc[erp.FieldPromiseStatus])
	}
	// --apply runs the worker's pass: every open order of the demo book
	// gets its first promise, each in one PUT.
	written := sb.Requests("PUT /api/resource/Sales Order")
	if open := len(openOrders(t, sb)); written != open {
		t.Errorf("PUTs = %d, want one for each of the %d open orders", written, open)
	}

	// Again: the worker compares before writing.
	out, _, err = runPromiseCmd(t, env, "--apply", so)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, so+" already holds this promise: nothing written.") {
		t.Errorf("second --apply output:\n%s", out)
	}
	if n := sb.Requests("PUT /api/resource/Sales Order"); n != written {
		t.Errorf("PUTs after a second --apply = %d, want still %d", n, written)
	}
}

// openOrders names the demo book's open orders with something to promise.
func openOrders(tb testing.TB, sb *sandbox.Sandbox) map[string]bool {
	tb.Helper()
	rows, err := sb.List("Sales Order", []string{"name", "items.delivered_by_supplier as ds", "items.qty as qty", "items.delivered_qty as dq"},
		[]any{[]any{"docstatus", "in", []any{0, 1}}, []any{"status", "not in", []any{"Closed", "On Hold", "Completed"}}}, "", 0)
	if err != nil {
		tb.Fatal(err)
	}
	out := map[string]bool{}
	for _, r := range rows {
		if r["ds"] != 1.0 && r["qty"].(float64) > r["dq"].(float64) {
			out[r["name"].(string)] = true
		}
	}
	return out
}

func TestPromiseCommandErrors(t *testing.T) {
	_, env := MustSite(t)
	quiet := map[string]string{"LOG_LEVEL": "ERROR"}
	for _, tt := range []struct {
		name    string
		environ map[string]string
		args    []string
		want    string // in the error; "" for errUsage
	}{
		{"no order", env, nil, ""},
		{"two orders", env, []string{"A", "B"}, ""},
		{"bad flag", env, []string{"--nope", "A"}, ""},
		{"unknown order", env, []string{"SAL-ORD-2026-99999"}, "no Sales Order SAL-ORD-2026-99999 in ERPNext"},
		{"apply to the throw-away sandbox", quiet, []string{"--apply", "SAL-ORD-2026-00001"}, "--apply needs ERPNEXT_BASE_URL"},
		{"bad configuration", map[string]string{"OTP_CUTOFF_TIME": "25:00"}, []string{"X"}, "OTP_CUTOFF_TIME"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := runPromiseCmd(t, tt.environ, tt.args...)
			switch {
			case err == nil:
				t.Fatal("no error")
			case tt.want == "" && !errors.Is(err, errUsage):
				t.Errorf("err = %v, want a usage error", err)
			case tt.want != "" && !strings.Contains(err.Error(), tt.want):
				t.Errorf("err = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestPromiseIsASubcommand(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), []string{"promise"}, &stdout, &stderr); !errors.Is(err, errUsage) {
		t.Errorf("otp promise with no order: err = %v, want a usage error", err)
	}
	if !strings.Contains(stderr.String(), "usage: otp promise SO-NAME [--json] [--apply]") {
		t.Errorf("stderr = %q", stderr.String())
	}
}

// The throw-away sandbox of `otp promise` closes at once even when the
// client dialled a connection it never used (the planner's concurrent
// reads do that now and then): http.Server.Shutdown waited 5 s for such a
// connection, so one run in six took 5 s longer.
func TestPromiseSandboxClosesAtOnce(t *testing.T) {
	cmd := promiseCmd{now: func() time.Time { return promiseNow }}
	cfg, err := config.Load(map[string]string{})
	if err != nil {
		t.Fatal(err)
	}
	client, closeFn, err := cmd.openERPNext(cfg, slog.New(slog.DiscardHandler), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.Dial("tcp", strings.TrimPrefix(client.BaseURL(), "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	time.Sleep(50 * time.Millisecond) // the server has accepted it
	start := time.Now()
	closeFn()
	if took := time.Since(start); took > time.Second {
		t.Errorf("closing the demo sandbox took %s with an unused connection open, want well under 1 s", took)
	}
}
