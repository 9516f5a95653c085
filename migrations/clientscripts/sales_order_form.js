// OTP's promise at a glance on the Sales Order form: a coloured indicator
// (HIGH green, MEDIUM orange, LOW red, not promised gray) with the promised
// date, then the explanation, in the form's headline. It reads the custom
// fields `otp migrate` creates; it adds a "refresh" handler beside ERPNext's
// own (frappe.ui.form.on keeps every handler), and changes nothing else.
(() => {
	const colours = { HIGH: "green", MEDIUM: "orange", LOW: "red" };

	function promise_of(doc) {
		const confidence = doc.custom_otp_confidence || "";
		const colour = colours[confidence] || "gray";
		if (colour === "gray") {
			return {
				colour,
				label: __("Not promised"),
				detail: doc.custom_otp_status || __("OTP has not promised this order yet."),
			};
		}
		const label = doc.custom_otp_promise_date
			? __("Promised {0} ({1})", [frappe.datetime.str_to_user(doc.custom_otp_promise_date), confidence])
			: __("No promised date ({0})", [confidence]);
		return { colour, label, detail: doc.custom_otp_explanation || doc.custom_otp_status || "" };
	}

	frappe.ui.form.on("Sales Order", {
		refresh(frm) {
			if (frm.is_new() || frm.doc.docstatus === 2) {
				return;
			}
			const p = promise_of(frm.doc);
			const e = frappe.utils.escape_html;
			let html = `<span class="indicator-pill ${p.colour} otp-promise">${e(p.label)}</span>`;
			if (p.detail) {
				html += ` <span class="otp-promise-explanation">${e(p.detail)}</span>`;
			}
			// The headline itself knows green, orange, red, yellow and blue
			// only (Frappe's layout.show_message); not promised is blue.
			frm.dashboard.set_headline_alert(html, p.colour === "gray" ? "blue" : p.colour);
		},
	});
})();
