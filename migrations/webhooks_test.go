package migrations_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/erpnext-otp/otp/erp"
	"github.com/erpnext-otp/otp/erp/sandbox"
	"github.com/erpnext-otp/otp/migrations"
)

// Every value in a template goes through `| tojson`, and the items are read
// as doc["items"] (docs/erpnext.md#the-request-body): nothing renders as bare text.
func TestTemplatesSendEveryValueThroughToJSON(t *testing.T) {
	cfg := migrations.Config{PublicURL: "https://otp.example.com/", WebhookSecret: "x", APIUser: "otp@example.com"}
	outputTag := regexp.MustCompile(`{{(.*?)}}`)
	for _, step := range migrations.Steps()[1:] {
		for _, d := range step.Documents(cfg) {
			if d.DocType != "Webhook" {
				continue
			}
			tmpl := d.Fields["webhook_json"].(string)
			if strings.Contains(tmpl, "doc.items") || !strings.Contains(tmpl, `{%- for i in doc["items"] %}`) {
				t.Errorf("%s: items not read as doc[\"items\"]:\n%s", d.Name, tmpl)
			}
			for _, m := range outputTag.FindAllStringSubmatch(tmpl, -1) {
				expr := strings.TrimSpace(m[1])
				if expr != `"," if not loop.last else ""` && !strings.HasSuffix(expr, "| tojson") {
					t.Errorf("%s: {{ %s }} is not through tojson", d.Name, expr)
				}
			}
			if strings.Contains(tmpl, ".__") {
				t.Errorf("%s: Frappe refuses templates containing \".__\"", d.Name)
			}
		}
	}
}

// The webhooks: which doctype and event, where they post, and the
// condition that skips OTP's own saves (the list, docs/erpnext.md#which-save-fires-which-event, #otps-own-writes-and-the-loop).
func TestWebhookDefinitions(t *testing.T) {
	cfg := migrations.Config{PublicURL: "https://otp.example.com/", WebhookSecret: "x", APIUser: "otp@example.com"}
	type hook struct{ Name, DocType, Event, URL, Condition string }
	var got []hook
	for _, step := range migrations.Steps()[1:] {
		for _, d := range step.Documents(cfg) {
			if d.DocType != "Webhook" {
				continue
			}
			f := d.Fields
			if f["enable_security"] != 1 || f["enabled"] != 1 || f["request_structure"] != "JSON" || f["request_method"] != "POST" || f["webhook_secret"] != "x" {
				t.Errorf("%s: %v", d.Name, f)
			}
			got = append(got, hook{d.Name, f["webhook_doctype"].(string), f["webhook_docevent"].(string), f["request_url"].(string), f["condition"].(string)})
		}
	}
	const notOTP = `doc.modified_by != "otp@example.com"`
	u := func(slug, ev string) string {
		return "https://otp.example.com/webhooks/erpnext/" + slug + "?event=" + ev
	}
	want := []hook{
		{"OTP Sales Order on_update", "Sales Order", "on_update", u("sales-order", "on_update"), "doc.docstatus == 0 and " + notOTP},
		{"OTP Sales Order on_submit", "Sales Order", "on_submit", u("sales-order", "on_submit"), notOTP},
		{"OTP Sales Order on_change", "Sales Order", "on_change", u("sales-order", "on_change"), "doc.docstatus == 1 and " + notOTP},
		{"OTP Sales Order on_cancel", "Sales Order", "on_cancel", u("sales-order", "on_cancel"), notOTP},
		{"OTP Purchase Order on_submit", "Purchase Order", "on_submit", u("purchase-order", "on_submit"), notOTP},
		{"OTP Purchase Order on_change", "Purchase Order", "on_change", u("purchase-order", "on_change"), "doc.docstatus == 1 and " + notOTP},
		{"OTP Purchase Order on_cancel", "Purchase Order", "on_cancel", u("purchase-order", "on_cancel"), notOTP},
		{"OTP Purchase Receipt on_submit", "Purchase Receipt", "on_submit", u("purchase-receipt", "on_submit"), notOTP},
		{"OTP Purchase Receipt on_cancel", "Purchase Receipt", "on_cancel", u("purchase-receipt", "on_cancel"), notOTP},
		{"OTP Delivery Note on_submit", "Delivery Note", "on_submit", u("delivery-note", "on_submit"), notOTP},
		{"OTP Delivery Note on_cancel", "Delivery Note", "on_cancel", u("delivery-note", "on_cancel"), notOTP},
		{"OTP Stock Entry on_submit", "Stock Entry", "on_submit", u("stock-entry", "on_submit"), notOTP},
		{"OTP Stock Entry on_cancel", "Stock Entry", "on_cancel", u("stock-entry", "on_cancel"), notOTP},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("webhooks (-want +got):\n%s", diff)
	}
}

