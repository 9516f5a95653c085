package migrations_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/erpnext-otp/otp/erp"
	"github.com/erpnext-otp/otp/erp/sandbox"
	"github.com/erpnext-otp/otp/migrations"
)

// documentCount is how many documents the steps manage: 12 custom fields,
// 4 Sales Order webhooks and 9 supply webhooks.
const documentCount = 12 + 4 + 9 + 2 // fields, Sales Order webhooks, supply webhooks, client scripts

// The done-when, against the sandbox over HTTP: up → status all
// applied → up again makes zero writes → down → status all pending.
func TestUpStatusUpAgainDownAgainstSandbox(t *testing.T) {
	s, srv := MustSandbox(t)
	c := MustClient(t, s, srv)
	cfg := MustConfig(t, s, "https://otp.example.com")
	ctx := testContext(t)

	if diff := cmp.Diff(allSteps(migrations.Pending), stepStates(MustStatus(t, c, cfg))); diff != "" {
		t.Fatalf("fresh site (-want +got):\n%s", diff)
	}

	s.ResetCounters()
	plan, err := migrations.Up(ctx, c, cfg)
	if err != nil {
		t.Fatalf("Up: %v", err)
	}
	wantWrites := map[string]int{"POST /api/resource/Custom Field": 12, "POST /api/resource/Webhook": 13, "POST /api/resource/Client Script": 2}
	if diff := cmp.Diff(wantWrites, writes(s)); diff != "" {
		t.Errorf("first up's writes (-want +got):\n%s", diff)
	}
	if got := plan.Count(migrations.OpCreate); got != documentCount {
		t.Errorf("first up created %d documents, want %d", got, documentCount)
	}

	if diff := cmp.Diff(allSteps(migrations.Applied), stepStates(MustStatus(t, c, cfg))); diff != "" {
		t.Fatalf("after up (-want +got):\n%s", diff)
	}

	s.ResetCounters()
	plan, err = migrations.Up(ctx, c, cfg)
	if err != nil {
		t.Fatalf("second Up: %v", err)
	}
	if got := writes(s); len(got) != 0 {
		t.Errorf("second up wrote %v, want no write", got)
	}
	if got := s.Requests("GET /api/resource/Custom Field") + s.Requests("GET /api/resource/Webhook") + s.Requests("GET /api/resource/Client Script"); got != documentCount {
		t.Errorf("second up read %d documents, want one GET each (%d)", got, documentCount)
	}
	if got := plan.Count(migrations.OpUnchanged); got != documentCount {
		t.Errorf("second up: %d unchanged, want %d", got, documentCount)
	}

	s.ResetCounters()
	plan, err = migrations.Down(ctx, c, cfg)
	if err != nil {
		t.Fatalf("Down: %v", err)
	}
	wantDeletes := map[string]int{"DELETE /api/resource/Custom Field": 12, "DELETE /api/resource/Webhook": 13, "DELETE /api/resource/Client Script": 2}
	if diff := cmp.Diff(wantDeletes, writes(s)); diff != "" {
		t.Errorf("down's writes (-want +got):\n%s", diff)
	}
	// Newest first: the client scripts go before the webhooks, the fields last.
	if first, last := plan.Actions[0], plan.Actions[len(plan.Actions)-1]; first.Step != "0004_promise_indicator" || last.Name != "Sales Order-custom_otp_section" {
		t.Errorf("down order: first %s %q, last %s %q", first.Step, first.Name, last.Step, last.Name)
	}
	if diff := cmp.Diff(allSteps(migrations.Pending), stepStates(MustStatus(t, c, cfg))); diff != "" {
		t.Fatalf("after down (-want +got):\n%s", diff)
	}
	// The fields are gone from the meta too: a Sales Order no longer takes them.
	if _, err := c.GetDoc(ctx, "Custom Field", "Sales Order-"+erp.FieldPromiseDate); !errors.Is(err, erp.ErrNotFound) {
		t.Errorf("custom field after down: %v, want not found", err)
	}

	// And up again works on the cleaned site.
	if _, err := migrations.Up(ctx, c, cfg); err != nil {
		t.Fatalf("Up after Down: %v", err)
	}
	if diff := cmp.Diff(allSteps(migrations.Applied), stepStates(MustStatus(t, c, cfg))); diff != "" {
		t.Fatalf("after up, down, up (-want +got):\n%s", diff)
	}
}

