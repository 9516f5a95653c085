package main

import (
	"context"
	"fmt"
	"net/url"

	"github.com/erpnext-otp/otp/erp"
	"github.com/erpnext-otp/otp/erp/sandbox"
	"github.com/erpnext-otp/otp/migrations"
)

// devSite is what the embedded sandbox needs to send OTP its documents.
type devSite struct {
	PublicURL string // OTP's base URL: the webhooks post to PublicURL + /webhooks/erpnext/<doctype>
	Secret    string // the webhook HMAC secret
	APIUser   string // OTP's own writes are not sent back
}

// setUpDevSite makes a site ready for OTP with the migrations, the one
// definition of OTP's ERPNext customisations (`otp migrate up`): the custom
// fields, the Sales Order webhooks and the supply webhooks, signed with
// s.Secret and skipping saves by s.APIUser. It is idempotent.
func setUpDevSite(ctx context.Context, c *erp.Client, s devSite) error {
	_, err := migrations.Up(ctx, c, migrations.Config{PublicURL: s.PublicURL, WebhookSecret: s.Secret, APIUser: s.APIUser})
	return err
}

// demoSalesAuth is the demo sales person's token (sandbox.WithDemoData's
// sales@example.com, Sales User): a save with it is a person's save, which
// OTP's webhooks send on and OTP promises (its own saves are skipped).
const demoSalesAuth = "token " + sandbox.DemoSalesKey + ":" + sandbox.DemoSalesSecret

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

// demoCurl is one line that saves order as the demo sales person, waits
// for OTP, and shows (as the same person) the promise fields OTP wrote.
func demoCurl(base, order string) string {
	return fmt.Sprintf(`curl -s -X PUT -H 'Authorization: %s' -H 'Content-Type: application/json' -d '{}' '%s' >/dev/null; sleep 2; curl -s -H 'Authorization: %s' '%s'; echo`,
		demoSalesAuth, demoSaveURL(base, order), demoSalesAuth, demoShowURL(base, order))
}
