// Renders every case the Go test serves at /cases.json: one form each, its
// refresh handlers run as Frappe runs them, and one list row each through
// frappe.get_indicator, as Frappe's list view renders its status column.
(async () => {
	const cases = await (await fetch("/cases.json")).json();
	const forms = document.getElementById("forms");
	const list = document.getElementById("list");
	const listview = {};
	const settings = frappe.listview_settings["Sales Order"];
	if (settings.onload) {
		settings.onload(listview);
	}
	for (const c of cases) {
		const h = document.createElement("h2");
		h.textContent = c.name;
		const msg = document.createElement("div");
		msg.id = "form-" + c.name;
		msg.className = "form-message hidden";
		forms.append(h, msg);
		frappe.ui.form.trigger(new Form("Sales Order", c.doc, msg), "refresh");

		const [label, colour, filter] = frappe.get_indicator(c.doc, "Sales Order");
		const row = document.createElement("tr");
		row.innerHTML = `<td>${frappe.utils.escape_html(c.name)}</td><td><span id="list-${c.name}" class="indicator-pill ${colour} filterable" data-filter="${frappe.utils.escape_html(filter)}">${frappe.utils.escape_html(label)}</span></td>`;
		list.append(row);
	}
	window.otp_results = {
		add_fields: settings.add_fields,
		erpnext_onload_ran: !!listview.erpnext_onload_ran,
	};
	document.body.dataset.rendered = "yes";
})();