// The custom fields really work: a submitted order accepts the promise
// (allow_on_submit, docs/erpnext.md#updating-a-document), the fields sit in the
// "Order Promise" section after the items, and no_copy and read_only are set.
func TestCustomFieldsTakePromiseOnSubmittedOrder(t *testing.T) {
	s, srv := MustSandbox(t)
	c := MustClient(t, s, srv)
	ctx := testContext(t)
	if _, err := migrations.Up(ctx, c, MustConfig(t, s, "https://otp.example.com")); err != nil {
		t.Fatal(err)
	}
	so, err := c.SalesOrder(ctx, s.Demo().ContendedSO1)
	if err != nil {
		t.Fatal(err)
	}
	if so.DocStatus != 1 {
		t.Fatalf("%s docstatus %d, want a submitted order", so.Name, so.DocStatus)
	}
	saved, err := c.UpdateSalesOrder(ctx, so,
		map[string]any{erp.FieldPromiseDate: "2026-03-11", erp.FieldConfidence: "MEDIUM", erp.FieldPromiseStatus: "OK",
			erp.FieldFirstPromiseDate: "2026-03-11", erp.FieldPromisedAt: "2026-03-02 09:30:00",
			erp.FieldExplanation: `20 from stock; 10 from PO "PUR-ORD-2026-00001"`, erp.FieldFingerprint: "0123456789abcdef"},
		map[string]map[string]any{so.Items[0].Name: {erp.FieldLinePromiseDate: "2026-03-11", erp.FieldLineConfidence: "MEDIUM"}})
	if err != nil {
		t.Fatalf("writing the promise on a submitted order: %v", err)
	}
	got := map[string]string{
		"date": saved.PromiseDate, "confidence": saved.Confidence, "status": saved.PromiseStatus, "first": saved.FirstPromiseDate,
		"at": saved.PromisedAt, "fingerprint": saved.Fingerprint,
		"line date": saved.Items[0].LinePromiseDate, "line confidence": saved.Items[0].LineConfidence,
	}
	want := map[string]string{
		"date": "2026-03-11", "confidence": "MEDIUM", "status": "OK", "first": "2026-03-11",
		"at": "2026-03-02 09:30:00", "fingerprint": "0123456789abcdef",
		"line date": "2026-03-11", "line confidence": "MEDIUM",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("promise as saved (-want +got):\n%s", diff)
	}

	// A Select takes only its options (Frappe validates them on save).
	if _, err := c.UpdateSalesOrder(ctx, saved, map[string]any{erp.FieldConfidence: "SURE"}, nil); !errors.Is(err, erp.ErrValidation) {
		t.Errorf("confidence SURE: %v, want a validation error", err)
	}
}

// Every data field is allow_on_submit, read_only and no_copy; the Sales
// Order's are in a collapsible section placed after the items table, each
// after the one before; the earlier OTP's two names are kept.
func TestOrderPromiseFieldDefinitions(t *testing.T) {
	step := migrations.Steps()[0]
	docs := step.Documents(migrations.Config{})
	type field struct {
		DocType, FieldName, FieldType, InsertAfter, Options  string
		AllowOnSubmit, ReadOnly, NoCopy, Hidden, Collapsible any
	}
	var got []field
	for _, d := range docs {
		if d.DocType != "Custom Field" || d.Fields["is_system_generated"] != 1 || d.Name != d.Fields["dt"].(string)+"-"+d.Fields["fieldname"].(string) {
			t.Errorf("document %q: %v", d.Name, d.Fields)
		}
		opt, _ := d.Fields["options"].(string)
		got = append(got, field{d.Fields["dt"].(string), d.Fields["fieldname"].(string), d.Fields["fieldtype"].(string), d.Fields["insert_after"].(string), opt,
			d.Fields["allow_on_submit"], d.Fields["read_only"], d.Fields["no_copy"], d.Fields["hidden"], d.Fields["collapsible"]})
	}
	const conf = "\nHIGH\nMEDIUM\nLOW"
	want := []field{
		{"Sales Order", "custom_otp_section", "Section Break", "items", "", nil, nil, nil, nil, 1},
		{"Sales Order", "custom_otp_promise_date", "Date", "custom_otp_section", "", 1, 1, 1, 0, nil},
		{"Sales Order", "custom_otp_confidence", "Select", "custom_otp_promise_date", conf, 1, 1, 1, 0, nil},
		{"Sales Order", "custom_otp_status", "Data", "custom_otp_confidence", "", 1, 1, 1, 0, nil},
		{"Sales Order", "custom_otp_explanation", "Small Text", "custom_otp_status", "", 1, 1, 1, 0, nil},
		{"Sales Order", "custom_otp_column_break", "Column Break", "custom_otp_explanation", "", nil, nil, nil, nil, nil},
		{"Sales Order", "custom_otp_first_promise_date", "Date", "custom_otp_column_break", "", 1, 1, 1, 0, nil},
		{"Sales Order", "custom_otp_promised_at", "Datetime", "custom_otp_first_promise_date", "", 1, 1, 1, 0, nil},
		{"Sales Order", "custom_otp_fingerprint", "Data", "custom_otp_promised_at", "", 1, 1, 1, 1, nil},
		{"Sales Order", "custom_otp_commented", "Data", "custom_otp_fingerprint", "", 1, 1, 1, 1, nil},
		{"Sales Order Item", "custom_otp_line_promise_date", "Date", "delivery_date", "", 1, 1, 1, 0, nil},
		{"Sales Order Item", "custom_otp_line_confidence", "Select", "custom_otp_line_promise_date", conf, 1, 1, 1, 0, nil},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("fields (-want +got):\n%s", diff)
	}
	// erp's contract names are the ones created.
	names := map[string]bool{}
	for _, f := range got {
		names[f.FieldName] = true
	}
	for _, n := range []string{erp.FieldPromiseDate, erp.FieldConfidence, erp.FieldPromiseStatus, erp.FieldFirstPromiseDate,
		erp.FieldPromisedAt, erp.FieldExplanation, erp.FieldFingerprint, erp.FieldCommented, erp.FieldLinePromiseDate, erp.FieldLineConfidence} {
		if !names[n] {
			t.Errorf("erp.%s has no custom field", n)
		}
	}
}

