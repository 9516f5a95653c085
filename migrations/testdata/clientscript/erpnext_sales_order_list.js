// Stand-in for ERPNext's erpnext/selling/doctype/sales_order/sales_order_list.js,
// which Frappe runs before a doctype's List Client Scripts: it assigns the
// list settings object with add_fields, get_indicator and onload. Only the
// shape matters here; the statuses and colours follow ERPNext v15.
frappe.listview_settings["Sales Order"] = {
	add_fields: ["base_grand_total", "customer_name", "currency", "delivery_date", "per_delivered", "per_billed", "status", "order_type", "name", "skip_delivery_note"],
	get_indicator(doc) {
		if (doc.status === "Closed") {
			return [__("Closed"), "green", "status,=,Closed"];
		} else if (doc.status === "On Hold") {
			return [__("On Hold"), "orange", "status,=,On Hold"];
		} else if (doc.status === "Completed") {
			return [__("Completed"), "green", "status,=,Completed"];
		} else if (doc.per_delivered < 100 && doc.delivery_date < "2026-12-02") {
			return [__("Overdue"), "red", "per_delivered,<,100|delivery_date,<,Today|status,!=,Closed"];
		}
		return [__("To Deliver and Bill"), "orange", "per_delivered,<,100|per_billed,<,100|status,!=,Closed"];
	},
	onload(listview) {
		listview.erpnext_onload_ran = true;
	},
};
