package migrations

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/erpnext-otp/otp/erp"
)

// Header rows every OTP webhook carries besides the signature.
const (
	// HeaderMigration names the step that created the webhook: the mark
	// that otp migrate made it, so Down may delete it.
	HeaderMigration = "X-OTP-Migration"
	// HeaderSecretFingerprint is SecretFingerprint of the secret the
	// webhook was given, so a changed OTP_WEBHOOK_SECRET shows as drift.
	HeaderSecretFingerprint = "X-OTP-Secret-Fingerprint"
)

// SecretFingerprint is the first 16 hex digits of
// HMAC-SHA256(secret, "otp-migrate secret fingerprint"). It tells two
// secrets apart and, like the signature every delivery carries, says
// nothing about the secret to whoever lacks it.
func SecretFingerprint(secret string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte("otp-migrate secret fingerprint"))
	return hex.EncodeToString(m.Sum(nil))[:16]
}

// webhook is one Frappe Webhook (docs/erpnext.md#the-webhook-document): JSON request
// structure, signed, POST to one of OTP's receivers.
type webhook struct {
	step      string
	DocType   string
	Event     string
	Condition string
	URL       string
	Template  string
	Secret    string // "" when unknown (Status without OTP_WEBHOOK_SECRET)
}

// webhookName is the webhook's document name: Frappe v15's Webhook is
// named by the user ("autoname": "prompt"), so the name is ours to choose.
func webhookName(doctype, event string) string { return "OTP " + doctype + " " + event }

// headers are the header rows besides the fingerprint. Frappe sends no
// Content-Type of its own (docs/erpnext.md#headers).
func (w webhook) headers() [][2]string {
	return [][2]string{{"Content-Type", "application/json"}, {HeaderMigration, w.step}}
}

func (w webhook) headerRows() []any {
	var rows []any
	for _, h := range w.headers() {
		rows = append(rows, map[string]any{"key": h[0], "value": h[1]})
	}
	if w.Secret != "" {
		rows = append(rows, map[string]any{"key": HeaderSecretFingerprint, "value": SecretFingerprint(w.Secret)})
	}
	return rows
}

// managed are the scalar fields otp migrate defines and compares.
func (w webhook) managed() []kv {
	return []kv{
		{"webhook_doctype", w.DocType},
		{"webhook_docevent", w.Event},
		{"enabled", 1},
		{"condition", w.Condition},
		{"request_url", w.URL},
		{"request_method", "POST"},
		{"request_structure", "JSON"},
		{"webhook_json", w.Template},
		{"enable_security", 1},
	}
}

func (w webhook) document() Document {
	fields := map[string]any{"name": webhookName(w.DocType, w.Event)}
	for _, p := range w.managed() {
		fields[p.k] = p.v
	}
	fields["webhook_headers"] = w.headerRows()
	if w.Secret != "" {
		fields["webhook_secret"] = w.Secret
	}
	return Document{DocType: "Webhook", Name: webhookName(w.DocType, w.Event), Fields: fields}
}

// haveHeaders returns the webhook's header rows in order, and the
// fingerprint row's value apart from them.
func haveHeaders(have map[string]any) (rows [][2]string, fingerprint string, hasFingerprint bool) {
	list, _ := have["webhook_headers"].([]any)
	for _, r := range list {
		m, ok := r.(map[string]any)
		if !ok {
			continue
		}
		k, v := str(m["key"]), str(m["value"])
		if strings.EqualFold(k, HeaderSecretFingerprint) {
			fingerprint, hasFingerprint = v, true
			continue
		}
		rows = append(rows, [2]string{k, v})
	}
	return rows, fingerprint, hasFingerprint
}

// owned: the webhook carries X-OTP-Migration naming this step.
func (w webhook) owned(have map[string]any) (bool, string) {
	rows, _, _ := haveHeaders(have)
	for _, h := range rows {
		if strings.EqualFold(h[0], HeaderMigration) {
			if h[1] == w.step {
				return true, ""
			}
			return false, fmt.Sprintf("its %s header names %q, not %q", HeaderMigration, h[1], w.step)
		}
	}
	return false, fmt.Sprintf("not created by otp migrate (no %s header); rename or delete it", HeaderMigration)
}

