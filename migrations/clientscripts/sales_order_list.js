// OTP's promise in the Sales Order list: the status indicator of each
// submitted order keeps ERPNext's label and filter and adds the promised
// date, in the promise's colour (HIGH green, MEDIUM orange, LOW red, not
// promised gray).
//
// Frappe runs ERPNext's own list settings (sales_order_list.js: its
// get_indicator, add_fields, onload, buttons) before the list Client
// Scripts of the doctype, so this script extends that object instead of
// assigning a new one, which would drop them: it adds the fields it reads
// to add_fields and wraps get_indicator. Orders OTP does not promise
// (Closed, Completed, On Hold) keep ERPNext's indicator; drafts and
// cancelled orders keep Frappe's, which it shows without asking
// get_indicator.
(() => {
	const settings = (frappe.listview_settings["Sales Order"] = frappe.listview_settings["Sales Order"] || {});
	if (settings.otp_promise_indicator) {
		return; // already extended
	}
	settings.otp_promise_indicator = true;

	const fields = ["custom_otp_promise_date", "custom_otp_confidence", "custom_otp_status"];
	const add_fields = settings.add_fields || [];
	settings.add_fields = add_fields.concat(fields.filter((f) => !add_fields.includes(f)));

	const colours = { HIGH: "green", MEDIUM: "orange", LOW: "red" };
	const not_promised_on_purpose = ["Closed", "Completed", "On Hold"];
	const erpnext_indicator = settings.get_indicator;

	settings.get_indicator = function (doc) {
		const theirs = erpnext_indicator ? erpnext_indicator.call(this, doc) : null;
		if (not_promised_on_purpose.includes(doc.status)) {
			return theirs;
		}
		const colour = colours[doc.custom_otp_confidence] || "gray";
		let promise = __("not promised");
		if (colour !== "gray") {
			promise = doc.custom_otp_promise_date
				? __("promised {0}", [frappe.datetime.str_to_user(doc.custom_otp_promise_date)])
				: __("no promised date");
		}
		const status = theirs ? theirs[0] : __(doc.status);
		const filter = theirs ? theirs[2] : `status,=,${doc.status}`;
		return [`${status} · ${promise}`, colour, filter];
	};
})();