// --dry-run writes nothing: the plan is read from the site, printed as
// METHOD PATH BODY with the secret hidden, and never sent.
func TestDryRunWritesNothing(t *testing.T) {
	s, srv := MustSandbox(t)
	c := MustClient(t, s, srv)
	cfg := MustConfig(t, s, "https://otp.example.com")
	ctx := testContext(t)

	s.ResetCounters()
	plan, err := migrations.PlanUp(ctx, c, cfg)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := migrations.WritePlan(&out, plan, true); err != nil {
		t.Fatal(err)
	}
	if got := writes(s); len(got) != 0 {
		t.Fatalf("dry run of up wrote %v", got)
	}
	if got := s.TotalRequests(); got != documentCount {
		t.Errorf("dry run made %d requests, want %d reads", got, documentCount)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 1+documentCount {
		t.Fatalf("dry run printed %d lines, want a header and %d writes:\n%s", len(lines), documentCount, out.String())
	}
	if want := `POST /api/resource/Custom%20Field {"allow_on_submit":1,"description":"The date OTP promises`; !strings.HasPrefix(lines[2], want) {
		t.Errorf("second write:\n%s\nwant prefix\n%s", lines[2], want)
	}
	if strings.Contains(out.String(), testSecret) {
		t.Error("dry run printed the webhook secret")
	}
	if !strings.Contains(out.String(), `"webhook_secret":"\u003cOTP_WEBHOOK_SECRET\u003e"`) {
		t.Errorf("dry run does not show where the secret goes:\n%s", out.String())
	}
	if diff := cmp.Diff(allSteps(migrations.Pending), stepStates(MustStatus(t, c, cfg))); diff != "" {
		t.Errorf("after a dry run (-want +got):\n%s", diff)
	}

	// Down's dry run on a migrated site: 24 DELETEs printed, none made.
	if _, err := migrations.Up(ctx, c, cfg); err != nil {
		t.Fatal(err)
	}
	s.ResetCounters()
	plan, err = migrations.PlanDown(ctx, c, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if got := writes(s); len(got) != 0 {
		t.Fatalf("dry run of down wrote %v", got)
	}
	calls := plan.Writes()
	if len(calls) != documentCount || calls[0].String() != "DELETE /api/resource/Client%20Script/OTP%20Sales%20Order%20Promise%20List" {
		t.Errorf("down's writes: %d, first %q", len(calls), calls[0])
	}
	if diff := cmp.Diff(allSteps(migrations.Applied), stepStates(MustStatus(t, c, cfg))); diff != "" {
		t.Errorf("after a dry run of down (-want +got):\n%s", diff)
	}
}

// A site set up by the earlier OTP has custom_otp_promise_date and
// custom_otp_confidence, made in the desk (by Administrator, a Data
// confidence, no allow_on_submit) and holding promises. Up adopts them
// instead of failing on "A field with the name ... already exists" (docs/erpnext.md#custom-fields),
// keeps their values, and Down leaves them.
func TestEarlierOTPFieldsAreAdoptedAndKept(t *testing.T) {
	s, srv := MustSandbox(t)
	c := MustClient(t, s, srv)
	cfg := MustConfig(t, s, "https://otp.example.com")
	ctx := testContext(t)

	for _, f := range []map[string]any{
		{"dt": "Sales Order", "label": "OTP Promise Date", "fieldname": erp.FieldPromiseDate, "fieldtype": "Date", "insert_after": "delivery_date"},
		{"dt": "Sales Order", "label": "OTP Confidence", "fieldname": erp.FieldConfidence, "fieldtype": "Data", "insert_after": erp.FieldPromiseDate},
	} {
		if _, err := s.Insert("Custom Field", f); err != nil {
			t.Fatal(err)
		}
	}
	draft := s.Demo().DraftSO
	if _, err := s.Update("Sales Order", draft, map[string]any{erp.FieldPromiseDate: "2026-03-09", erp.FieldConfidence: "HIGH"}); err != nil {
		t.Fatal(err)
	}

	before := MustStatus(t, c, cfg)
	if got := before[0].State; got != migrations.Pending {
		t.Errorf("0001 on the earlier OTP's site: %s, want pending", got)
	}
	adopted := map[string][]string{}
	for _, d := range before[0].Docs {
		if d.Adopted {
			for _, df := range d.Diffs {
				adopted[d.Name] = append(adopted[d.Name], df.Field)
			}
		}
	}
	wantAdopted := map[string][]string{
		"Sales Order-" + erp.FieldPromiseDate: {"label", "insert_after", "description", "allow_on_submit", "read_only", "no_copy"},
		"Sales Order-" + erp.FieldConfidence:  {"label", "fieldtype", "options", "allow_on_submit", "read_only", "no_copy"},
	}
	if diff := cmp.Diff(wantAdopted, adopted); diff != "" {
		t.Errorf("fields to adopt and what differs (-want +got):\n%s", diff)
	}

	s.ResetCounters()
	plan, err := migrations.Up(ctx, c, cfg)
	if err != nil {
		t.Fatalf("Up on the earlier OTP's site: %v", err)
	}
	want := map[string]int{"POST /api/resource/Custom Field": 10, "PUT /api/resource/Custom Field": 2, "POST /api/resource/Webhook": 13, "POST /api/resource/Client Script": 2}
	if diff := cmp.Diff(want, writes(s)); diff != "" {
		t.Errorf("writes (-want +got):\n%s", diff)
	}
	if got := plan.Count(migrations.OpAdopt); got != 2 {
		t.Errorf("adopted %d fields, want 2", got)
	}
	if diff := cmp.Diff(allSteps(migrations.Applied), stepStates(MustStatus(t, c, cfg))); diff != "" {
		t.Errorf("after up (-want +got):\n%s", diff)
	}
	conf, err := c.GetDoc(ctx, "Custom Field", "Sales Order-"+erp.FieldConfidence)
	if err != nil {
		t.Fatal(err)
	}
	if conf["fieldtype"] != "Select" || conf["allow_on_submit"] != 1.0 || conf["is_system_generated"] != 0.0 {
		t.Errorf("adopted confidence: fieldtype %v, allow_on_submit %v, is_system_generated %v", conf["fieldtype"], conf["allow_on_submit"], conf["is_system_generated"])
	}
	so, err := c.SalesOrder(ctx, draft)
	if err != nil {
		t.Fatal(err)
	}
	if so.PromiseDate != "2026-03-09" || so.Confidence != "HIGH" {
		t.Errorf("the earlier OTP's promise after up: %q %q", so.PromiseDate, so.Confidence)
	}

	// Down deletes what up created and keeps the adopted fields.
	s.ResetCounters()
	plan, err = migrations.Down(ctx, c, cfg)
	if err != nil {
		t.Fatalf("Down: %v", err)
	}
	want = map[string]int{"DELETE /api/resource/Custom Field": 10, "DELETE /api/resource/Webhook": 13, "DELETE /api/resource/Client Script": 2}
	if diff := cmp.Diff(want, writes(s)); diff != "" {
		t.Errorf("down's writes (-want +got):\n%s", diff)
	}
	if got := plan.Count(migrations.OpKeep); got != 2 {
		t.Errorf("down kept %d documents, want the 2 adopted fields", got)
	}
	so, err = c.SalesOrder(ctx, draft)
	if err != nil {
		t.Fatal(err)
	}
	if so.PromiseDate != "2026-03-09" || so.Confidence != "HIGH" {
		t.Errorf("the earlier OTP's promise after down: %q %q", so.PromiseDate, so.Confidence)
	}
	after := MustStatus(t, c, cfg)
	if diff := cmp.Diff(allSteps(migrations.Pending), stepStates(after)); diff != "" {
		t.Errorf("after down (-want +got):\n%s", diff)
	}
	var present []string
	for _, d := range after[0].Docs {
		if d.State != migrations.Pending {
			present = append(present, d.Name)
		}
	}
	if diff := cmp.Diff([]string{"Sales Order-" + erp.FieldPromiseDate, "Sales Order-" + erp.FieldConfidence}, present); diff != "" {
		t.Errorf("fields left after down (-want +got):\n%s", diff)
	}
}

// Drift: a document that exists but differs shows the difference in
// status, and up writes back only the differing managed fields.
func TestDriftIsShownAndRepaired(t *testing.T) {
	s, srv := MustSandbox(t)
	c := MustClient(t, s, srv)
	cfg := MustConfig(t, s, "https://otp.example.com")
	ctx := testContext(t)
	if _, err := migrations.Up(ctx, c, cfg); err != nil {
		t.Fatal(err)
	}
	// An admin relabels a field, makes it mandatory, and disables a webhook
	// after editing its condition.
	if _, err := s.Update("Custom Field", "Sales Order-"+erp.FieldPromiseDate, map[string]any{"label": "Ship By", "reqd": 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Update("Webhook", "OTP Sales Order on_change", map[string]any{"enabled": 0, "condition": "doc.docstatus == 1"}); err != nil {
		t.Fatal(err)
	}

	st := MustStatus(t, c, cfg)
	if diff := cmp.Diff(map[string]migrations.State{
		"0001_order_promise_fields": migrations.Drifted, "0002_sales_order_webhooks": migrations.Drifted, "0003_supply_webhooks": migrations.Applied,
		"0004_promise_indicator": migrations.Applied,
	}, stepStates(st)); diff != "" {
		t.Errorf("states (-want +got):\n%s", diff)
	}
	var out bytes.Buffer
	if err := migrations.WriteStatus(&out, st); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"0001_order_promise_fields  drifted  11 applied, 1 drifted",
		"label\n        have \"Ship By\"\n        want \"Promised Date\"",
		"reqd\n        have 1\n        want 0",
		"enabled\n        have 0\n        want 1",
		"condition\n        have \"doc.docstatus == 1\"\n        want \"doc.docstatus == 1 and doc.modified_by != \\\"otp@example.com\\\"\"",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("status does not show\n%s\n---\n%s", want, out.String())
		}
	}

	s.ResetCounters()
	plan, err := migrations.Up(ctx, c, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]int{"PUT /api/resource/Custom Field": 1, "PUT /api/resource/Webhook": 1}, writes(s)); diff != "" {
		t.Errorf("repair writes (-want +got):\n%s", diff)
	}
	var bodies []map[string]any
	for _, call := range plan.Writes() {
		bodies = append(bodies, call.Body)
	}
	wantBodies := []map[string]any{
		{"label": "Promised Date", "reqd": 0},
		{"enabled": 1, "condition": `doc.docstatus == 1 and doc.modified_by != "otp@example.com"`},
	}
	if diff := cmp.Diff(wantBodies, bodies); diff != "" {
		t.Errorf("PUT bodies: only the differing fields (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(allSteps(migrations.Applied), stepStates(MustStatus(t, c, cfg))); diff != "" {
		t.Errorf("after repair (-want +got):\n%s", diff)
	}
}

// A webhook with one of OTP's names that otp migrate did not create is a
// conflict: up refuses before writing anything, down leaves it.
func TestForeignWebhookIsAConflict(t *testing.T) {
	s, srv := MustSandbox(t)
	c := MustClient(t, s, srv)
	cfg := MustConfig(t, s, "https://otp.example.com")
	ctx := testContext(t)
	if _, err := s.Insert("Webhook", map[string]any{"name": "OTP Sales Order on_submit", "webhook_doctype": "Sales Order",
		"webhook_docevent": "on_submit", "request_url": "https://elsewhere.example.com/hook"}); err != nil {
		t.Fatal(err)
	}
	st := MustStatus(t, c, cfg)
	if got := st[1].State; got != migrations.Conflict {
		t.Errorf("0002 with a foreign webhook: %s, want conflict", got)
	}
	s.ResetCounters()
	_, err := migrations.Up(ctx, c, cfg)
	if !errors.Is(err, migrations.ErrConflict) || !strings.Contains(err.Error(), `Webhook "OTP Sales Order on_submit": not created by otp migrate`) {
		t.Fatalf("Up: %v, want a conflict naming the webhook", err)
	}
	if got := writes(s); len(got) != 0 {
		t.Errorf("up with a conflict wrote %v", got)
	}
	plan, err := migrations.Down(ctx, c, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if got := plan.Count(migrations.OpKeep); got != 1 {
		t.Errorf("down kept %d, want the foreign webhook", got)
	}
	if _, err := c.GetDoc(ctx, "Webhook", "OTP Sales Order on_submit"); err != nil {
		t.Errorf("foreign webhook after down: %v", err)
	}
}

func TestConfigErrors(t *testing.T) {
	s, srv := MustSandbox(t)
	c := MustClient(t, s, srv)
	ctx := testContext(t)
	good := MustConfig(t, s, "https://otp.example.com")
	tests := []struct {
		name string
		edit func(*migrations.Config)
		want error
	}{
		{"no secret", func(c *migrations.Config) { c.WebhookSecret = "" }, migrations.ErrNoSecret},
		{"relative URL", func(c *migrations.Config) { c.PublicURL = "otp.example.com" }, migrations.ErrNoPublicURL},
		{"URL with a query", func(c *migrations.Config) { c.PublicURL = "https://otp.example.com/?a=1" }, migrations.ErrNoPublicURL},
		{"no API user", func(c *migrations.Config) { c.APIUser = "" }, migrations.ErrNoAPIUser},
		{"API user with a quote", func(c *migrations.Config) { c.APIUser = `a"b@example.com` }, migrations.ErrNoAPIUser},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := good
			tt.edit(&cfg)
			s.ResetCounters()
			if _, err := migrations.PlanUp(ctx, c, cfg); !errors.Is(err, tt.want) {
				t.Errorf("PlanUp: %v, want %v", err, tt.want)
			}
			if got := s.TotalRequests(); got != 0 {
				t.Errorf("%d requests made with a bad configuration", got)
			}
		})
	}
}

// A site migrated before custom_otp_commented existed (every other
// document there, orders holding promises): status shows the fields step
// pending, and up creates exactly the missing field, keeps the promises,
// and leaves everything else alone.
func TestUpAddsANewFieldToAMigratedSite(t *testing.T) {
	s, srv := MustSandbox(t, sandbox.WithDemoData())
	c := MustClient(t, s, srv)
	cfg := MustConfig(t, s, "https://otp.example.com")
	ctx := testContext(t)
	if _, err := migrations.Up(ctx, c, cfg); err != nil {
		t.Fatal(err)
	}
	const marker = "Sales Order-" + erp.FieldCommented
	if err := c.DeleteDoc(ctx, "Custom Field", marker); err != nil {
		t.Fatal(err)
	}
	order := s.Demo().ContendedSO1
	if _, err := s.Update("Sales Order", order, map[string]any{erp.FieldPromiseDate: "2026-12-04"}); err != nil {
		t.Fatal(err)
	}

	want := allSteps(migrations.Applied)
	want["0001_order_promise_fields"] = migrations.Pending
	if diff := cmp.Diff(want, stepStates(MustStatus(t, c, cfg))); diff != "" {
		t.Fatalf("before up (-want +got):\n%s", diff)
	}
	s.ResetCounters()
	plan, err := migrations.Up(ctx, c, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]int{"POST /api/resource/Custom Field": 1}, writes(s)); diff != "" {
		t.Errorf("up's writes (-want +got):\n%s", diff)
	}
	if got := plan.Count(migrations.OpCreate); got != 1 {
		t.Errorf("up created %d documents, want 1", got)
	}
	if diff := cmp.Diff(allSteps(migrations.Applied), stepStates(MustStatus(t, c, cfg))); diff != "" {
		t.Errorf("after up (-want +got):\n%s", diff)
	}
	so, err := c.UpdateSalesOrder(ctx, &erp.SalesOrder{Name: order}, map[string]any{erp.FieldCommented: "2026-12-04|HIGH"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if so.Commented != "2026-12-04|HIGH" || so.PromiseDate != "2026-12-04" {
		t.Errorf("order after up: commented %q, promise %q; want the new field written and the promise kept", so.Commented, so.PromiseDate)
	}
}