func (w webhook) adoptable() bool { return false }

func (w webhook) compare(have map[string]any) ([]Diff, []string) {
	var diffs []Diff
	var notes []string
	for _, p := range w.managed() {
		raw := have[p.k]
		switch want := p.v.(type) {
		case int:
			if got := toInt(raw); got != want {
				diffs = append(diffs, Diff{Field: p.k, Have: strconv.Itoa(got), Want: strconv.Itoa(want), set: map[string]any{p.k: want}})
			}
		case string:
			if got := str(raw); got != want {
				d := Diff{Field: p.k, Have: strconv.Quote(got), Want: strconv.Quote(want), set: map[string]any{p.k: want}}
				if strings.Contains(want, "\n") || strings.Contains(got, "\n") {
					d.Have, d.Want = firstDifference(got, want)
				}
				diffs = append(diffs, d)
			}
		}
	}

	rows, fp, hasFP := haveHeaders(have)
	if want := w.headers(); !equalRows(rows, want) {
		diffs = append(diffs, Diff{Field: "webhook_headers", Have: formatRows(rows), Want: formatRows(want),
			set: map[string]any{"webhook_headers": w.headerRows()}})
	}

	// webhook_secret is a Password field: a read gives one "*" per
	// character ("*" * len(secret) in Python: code points, not bytes). The
	// length and the fingerprint row are what can be told.
	if w.Secret == "" {
		notes = append(notes, "webhook_secret: not compared (OTP_WEBHOOK_SECRET is unset)")
		return diffs, notes
	}
	masked := str(have["webhook_secret"])
	fix := map[string]any{"webhook_secret": w.Secret, "webhook_headers": w.headerRows()}
	secretLen := utf8.RuneCountInString(w.Secret)
	want := fmt.Sprintf("OTP_WEBHOOK_SECRET (%d characters, fingerprint %s)", secretLen, SecretFingerprint(w.Secret))
	switch {
	case masked == "":
		diffs = append(diffs, Diff{Field: "webhook_secret", Have: "none", Want: want, set: fix})
	case strings.Trim(masked, "*") == "" && len(masked) != secretLen:
		diffs = append(diffs, Diff{Field: "webhook_secret", Have: fmt.Sprintf("a secret of %d characters", len(masked)), Want: want, set: fix})
	case strings.Trim(masked, "*") != "" && masked != w.Secret:
		diffs = append(diffs, Diff{Field: "webhook_secret", Have: "another secret", Want: want, set: fix})
	case !hasFP:
		diffs = append(diffs, Diff{Field: "webhook_secret", Have: "a secret of the same length, no " + HeaderSecretFingerprint + " row", Want: want, set: fix})
	case fp != SecretFingerprint(w.Secret):
		diffs = append(diffs, Diff{Field: "webhook_secret", Have: "another secret (fingerprint " + fp + ")", Want: want, set: fix})
	}
	return diffs, notes
}

