package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/erpnext-otp/otp/erp"
	"github.com/erpnext-otp/otp/erp/sandbox"
	"github.com/erpnext-otp/otp/migrations"
)

// migrateEnv points `otp migrate` at sb (served at baseURL) with webhooks
// to publicURL. t.Setenv: these tests do not run in parallel.
func migrateEnv(t *testing.T, sb *sandbox.Sandbox, baseURL, publicURL, secret string) {
	t.Helper()
	key, sec := sb.Credentials()
	for k, v := range map[string]string{
		"ERPNEXT_BASE_URL": baseURL, "ERPNEXT_API_KEY": key, "ERPNEXT_API_SECRET": sec,
		"OTP_PUBLIC_URL": publicURL, "OTP_WEBHOOK_SECRET": secret, "OTP_ENV": "development", "LOG_LEVEL": "ERROR",
	} {
		t.Setenv(k, v)
	}
}

// otpMigrate runs `otp migrate args...` and returns its output and error.
func otpMigrate(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	err := run(ctx, append([]string{"migrate"}, args...), &stdout, &stderr)
	return stdout.String() + stderr.String(), err
}

func mustMigrate(t *testing.T, args ...string) string {
	t.Helper()
	out, err := otpMigrate(t, args...)
	if err != nil {
		t.Fatalf("otp migrate %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

func sandboxWrites(sb *sandbox.Sandbox) int {
	n := 0
	for route, c := range sb.RequestCounts() {
		if !strings.HasPrefix(route, "GET ") {
			n += c
		}
	}
	return n
}

func startSandboxForTest(t *testing.T, opts ...sandbox.Option) (*sandbox.Sandbox, string) {
	t.Helper()
	sb := sandbox.New(append([]sandbox.Option{sandbox.WithDemoData(),
		sandbox.WithWebhookSleep(func(context.Context, time.Duration) error { return nil })}, opts...)...)
	srv := httptest.NewServer(sb)
	t.Cleanup(func() {
		srv.Close()
		_ = sb.Close()
	})
	return sb, srv.URL
}

// The CLI against the sandbox over HTTP: status → --dry-run up (no write)
// → up → status all applied → up again (no write) → --dry-run down (no
// write) → down → status all pending.
func TestMigrateCommand(t *testing.T) {
	sb, base := startSandboxForTest(t)
	migrateEnv(t, sb, base, "https://otp.example.com", "cli-secret-0123456789")

	out := mustMigrate(t, "status")
	for _, id := range []string{"0001_order_promise_fields  pending", "0002_sales_order_webhooks  pending", "0003_supply_webhooks       pending", "0004_promise_indicator     pending"} {
		if !strings.Contains(out, id) {
			t.Errorf("status before up lacks %q:\n%s", id, out)
		}
	}

	sb.ResetCounters()
	out = mustMigrate(t, "--dry-run", "up")
	if n := sandboxWrites(sb); n != 0 {
		t.Fatalf("--dry-run up made %d writes", n)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if lines[0] != "dry run: 27 write(s) would be made; none was made (the site was only read)" || len(lines) != 28 ||
		!strings.HasPrefix(lines[1], `POST /api/resource/Custom%20Field {"collapsible":1,"dt":"Sales Order","fieldname":"custom_otp_section"`) ||
		!strings.HasPrefix(lines[24], `POST /api/resource/Webhook {"condition":"doc.modified_by != \"otp@example.com\""`) ||
		!regexp.MustCompile(`^POST /api/resource/Client%20Script \{"dt":"Sales Order","enabled":1,"name":"OTP Sales Order Promise List","script":"\(\d+ lines of JavaScript\)","view":"List"\}$`).MatchString(lines[27]) {
		t.Errorf("dry run output:\n%s", out)
	}
	if strings.Contains(out, "cli-secret-0123456789") {
		t.Error("the dry run printed the secret")
	}

	sb.ResetCounters()
	out = mustMigrate(t, "up")
	if n := sandboxWrites(sb); n != 27 {
		t.Errorf("up made %d writes, want 27", n)
	}
	if !strings.HasSuffix(out, "\n27 writes: 27 create\n") {
		t.Errorf("up output:\n%s", out)
	}
	out = mustMigrate(t, "status")
	if strings.Count(out, " applied ") != 4 || strings.Contains(out, "pending") {
		t.Errorf("status after up:\n%s", out)
	}

	sb.ResetCounters()
	out = mustMigrate(t, "up")
	if n := sandboxWrites(sb); n != 0 {
		t.Errorf("up again made %d writes", n)
	}
	if !strings.HasSuffix(out, "\n0 writes: 27 unchanged\n") {
		t.Errorf("up again output:\n%s", out)
	}

	sb.ResetCounters()
	out = mustMigrate(t, "down", "--dry-run")
	if n := sandboxWrites(sb); n != 0 {
		t.Fatalf("--dry-run down made %d writes", n)
	}
	if !strings.Contains(out, "DELETE /api/resource/Webhook/OTP%20Stock%20Entry%20on_cancel\n") ||
		!strings.Contains(out, "DELETE /api/resource/Client%20Script/OTP%20Sales%20Order%20Promise\n") || strings.Count(out, "DELETE ") != 27 {
		t.Errorf("down dry run:\n%s", out)
	}

	out = mustMigrate(t, "down")
	if !strings.HasSuffix(out, "\n27 writes: 27 delete\n") {
		t.Errorf("down output:\n%s", out)
	}
	out = mustMigrate(t, "status")
	if strings.Count(out, " pending ") != 4 {
		t.Errorf("status after down:\n%s", out)
	}
}

func TestMigrateCheckExitCode(t *testing.T) {
	t.Run("allowed", func(t *testing.T) {
		sb, base := startSandboxForTest(t)
		migrateEnv(t, sb, base, "https://otp.example.com", "x")
		out := mustMigrate(t, "check")
		if !strings.Contains(out, "Everything OTP requires is allowed.") {
			t.Errorf("check:\n%s", out)
		}
	})
	t.Run("missing", func(t *testing.T) {
		sb, base := startSandboxForTest(t, sandbox.WithUserRoles(sandbox.DefaultAPIUser, "Sales User", "Stock User"))
		migrateEnv(t, sb, base, "https://otp.example.com", "x")
		out, err := otpMigrate(t, "check")
		if !errors.Is(err, errCheckFailed) {
			t.Errorf("check with missing permissions: %v, want errCheckFailed", err)
		}
		for _, want := range []string{`(?m)^read Holiday List +MISSING +read probe: 403 `, `(?m)^create Custom Field +MISSING +no role grants it `,
			"create Custom Field: give the user the role System Manager"} {
			if !regexp.MustCompile(want).MatchString(out) {
				t.Errorf("check output does not match %q:\n%s", want, out)
			}
		}
	})
}

func TestMigrateUsage(t *testing.T) {
	sb, base := startSandboxForTest(t)
	migrateEnv(t, sb, base, "https://otp.example.com", "x")
	for _, args := range [][]string{{}, {"sideways"}, {"up", "extra"}, {"--bogus", "up"}} {
		if _, err := otpMigrate(t, args...); !errors.Is(err, errUsage) {
			t.Errorf("otp migrate %q: %v, want a usage error", args, err)
		}
	}

	t.Setenv("ERPNEXT_BASE_URL", "")
	t.Setenv("ERPNEXT_API_KEY", "")
	t.Setenv("ERPNEXT_API_SECRET", "")
	if _, err := otpMigrate(t, "status"); err == nil || !strings.Contains(err.Error(), "set ERPNEXT_BASE_URL") {
		t.Errorf("without ERPNEXT_BASE_URL: %v", err)
	}
}

func TestMigrateUpRefusesWithoutSecret(t *testing.T) {
	sb, base := startSandboxForTest(t)
	migrateEnv(t, sb, base, "https://otp.example.com", "")
	sb.ResetCounters()
	if _, err := otpMigrate(t, "up"); !errors.Is(err, migrations.ErrNoSecret) {
		t.Errorf("up without OTP_WEBHOOK_SECRET: %v", err)
	}
	if n := sandboxWrites(sb); n != 0 {
		t.Errorf("%d writes", n)
	}
}

func TestPublicURLWarning(t *testing.T) {
	tests := []struct {
		public, erp string
		warn        bool
	}{
		{"http://localhost:8001", "https://erp.example.com", true},
		{"http://127.0.0.1:8001", "https://erp.example.com", true},
		{"http://localhost:8001", "http://localhost:8000", false},
		{"https://otp.example.com", "https://erp.example.com", false},
	}
	for _, tt := range tests {
		if got := publicURLWarning(tt.public, tt.erp) != ""; got != tt.warn {
			t.Errorf("publicURLWarning(%q, %q) warns %v, want %v", tt.public, tt.erp, got, tt.warn)
		}
	}
}

// End to end: the whole of OTP in process with the sandbox, its ERPNext
// customisations removed and put back by `otp migrate down` and `up`; a
// Sales Order saved in the sandbox fires the migrated, signed webhook, OTP
// verifies and processes it, and the promise appears on the order; a
// Purchase Order submit fires its webhook, which OTP accepts (202).
func TestMigratedSiteEndToEnd(t *testing.T) {
	now := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC) // a Wednesday before the cutoff
	a := MustStart(t, now, nil)
	migrateEnv(t, a.sb, a.m.SandboxURL, a.m.HTTPURL, a.m.webhookSecret)

	// The dev site was set up by the migrations themselves.
	if out := mustMigrate(t, "status"); strings.Count(out, " applied ") != 4 {
		t.Fatalf("the dev site is not migrated:\n%s", out)
	}
	mustMigrate(t, "down")
	if n := len(mustSiteWebhooks(t, a)); n != 0 {
		t.Fatalf("%d webhooks after down", n)
	}
	mustMigrate(t, "up")
	if out := mustMigrate(t, "status"); strings.Count(out, " applied ") != 4 {
		t.Fatalf("after up:\n%s", out)
	}
	if n := len(mustSiteWebhooks(t, a)); n != 13 {
		t.Fatalf("%d webhooks after up, want 13", n)
	}

	order := a.insertOrder(t, sandbox.DemoItemInStock, 5)
	doc := a.promised(t, order)
	got := map[string]any{"date": doc[erp.FieldPromiseDate], "confidence": doc[erp.FieldConfidence], "status": doc[erp.FieldPromiseStatus]}
	want := map[string]any{"date": "2026-12-04", "confidence": "HIGH", "status": "OK"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("promise on %s (-want +got):\n%s", order, diff)
	}

	po, err := a.sb.Insert("Purchase Order", map[string]any{"supplier": sandbox.DemoSupplier, "company": sandbox.DemoCompany,
		"transaction_date": now.Format(time.DateOnly), "set_warehouse": sandbox.DemoStores,
		"items": []any{map[string]any{"item_code": sandbox.DemoItemInStock, "qty": 10, "rate": 2.0, "schedule_date": now.AddDate(0, 0, 9).Format(time.DateOnly)}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.sb.Submit("Purchase Order", po["name"].(string)); err != nil {
		t.Fatal(err)
	}
	// The supply task waits out its debounce window; what is checked here
	// is that OTP accepted the deliveries.
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if err := a.sb.WaitForWebhooks(ctx); err != nil {
		t.Fatal(err)
	}

	type delivery struct {
		Webhook, Event string
		Status         int
		Migration      string
	}
	var deliveries []delivery
	for _, d := range a.sb.WebhookDeliveries() {
		if d.DocName != order && d.DocName != po["name"] {
			continue
		}
		var body map[string]any
		if err := json.Unmarshal(d.Body, &body); err != nil {
			t.Errorf("%s: body is not JSON: %v", d.Webhook, err)
		}
		deliveries = append(deliveries, delivery{d.Webhook, d.Event, d.Status, d.Headers.Get(migrations.HeaderMigration)})
	}
	wantDeliveries := []delivery{
		{"OTP Sales Order on_update", "on_update", http.StatusAccepted, "0002_sales_order_webhooks"},
		{"OTP Purchase Order on_submit", "on_submit", http.StatusAccepted, "0003_supply_webhooks"},
		{"OTP Purchase Order on_change", "on_change", http.StatusAccepted, "0003_supply_webhooks"},
	}
	if diff := cmp.Diff(wantDeliveries, deliveries); diff != "" {
		t.Errorf("deliveries for %s and %s (-want +got):\n%s", order, po["name"], diff)
	}
}

// mustSiteWebhooks lists the sandbox's webhooks.
func mustSiteWebhooks(t *testing.T, a *app) []map[string]any {
	t.Helper()
	hooks, err := a.m.ERP.List(t.Context(), "Webhook", erp.ListQuery{Fields: []string{"name"}})
	if err != nil {
		t.Fatal(err)
	}
	return hooks
}

// Without System Manager, up's first write is refused (a missing document
// reads as 404 whatever the permissions, as in Frappe): it stops there,
// creating nothing, and points at `otp migrate check`.
func TestMigrateUpWithoutPermission(t *testing.T) {
	sb, base := startSandboxForTest(t, sandbox.WithUserRoles(sandbox.DefaultAPIUser, "Sales User"))
	migrateEnv(t, sb, base, "https://otp.example.com", "x")
	sb.ResetCounters()
	out, err := otpMigrate(t, "up")
	if !errors.Is(err, erp.ErrPermission) || !strings.Contains(err.Error(), "`otp migrate check` lists what the API user may do") {
		t.Errorf("up as a Sales User: %v", err)
	}
	if n := sandboxWrites(sb); n != 1 {
		t.Errorf("%d write requests, want the one refused: %v", n, sb.RequestCounts())
	}
	if !strings.Contains(out, "\n0 of 27 writes made: 27 create\n") || regexp.MustCompile(`(?m)^0\S+ .* create$`).MatchString(out) {
		t.Errorf("up's report does not say nothing was created:\n%s", out)
	}
	if _, err := sb.Get("Custom Field", "Sales Order-custom_otp_section"); err == nil {
		t.Error("a custom field was created")
	}
}
