// Package migrations holds OTP's ERPNext customisations as numbered,
// idempotent steps applied through the REST API: the "Order Promise" custom
// fields (0001), the Sales Order webhooks (0002), the supply webhooks
// (0003) and the Client Scripts that show the promise as a coloured
// indicator on the Sales Order form and list (0004). `otp migrate` runs
// them; the development site runs Up at start.
//
// The documents themselves are the record of what was applied; there is no
// other database:
//
//   - A Custom Field is named "<DocType>-<fieldname>" by Frappe
//     (docs/erpnext.md#custom-fields). One that otp migrate created carries
//     is_system_generated=1, Frappe's own mark for fields an app created in
//     code. A field that already existed (the earlier OTP's
//     custom_otp_promise_date and custom_otp_confidence, made in the desk) is
//     adopted: Up brings it to OTP's definition but leaves
//     is_system_generated alone, so Down keeps it.
//   - A Webhook is named by us ("OTP Sales Order on_submit"; Webhook names are
//     set by the user in Frappe v15) and carries a header row
//     X-OTP-Migration: <step id>. A webhook with one of our names but without
//     that header was not made by otp migrate: it is a conflict, never
//     changed or deleted.
//   - A Client Script is named by us too ("OTP Sales Order Promise") and its
//     script starts with a marker line naming the step; one without it is a
//     conflict.
//
// A step is applied when every document exists as defined, pending while one
// is missing, drifted when one exists but a managed field differs (Status
// shows the difference; Up writes the differing managed fields back), and in
// conflict when a document is in the way. Up is safe to re-run: a step that
// is applied makes no write. Down deletes, newest step first, only the
// documents otp migrate created.
//
// The webhook secret is a Password field: ERPNext answers a read of it with
// one asterisk per character, never the secret. Drift is detected from that
// length and from a header row X-OTP-Secret-Fingerprint, an HMAC of the
// secret written alongside it: a change of OTP_WEBHOOK_SECRET shows as drift
// and Up re-sends the secret. A secret edited by hand in the Webhook form to
// another of the same length cannot be seen; delete the webhook and run Up.
//
// Usage:
//
//	cfg := migrations.Config{PublicURL: "https://otp.example.com", WebhookSecret: secret, APIUser: "otp@example.com"}
//	plan, err := migrations.PlanUp(ctx, client, cfg) // reads only
//	if err != nil {
//		return err
//	}
//	for _, call := range plan.Writes() {
//		fmt.Println(call) // what a dry run prints
//	}
//	if err := plan.Apply(ctx, client); err != nil {
//		return err
//	}
//	steps, err := migrations.Status(ctx, client, cfg) // all applied now
package migrations