func equalRows(a, b [][2]string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func formatRows(rows [][2]string) string {
	parts := make([]string, len(rows))
	for i, r := range rows {
		parts[i] = r[0] + ": " + r[1]
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// firstDifference shows where two multi-line texts part: the first line
// that differs in each, with its number.
func firstDifference(have, want string) (string, string) {
	h, w := strings.Split(have, "\n"), strings.Split(want, "\n")
	for i := 0; i < max(len(h), len(w)); i++ {
		var hl, wl string
		if i < len(h) {
			hl = h[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if hl != wl || i >= len(h) || i >= len(w) {
			at := func(lines []string, l string) string {
				if i >= len(lines) {
					return fmt.Sprintf("line %d: (none)", i+1)
				}
				return fmt.Sprintf("line %d: %s", i+1, strconv.Quote(l))
			}
			return at(h, hl), at(w, wl)
		}
	}
	return strconv.Quote(have), strconv.Quote(want)
}

// A webhook body must be valid JSON whatever the document holds
// (docs/erpnext.md#the-request-body): every value goes through `| tojson` (a None
// becomes null, a quote is escaped, a number stays a number), and the child
// table is read as doc["items"] (doc.items is the dict method). The keys
// are read with ["..."] too, so that no field name can meet a dict method.
// A body whose template fails to render is never sent (docs/erpnext.md#the-request-body), so these are
// kept to fields every ERPNext v15 site has; a missing one renders null.

// jsonTemplate builds the webhook_json for a doctype: its fields, then its
// items with their fields, separated by commas. The separator's inline if
// has an explicit else: Jinja before 3.0 rendered a missing else with the
// environment's Undefined, which in Frappe is DebugUndefined, whose text
// would break the JSON.
func jsonTemplate(fields, itemFields []string) string {
	var b strings.Builder
	b.WriteString("{\n")
	for _, f := range fields {
		fmt.Fprintf(&b, "  %q: {{ doc[%q] | tojson }},\n", f, f)
	}
	b.WriteString("  \"items\": [\n")
	b.WriteString("  {%- for i in doc[\"items\"] %}\n    {")
	for j, f := range itemFields {
		if j > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%q: {{ i[%q] | tojson }}", f, f)
	}
	b.WriteString("}{{ \",\" if not loop.last else \"\" }}\n  {%- endfor %}\n  ]\n}")
	return b.String()
}

// Fields each webhook sends. The server needs doctype, name and modified
// (its idempotency key, docs/erpnext.md#the-signature) and the items' item_code; the promise fields
// let it tell a no-op save from a change.
var (
	salesOrderFields = []string{"doctype", "name", "docstatus", "status", "customer", "company",
		"transaction_date", "delivery_date", "set_warehouse", "modified", "modified_by",
		erp.FieldPromiseDate, erp.FieldConfidence, erp.FieldPromiseStatus, erp.FieldFirstPromiseDate,
		erp.FieldPromisedAt, erp.FieldFingerprint}
	salesOrderItemFields = []string{"name", "idx", "item_code", "qty", "stock_qty", "uom", "stock_uom",
		"conversion_factor", "warehouse", "delivery_date", "delivered_qty",
		erp.FieldLinePromiseDate, erp.FieldLineConfidence}

	supplyFields = map[string][2][]string{
		"Purchase Order": {
			{"doctype", "name", "docstatus", "status", "company", "transaction_date", "schedule_date", "set_warehouse", "modified", "modified_by"},
			{"name", "idx", "item_code", "warehouse", "qty", "received_qty", "stock_qty", "conversion_factor", "schedule_date", "expected_delivery_date"},
		},
		"Purchase Receipt": {
			{"doctype", "name", "docstatus", "status", "company", "posting_date", "is_return", "modified", "modified_by"},
			{"name", "idx", "item_code", "warehouse", "qty", "received_qty", "stock_qty", "conversion_factor", "purchase_order"},
		},
		"Delivery Note": {
			{"doctype", "name", "docstatus", "status", "company", "posting_date", "is_return", "modified", "modified_by"},
			{"name", "idx", "item_code", "warehouse", "qty", "stock_qty", "conversion_factor", "against_sales_order", "so_detail"},
		},
		"Stock Entry": {
			{"doctype", "name", "docstatus", "stock_entry_type", "purpose", "company", "posting_date", "modified", "modified_by"},
			{"name", "idx", "item_code", "s_warehouse", "t_warehouse", "qty", "transfer_qty", "conversion_factor"},
		},
	}
)

// Receiver paths of OTP's server.
var receiverSlugs = map[string]string{
	"Sales Order":      "sales-order",
	"Purchase Order":   "purchase-order",
	"Purchase Receipt": "purchase-receipt",
	"Delivery Note":    "delivery-note",
	"Stock Entry":      "stock-entry",
}

// receiverURL is where a doctype's webhook posts; the event rides in the
// query (the server logs and queues it with the task).
func receiverURL(publicURL, doctype, event string) string {
	return strings.TrimRight(publicURL, "/") + "/webhooks/erpnext/" + receiverSlugs[doctype] + "?event=" + url.QueryEscape(event)
}

// notUser is the condition that skips saves made by OTP's API user: the
// write-back of a promise is such a save (docs/erpnext.md#conditions, #otps-own-writes-and-the-loop).
// modified_by is the user of the save being sent.
func notUser(user string) string { return "doc.modified_by != " + `"` + user + `"` }

func and(conds ...string) string {
	var parts []string
	for _, c := range conds {
		if c != "" {
			parts = append(parts, c)
		}
	}
	return strings.Join(parts, " and ")
}

// event is one webhook of a step: a doctype's event and its own condition.
type event struct {
	doctype, event, condition string
}

// WebhookTemplate returns the webhook_json OTP's webhooks for doctype use
// ("Sales Order", "Purchase Order", "Purchase Receipt", "Delivery Note",
// "Stock Entry"), or "" for another doctype.
func WebhookTemplate(doctype string) string {
	if doctype == "Sales Order" {
		return jsonTemplate(salesOrderFields, salesOrderItemFields)
	}
	if f, ok := supplyFields[doctype]; ok {
		return jsonTemplate(f[0], f[1])
	}
	return ""
}

func webhooks(step string, cfg Config, events []event) []resource {
	out := make([]resource, len(events))
	for i, e := range events {
		tmpl := WebhookTemplate(e.doctype)
		out[i] = webhook{
			step:      step,
			DocType:   e.doctype,
			Event:     e.event,
			Condition: and(e.condition, notUser(cfg.APIUser)),
			URL:       receiverURL(cfg.PublicURL, e.doctype, e.event),
			Template:  tmpl,
			Secret:    cfg.WebhookSecret,
		}
	}
	return out
}

// Conditions. Frappe runs a condition on the live document (docs/erpnext.md#conditions); a "<"
// or ">" would be HTML-sanitised out of the Small Text field, so none is used.
const (
	draft     = "doc.docstatus == 0"
	submitted = "doc.docstatus == 1"
)

// salesOrderWebhooks: drafts through on_update (a draft insert or save),
// submission through on_submit, every later change of a submitted order
// through on_change (on_update_after_submit never fires on v15, and
// delivery and billing update the order through db_set, which fires only
// on_change: docs/erpnext.md#which-save-fires-which-event), and cancellation through on_cancel.
var salesOrderWebhooks = Step{
	ID:      "0002_sales_order_webhooks",
	Summary: "Webhooks: Sales Order saved, submitted, changed, cancelled",
	build: func(cfg Config) []resource {
		return webhooks("0002_sales_order_webhooks", cfg, []event{
			{"Sales Order", "on_update", draft},
			{"Sales Order", "on_submit", ""},
			{"Sales Order", "on_change", submitted},
			{"Sales Order", "on_cancel", ""},
		})
	},
}

// supplyWebhooks: what changes supply or competing demand. A Purchase Order
// that slips or is received changes through update-after-submit or db_set
// (on_change), drafts do not count.
var supplyWebhooks = Step{
	ID:      "0003_supply_webhooks",
	Summary: "Webhooks: Purchase Order, Purchase Receipt, Delivery Note, Stock Entry submitted or cancelled",
	build: func(cfg Config) []resource {
		return webhooks("0003_supply_webhooks", cfg, []event{
			{"Purchase Order", "on_submit", ""},
			{"Purchase Order", "on_change", submitted},
			{"Purchase Order", "on_cancel", ""},
			{"Purchase Receipt", "on_submit", ""},
			{"Purchase Receipt", "on_cancel", ""},
			{"Delivery Note", "on_submit", ""},
			{"Delivery Note", "on_cancel", ""},
			{"Stock Entry", "on_submit", ""},
			{"Stock Entry", "on_cancel", ""},
		})
	},
}
