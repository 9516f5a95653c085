package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/erpnext-otp/otp/erp"
	"github.com/erpnext-otp/otp/erp/sandbox"
	"github.com/erpnext-otp/otp/migrations"
)

// devSite is what the embedded sandbox needs to send OTP its Sales Orders.
type devSite struct {
	WebhookURL string // OTP's /webhooks/erpnext/sales-order
	Secret     string // the webhook HMAC secret
	APIUser    string // OTP's own writes are not sent back
}

// customField is one of OTP's custom fields (DESIGN.md §5.5).
type customField struct {
	DocType, FieldName, Label, FieldType, Options, InsertAfter string
}

// customFields are OTP's custom fields (the migrations own their full
// definition); tests that build a site by hand use this list.
var customFields = []customField{
	{"Sales Order", erp.FieldPromiseDate, "OTP Promise Date", "Date", "", "delivery_date"},
	{"Sales Order", erp.FieldConfidence, "OTP Confidence", "Select", "\nHIGH\nMEDIUM\nLOW", erp.FieldPromiseDate},
	{"Sales Order", erp.FieldPromiseStatus, "OTP Status", "Data", "", erp.FieldConfidence},
	{"Sales Order", erp.FieldFirstPromiseDate, "OTP First Promise Date", "Date", "", erp.FieldPromiseStatus},
	{"Sales Order", erp.FieldPromisedAt, "OTP Promised At", "Datetime", "", erp.FieldFirstPromiseDate},
	{"Sales Order", erp.FieldExplanation, "OTP Explanation", "Small Text", "", erp.FieldPromisedAt},
	{"Sales Order", erp.FieldFingerprint, "OTP Fingerprint", "Data", "", erp.FieldExplanation},
	{"Sales Order Item", erp.FieldLinePromiseDate, "OTP Promise Date", "Date", "", "delivery_date"},
	{"Sales Order Item", erp.FieldLineConfidence, "OTP Confidence", "Select", "\nHIGH\nMEDIUM\nLOW", erp.FieldLinePromiseDate},
}

// setUpDevSite makes a site ready for OTP with the migrations, the one
// definition of OTP's ERPNext customisations (`otp migrate up`): the custom
// fields, the Sales Order webhooks and the supply webhooks, signed with
// s.Secret and skipping saves by s.APIUser. It is idempotent.
func setUpDevSite(ctx context.Context, c *erp.Client, s devSite) error {
	// The webhooks post to OTP_PUBLIC_URL + /webhooks/erpnext/<doctype>.
	base := strings.TrimSuffix(s.WebhookURL, "/webhooks/erpnext/sales-order")
	_, err := migrations.Up(ctx, c, migrations.Config{PublicURL: base, WebhookSecret: s.Secret, APIUser: s.APIUser})
	return err
}

// The sandbox has one API token, OTP's own, and OTP does not promise its own
// saves again (they are its write-backs). So that `make run` can show a save
// by a person, the dev site adds a sales desk: a second token whose PUTs are
// saved in process as demoSalesUser through Sandbox.SaveAs, which runs the
// same code as REST (validation, bookkeeping, webhooks).
const (
	demoSalesUser  = "sales@example.com"
	demoSalesKey   = "demo-sales-key"
	demoSalesToken = "token " + demoSalesKey + ":demo-sales-secret"
)

// salesDesk serves PUT /api/resource/{doctype}/{name} for the demo sales
// token and passes every other request to the sandbox.
type salesDesk struct {
	sb   *sandbox.Sandbox
	next http.Handler
}

func (d salesDesk) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != demoSalesToken {
		d.next.ServeHTTP(w, r)
		return
	}
	reply := func(status int, v any) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(v)
	}
	path := strings.TrimPrefix(strings.TrimPrefix(r.URL.EscapedPath(), "/api/v1/"), "/api/")
	parts := strings.Split(strings.TrimPrefix(path, "resource/"), "/")
	if r.Method != http.MethodPut || !strings.HasPrefix(path, "resource/") || len(parts) != 2 {
		reply(http.StatusForbidden, map[string]string{"exc_type": "PermissionError",
			"_error_message": "the demo sales token can only save documents: PUT /api/resource/{doctype}/{name}"})
		return
	}
	doctype, err1 := url.PathUnescape(parts[0])
	name, err2 := url.PathUnescape(parts[1])
	var fields map[string]any
	body, err3 := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if len(strings.TrimSpace(string(body))) > 0 && err3 == nil {
		err3 = json.Unmarshal(body, &fields)
	}
	if err := errors.Join(err1, err2, err3); err != nil {
		reply(http.StatusBadRequest, map[string]string{"exc_type": "ValidationError", "exception": err.Error()})
		return
	}
	doc, err := d.sb.SaveAs(demoSalesUser, doctype, name, fields)
	var serr *sandbox.Error
	switch {
	case errors.As(err, &serr):
		reply(serr.Status, map[string]string{"exc_type": serr.ExcType, "exception": serr.Message})
	case err != nil:
		reply(http.StatusInternalServerError, map[string]string{"exc_type": "Exception", "exception": err.Error()})
	default:
		reply(http.StatusOK, map[string]any{"data": doc})
	}
}

// demoOrder is the order `make run`'s curl saves: three lines (one in
// boxes of 12, one a service), all coverable from stock.
func demoOrder(sb *sandbox.Sandbox) string { return sb.Demo().MultiLineSO }

// demoSaveURL is where the demo curl PUTs order; demoShowURL lists its
// promise fields.
func demoSaveURL(base, order string) string {
	return base + "/api/resource/Sales%20Order/" + url.PathEscape(order)
}

func demoShowURL(base, order string) string {
	fields := `["name","` + erp.FieldPromiseDate + `","` + erp.FieldConfidence + `","` + erp.FieldPromiseStatus + `","` + erp.FieldExplanation + `"]`
	return base + "/api/resource/Sales%20Order?filters=" + url.QueryEscape(`[["name","=","`+order+`"]]`) + "&fields=" + url.QueryEscape(fields)
}

// demoCurl is one line that saves order as the demo sales user, waits for
// OTP, and shows the promise fields OTP wrote.
func demoCurl(base, readAuth, order string) string {
	return fmt.Sprintf(`curl -s -X PUT -H 'Authorization: %s' -H 'Content-Type: application/json' -d '{}' '%s' >/dev/null; sleep 2; curl -s -H 'Authorization: %s' '%s'; echo`,
		demoSalesToken, demoSaveURL(base, order), readAuth, demoShowURL(base, order))
}