// hostileCustomer has what breaks a template that does not escape: quotes,
// a backslash, HTML, a newline, non-ASCII.
const hostileCustomer = "Zoë \"Q\" O'Brien \\ <b>&amp;</b> 漢字\tLtd"

// The migrated webhooks, fired by real saves in the sandbox: each delivery
// is signed with the secret, carries OTP's headers, posts to the right
// receiver with its event, and its body is valid JSON holding the
// document's values exactly (quotes, unicode, None as null). OTP's own save
// sends nothing.
func TestMigratedWebhooksDeliverValidSignedJSON(t *testing.T) {
	s, srv := MustSandbox(t)
	c := MustClient(t, s, srv)
	otp := newReceiver(t)
	cfg := MustConfig(t, s, otp.URL)
	ctx := testContext(t)
	if _, err := migrations.Up(ctx, c, cfg); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Insert("Customer", map[string]any{"customer_name": hostileCustomer}); err != nil {
		t.Fatal(err)
	}
	so, err := s.Insert("Sales Order", map[string]any{"customer": hostileCustomer, "company": sandbox.DemoCompany,
		"transaction_date": "2026-03-02", "items": []any{map[string]any{"item_code": sandbox.DemoItemInStock, "qty": 3, "rate": 1.5,
			"delivery_date": "2026-03-09", "warehouse": sandbox.DemoStores}}})
	if err != nil {
		t.Fatal(err)
	}
	name := so["name"].(string)
	if _, err := s.Submit("Sales Order", name); err != nil {
		t.Fatal(err)
	}
	// OTP's own write-back: skipped by the condition.
	if _, err := s.SaveAs(s.APIUser(), "Sales Order", name, map[string]any{erp.FieldPromiseDate: "2026-03-10"}); err != nil {
		t.Fatal(err)
	}
	// A planner moves the date: sent.
	if _, err := s.SaveAs("planner@example.com", "Sales Order", name, map[string]any{"po_no": "PO \"7\""}); err != nil {
		t.Fatal(err)
	}
	po, err := s.Insert("Purchase Order", map[string]any{"supplier": sandbox.DemoSupplier, "company": sandbox.DemoCompany,
		"transaction_date": "2026-03-02", "set_warehouse": sandbox.DemoStores, "docstatus": 1,
		"items": []any{map[string]any{"item_code": sandbox.DemoItemNoSupply, "qty": 7, "rate": 2.0, "schedule_date": "2026-03-20"}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Cancel("Sales Order", name); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Cancel("Purchase Order", po["name"].(string)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Insert("Stock Entry", map[string]any{"stock_entry_type": "Material Receipt", "company": sandbox.DemoCompany,
		"docstatus": 1, "items": []any{map[string]any{"item_code": sandbox.DemoItemNoSupply, "qty": 2, "t_warehouse": sandbox.DemoStores, "basic_rate": 1.0}}}); err != nil {
		t.Fatal(err)
	}
	mustWebhooks(t, s)

	type delivery struct{ Path, Event, DocType, Name string }
	var got []delivery
	bodies := map[string]map[string]any{}
	for _, d := range otp.deliveries() {
		if !signed(d, testSecret) {
			t.Errorf("%s %s: bad signature", d.Path, d.Query.Get("event"))
		}
		if d.Header.Get("Content-Type") != "application/json" || d.Header.Get(migrations.HeaderMigration) == "" ||
			d.Header.Get(migrations.HeaderSecretFingerprint) != migrations.SecretFingerprint(testSecret) {
			t.Errorf("%s %s: headers %v", d.Path, d.Query.Get("event"), d.Header)
		}
		var body map[string]any
		if err := json.Unmarshal(d.Body, &body); err != nil {
			t.Errorf("%s %s: body is not JSON: %v\n%s", d.Path, d.Query.Get("event"), err, d.Body)
			continue
		}
		doctype, _ := body["doctype"].(string)
		docName, _ := body["name"].(string)
		got = append(got, delivery{d.Path, d.Query.Get("event"), doctype, docName})
		bodies[doctype+" "+d.Query.Get("event")] = body
	}
	const soPath, poPath, sePath = "/webhooks/erpnext/sales-order", "/webhooks/erpnext/purchase-order", "/webhooks/erpnext/stock-entry"
	poName := po["name"].(string)
	want := []delivery{
		{soPath, "on_update", "Sales Order", name},
		{soPath, "on_submit", "Sales Order", name},
		{soPath, "on_change", "Sales Order", name},      // submit
		{soPath, "on_change", "Sales Order", name},      // the planner's save; OTP's own sent nothing
		{poPath, "on_submit", "Purchase Order", poName}, // inserted submitted: no on_change during insert (docs/erpnext.md#which-save-fires-which-event)
		{soPath, "on_cancel", "Sales Order", name},
		{poPath, "on_cancel", "Purchase Order", poName},
		{sePath, "on_submit", "Stock Entry", ""},
	}
	// The Stock Entry's name comes from its series; compare it apart.
	for i := range got {
		if got[i].DocType == "Stock Entry" {
			if !strings.HasPrefix(got[i].Name, "MAT-STE-") {
				t.Errorf("stock entry name %q", got[i].Name)
			}
			got[i].Name = ""
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("deliveries (-want +got):\n%s", diff)
	}

	first := bodies["Sales Order on_update"]
	wantSO := map[string]any{
		"doctype": "Sales Order", "name": name, "docstatus": 0.0, "status": "Draft", "customer": hostileCustomer,
		"company": sandbox.DemoCompany, "transaction_date": "2026-03-02", "delivery_date": "2026-03-09",
		"set_warehouse": nil, "modified_by": "Administrator",
		erp.FieldPromiseDate: nil, erp.FieldConfidence: nil, erp.FieldPromiseStatus: nil, erp.FieldFirstPromiseDate: nil,
		erp.FieldPromisedAt: nil, erp.FieldFingerprint: nil,
	}
	for k, v := range wantSO {
		if diff := cmp.Diff(v, first[k]); diff != "" {
			t.Errorf("Sales Order on_update %s (-want +got):\n%s", k, diff)
		}
	}
	if m, _ := first["modified"].(string); !regexp.MustCompile(`^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)?$`).MatchString(m) {
		t.Errorf("modified %q is not Frappe's datetime", first["modified"])
	}
	items, _ := first["items"].([]any)
	if len(items) != 1 {
		t.Fatalf("items: %v", first["items"])
	}
	item := items[0].(map[string]any)
	wantItem := map[string]any{"idx": 1.0, "item_code": sandbox.DemoItemInStock, "qty": 3.0, "stock_qty": 3.0, "uom": sandbox.DemoUOM,
		"stock_uom": sandbox.DemoUOM, "conversion_factor": 1.0, "warehouse": sandbox.DemoStores, "delivery_date": "2026-03-09",
		"delivered_qty": 0.0, erp.FieldLinePromiseDate: nil, erp.FieldLineConfidence: nil}
	for k, v := range wantItem {
		if diff := cmp.Diff(v, item[k]); diff != "" {
			t.Errorf("Sales Order item %s (-want +got):\n%s", k, diff)
		}
	}
	if got := bodies["Sales Order on_change"][erp.FieldPromiseDate]; got != "2026-03-10" {
		t.Errorf("on_change after the write-back carries promise date %v, want 2026-03-10", got)
	}
	if got := bodies["Purchase Order on_submit"]["items"].([]any)[0].(map[string]any)["item_code"]; got != sandbox.DemoItemNoSupply {
		t.Errorf("Purchase Order item_code %v", got)
	}
	if got := bodies["Stock Entry on_submit"]["items"].([]any)[0].(map[string]any)["t_warehouse"]; got != sandbox.DemoStores {
		t.Errorf("Stock Entry t_warehouse %v", got)
	}
}

// A Purchase Receipt and a Delivery Note fire their supply webhooks, and
// the documents they update (the Purchase Order, the Sales Order) fire
// on_change through db_set (docs/erpnext.md#which-save-fires-which-event).
func TestReceiptAndDeliveryFireSupplyWebhooks(t *testing.T) {
	s, srv := MustSandbox(t)
	c := MustClient(t, s, srv)
	otp := newReceiver(t)
	ctx := testContext(t)
	if _, err := migrations.Up(ctx, c, MustConfig(t, s, otp.URL)); err != nil {
		t.Fatal(err)
	}
	demo := s.Demo()
	po, err := s.Get("Purchase Order", demo.OpenPO)
	if err != nil {
		t.Fatal(err)
	}
	poRow := po["items"].([]any)[0].(map[string]any)
	if _, err := s.Insert("Purchase Receipt", map[string]any{"supplier": sandbox.DemoSupplier, "company": sandbox.DemoCompany,
		"docstatus": 1, "items": []any{map[string]any{"item_code": sandbox.DemoItemContended, "qty": 5, "warehouse": sandbox.DemoStores,
			"purchase_order": demo.OpenPO, "purchase_order_item": poRow["name"], "rate": 8.0}}}); err != nil {
		t.Fatal(err)
	}
	so, err := s.Get("Sales Order", demo.PastDueSO)
	if err != nil {
		t.Fatal(err)
	}
	soRow := so["items"].([]any)[0].(map[string]any)
	if _, err := s.Insert("Delivery Note", map[string]any{"customer": sandbox.DemoCustomer3, "company": sandbox.DemoCompany,
		"docstatus": 1, "items": []any{map[string]any{"item_code": sandbox.DemoItemInStock, "qty": 2, "warehouse": sandbox.DemoStores,
			"against_sales_order": demo.PastDueSO, "so_detail": soRow["name"], "rate": 12.0}}}); err != nil {
		t.Fatal(err)
	}
	mustWebhooks(t, s)
	var got []string
	for _, d := range otp.deliveries() {
		var body struct {
			DocType string `json:"doctype"`
			Name    string `json:"name"`
			Items   []struct {
				ItemCode string `json:"item_code"`
			} `json:"items"`
		}
		if err := json.Unmarshal(d.Body, &body); err != nil || !signed(d, testSecret) {
			t.Errorf("%s: %v, signed %v", d.Path, err, signed(d, testSecret))
		}
		codes := []string{}
		for _, it := range body.Items {
			codes = append(codes, it.ItemCode)
		}
		got = append(got, d.Path+" "+d.Query.Get("event")+" "+body.DocType+" "+strings.Join(codes, ","))
	}
	slices.Sort(got)
	want := []string{
		"/webhooks/erpnext/delivery-note on_submit Delivery Note " + sandbox.DemoItemInStock,
		"/webhooks/erpnext/purchase-order on_change Purchase Order " + sandbox.DemoItemContended,
		"/webhooks/erpnext/purchase-receipt on_submit Purchase Receipt " + sandbox.DemoItemContended,
		"/webhooks/erpnext/sales-order on_change Sales Order " + sandbox.DemoItemInStock,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("deliveries (-want +got):\n%s", diff)
	}
}

// The secret cannot be read back (ERPNext shows asterisks): a changed
// OTP_WEBHOOK_SECRET shows as drift through the length or the fingerprint
// row, and up re-sends it, after which deliveries carry the new signature.
func TestSecretDriftIsDetectedAndRepaired(t *testing.T) {
	s, srv := MustSandbox(t)
	c := MustClient(t, s, srv)
	otp := newReceiver(t)
	cfg := MustConfig(t, s, otp.URL)
	ctx := testContext(t)
	if _, err := migrations.Up(ctx, c, cfg); err != nil {
		t.Fatal(err)
	}
	have, err := c.GetDoc(ctx, "Webhook", "OTP Sales Order on_submit")
	if err != nil {
		t.Fatal(err)
	}
	if want := strings.Repeat("*", len(testSecret)); have["webhook_secret"] != want {
		t.Fatalf("the sandbox shows the secret as %q, want %q as Frappe does", have["webhook_secret"], want)
	}

	secretDiffs := func(cfg migrations.Config) (map[migrations.State]int, []string) {
		states := map[migrations.State]int{}
		var haves []string
		for _, st := range MustStatus(t, c, cfg)[1:] {
			for _, d := range st.Docs {
				if d.DocType != "Webhook" {
					continue
				}
				states[d.State]++
				for _, df := range d.Diffs {
					if df.Field != "webhook_secret" {
						t.Errorf("%s: unexpected difference %s", d.Name, df)
					}
					if !slices.Contains(haves, df.Have) {
						haves = append(haves, df.Have)
					}
				}
			}
		}
		return states, haves
	}

	sameLength := cfg
	sameLength.WebhookSecret = strings.ToUpper(testSecret)
	states, haves := secretDiffs(sameLength)
	if diff := cmp.Diff(map[migrations.State]int{migrations.Drifted: 13}, states); diff != "" {
		t.Errorf("another secret of the same length (-want +got):\n%s", diff)
	}
	if want := []string{"another secret (fingerprint " + migrations.SecretFingerprint(testSecret) + ")"}; !cmp.Equal(want, haves) {
		t.Errorf("have %q, want %q", haves, want)
	}

	longer := cfg
	longer.WebhookSecret = testSecret + "-rotated"
	if _, haves := secretDiffs(longer); !cmp.Equal([]string{"a secret of 33 characters"}, haves) {
		t.Errorf("another length: have %q", haves)
	}

	unknown := cfg
	unknown.WebhookSecret = ""
	if states, _ := secretDiffs(unknown); states[migrations.Applied] != 13 {
		t.Errorf("without OTP_WEBHOOK_SECRET the secret is not compared: %v", states)
	}

	s.ResetCounters()
	if _, err := migrations.Up(ctx, c, sameLength); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]int{"PUT /api/resource/Webhook": 13}, writes(s)); diff != "" {
		t.Errorf("rotating the secret (-want +got):\n%s", diff)
	}
	if states, _ := secretDiffs(sameLength); states[migrations.Applied] != 13 {
		t.Errorf("after up with the new secret: %v", states)
	}
	otp.reset()
	if _, err := s.Update("Sales Order", s.Demo().DraftSO, map[string]any{"po_no": "x"}); err != nil {
		t.Fatal(err)
	}
	mustWebhooks(t, s)
	d := otp.deliveries()
	if len(d) != 1 || !signed(d[0], sameLength.WebhookSecret) || signed(d[0], testSecret) {
		t.Errorf("after rotation: %d deliveries, signed with the new secret %v", len(d), len(d) == 1 && signed(d[0], sameLength.WebhookSecret))
	}

	// A fingerprint row removed by hand: the secret can no longer be vouched for.
	if _, err := s.Update("Webhook", "OTP Stock Entry on_cancel", map[string]any{"webhook_headers": []any{
		map[string]any{"key": "Content-Type", "value": "application/json"},
		map[string]any{"key": migrations.HeaderMigration, "value": "0003_supply_webhooks"},
	}}); err != nil {
		t.Fatal(err)
	}
	st := MustStatus(t, c, sameLength)
	var out bytes.Buffer
	if err := migrations.WriteStatus(&out, st); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), `0003_supply_webhooks Webhook "OTP Stock Entry on_cancel": drifted`) ||
		!strings.Contains(out.String(), "have a secret of the same length, no X-OTP-Secret-Fingerprint row") {
		t.Errorf("status:\n%s", out.String())
	}
}

func TestWebhookTemplate(t *testing.T) {
	so := migrations.WebhookTemplate("Sales Order")
	for _, want := range []string{`"name": {{ doc["name"] | tojson }},`, `"modified": {{ doc["modified"] | tojson }},`,
		`"custom_otp_promise_date": {{ doc["custom_otp_promise_date"] | tojson }},`, `"item_code": {{ i["item_code"] | tojson }}`} {
		if !strings.Contains(so, want) {
			t.Errorf("Sales Order template lacks %s:\n%s", want, so)
		}
	}
	if got := migrations.WebhookTemplate("Stock Entry"); !strings.Contains(got, `"t_warehouse": {{ i["t_warehouse"] | tojson }}`) {
		t.Errorf("Stock Entry template:\n%s", got)
	}
	if got := migrations.WebhookTemplate("Customer"); got != "" {
		t.Errorf("Customer template %q, want none", got)
	}
}

// An order of several lines renders them all, comma-separated: the body
// is valid JSON with every line in order.
func TestSeveralLinesRenderAsOneJSONList(t *testing.T) {
	s, srv := MustSandbox(t)
	c := MustClient(t, s, srv)
	otp := newReceiver(t)
	if _, err := migrations.Up(testContext(t), c, MustConfig(t, s, otp.URL)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Update("Sales Order", s.Demo().MultiLineSO, map[string]any{"po_no": "x"}); err != nil {
		t.Fatal(err)
	}
	mustWebhooks(t, s)
	d := otp.deliveries()
	if len(d) != 1 {
		t.Fatalf("%d deliveries, want the on_change of %s", len(d), s.Demo().MultiLineSO)
	}
	var body struct {
		Items []struct {
			Idx      int     `json:"idx"`
			ItemCode string  `json:"item_code"`
			Qty      float64 `json:"qty"`
			StockQty float64 `json:"stock_qty"`
		} `json:"items"`
	}
	if err := json.Unmarshal(d[0].Body, &body); err != nil {
		t.Fatalf("%v\n%s", err, d[0].Body)
	}
	var got []string
	for _, it := range body.Items {
		got = append(got, fmt.Sprintf("%d %s %g/%g", it.Idx, it.ItemCode, it.Qty, it.StockQty))
	}
	want := []string{"1 " + sandbox.DemoItemPartlyIn + " 10/10", "2 " + sandbox.DemoItemBox + " 2/24", "3 " + sandbox.DemoItemService + " 1/1"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("lines (-want +got):\n%s", diff)
	}
}

// frappeMasking reads Webhooks as Frappe shows them: a Password field is
// "*" * len(secret) in Python, one asterisk per character, not per byte
// (base_document.py _save_passwords).
type frappeMasking struct {
	migrations.Client
	secret string
}

func (f frappeMasking) GetDoc(ctx context.Context, doctype, name string) (map[string]any, error) {
	doc, err := f.Client.GetDoc(ctx, doctype, name)
	if err == nil && doctype == "Webhook" && doc["webhook_secret"] != nil {
		doc["webhook_secret"] = strings.Repeat("*", utf8.RuneCountInString(f.secret))
	}
	return doc, err
}

// A secret with non-ASCII characters is masked with one asterisk per
// character: once up has sent it, status finds every step applied and a
// second up writes nothing (it used to compare the byte length, see the
// secret drifted and re-send it on every run).
func TestNonASCIISecretIsNotDrift(t *testing.T) {
	s, srv := MustSandbox(t)
	cfg := MustConfig(t, s, newReceiver(t).URL)
	cfg.WebhookSecret = "pässwörd-für-otp-ß"
	c := frappeMasking{Client: MustClient(t, s, srv), secret: cfg.WebhookSecret}
	ctx := testContext(t)
	if _, err := migrations.Up(ctx, c, cfg); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(allSteps(migrations.Applied), stepStates(MustStatus(t, c, cfg))); diff != "" {
		t.Errorf("after up (-want +got):\n%s", diff)
	}
	p, err := migrations.PlanUp(ctx, c, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Writes(); len(got) != 0 {
		t.Errorf("second up would write %d time(s), the first %v", len(got), got[0])
	}
}
