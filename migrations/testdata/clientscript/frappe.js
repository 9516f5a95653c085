// A small stand-in for the parts of the Frappe desk the OTP Client Scripts
// use, written after Frappe v15's own code:
//   frappe.ui.form.on            frappe/public/js/frappe/form/script_manager.js (handlers are kept, not replaced)
//   frm.dashboard.set_headline_alert, set_headline
//                                frappe/public/js/frappe/form/dashboard.js
//   frm.layout.show_message      frappe/public/js/frappe/form/layout.js (colours: yellow, blue, red, green, orange; else blue)
//   frappe.get_indicator         frappe/public/js/frappe/model/indicator.js (drafts and cancelled never reach get_indicator)
//   frappe.utils.escape_html     frappe/public/js/frappe/utils/utils.js
//   __                           frappe/public/js/frappe/translate.js ({0}, {1} replaced)
window.frappe = {
	listview_settings: {},
	ui: {
		form: {
			handlers: {},
			on(doctype, events) {
				const byEvent = (this.handlers[doctype] = this.handlers[doctype] || {});
				for (const [event, fn] of Object.entries(events)) {
					(byEvent[event] = byEvent[event] || []).push(fn);
				}
			},
			trigger(frm, event) {
				for (const fn of (this.handlers[frm.doctype] || {})[event] || []) {
					fn(frm);
				}
			},
		},
	},
	utils: {
		escape_html(txt) {
			const map = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;", "/": "&#x2F;", "`": "&#x60;", "=": "&#x3D;" };
			return String(txt).replace(/[&<>"'`=/]/g, (s) => map[s]);
		},
	},
	datetime: {
		// The system's date format, dd-mm-yyyy (Frappe's default).
		str_to_user(d) {
			const [y, m, day] = String(d).split("-");
			return `${day}-${m}-${y}`;
		},
	},
	get_indicator(doc, doctype) {
		const settings = frappe.listview_settings[doctype] || {};
		if (doc.docstatus == 0 && !settings.has_indicator_for_draft) {
			return [__("Draft"), "red", "docstatus,=,0"];
		}
		if (doc.docstatus == 2 && !settings.has_indicator_for_cancelled) {
			return [__("Cancelled"), "red", "docstatus,=,2"];
		}
		if (settings.get_indicator) {
			const indicator = settings.get_indicator(doc);
			if (indicator) {
				return indicator;
			}
		}
		return [__(doc.status || "Submitted"), "blue", "docstatus,=,1"];
	},
};

window.__ = function (txt, replace) {
	let out = String(txt);
	(replace || []).forEach((r, i) => {
		out = out.split(`{${i}}`).join(r);
	});
	return out;
};

// A form: its message area is where the headline shows.
class Form {
	constructor(doctype, doc, wrapper) {
		this.doctype = doctype;
		this.doc = doc;
		const frm = this;
		this.layout = {
			message: wrapper,
			show_message(html, color) {
				this.message.className = "form-message hidden";
				this.message.innerHTML = "";
				if (!html) {
					return;
				}
				const c = ["yellow", "blue", "red", "green", "orange"].includes(color) ? color : "blue";
				this.message.className = `form-message ${c}`;
				this.message.innerHTML = html;
			},
		};
		this.dashboard = {
			set_headline(html, color) {
				frm.layout.show_message(html, color);
			},
			clear_headline() {
				frm.layout.show_message();
			},
			set_headline_alert(text, color) {
				if (text) {
					this.set_headline(`<div>${text}</div>`, color);
				} else {
					this.clear_headline();
				}
			},
		};
	}
	is_new() {
		return !!this.doc.__islocal;
	}
}
window.Form = Form;
