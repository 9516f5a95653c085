package sandbox

import (
	"net/http"
	"testing"
)

// Frappe's Client Script (frappe/custom/doctype/client_script): named by
// the user, dt must name a DocType, view is List or Form (default Form),
// enabled defaults to 0, and only System Manager may write one.
func TestClientScript(t *testing.T) {
	const clerkKey, clerkSecret = "clerk-key", "clerk-secret"
	st := MustSite(t, WithUser("clerk@example.com", clerkKey, clerkSecret, "Sales User"))
	for _, tt := range []struct {
		name   string
		doc    map[string]any
		status int
	}{
		{"a form script", map[string]any{"name": "OTP Form", "dt": "Sales Order", "script": "frappe.ui.form.on('Sales Order', {})"}, http.StatusOK},
		{"a list script", map[string]any{"name": "OTP List", "dt": "Sales Order", "view": "List", "enabled": 1}, http.StatusOK},
		{"no such doctype", map[string]any{"name": "Bad", "dt": "No Such Doctype"}, http.StatusExpectationFailed},
		{"no doctype", map[string]any{"name": "Bad"}, http.StatusExpectationFailed},
		{"a view Frappe does not have", map[string]any{"name": "Bad", "dt": "Sales Order", "view": "Report"}, http.StatusExpectationFailed},
		{"the same name again", map[string]any{"name": "OTP Form", "dt": "Sales Order"}, http.StatusConflict},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := st.call(t, "POST", "/api/resource/Client Script", nil, tt.doc)
			if r.Status != tt.status {
				t.Fatalf("POST = %d %s, want %d", r.Status, r.Raw, tt.status)
			}
		})
	}
	got := st.call(t, "GET", "/api/resource/Client Script/OTP Form", nil, nil).Body["data"].(map[string]any)
	if got["view"] != "Form" || got["enabled"] != 0.0 || got["dt"] != "Sales Order" {
		t.Errorf("defaults: view %v, enabled %v, dt %v; want Form, 0, Sales Order", got["view"], got["enabled"], got["dt"])
	}
	clerk := "token " + clerkKey + ":" + clerkSecret
	if r := st.callAuth(t, clerk, "POST", "/api/resource/Client Script", nil, map[string]any{"name": "Mine", "dt": "Sales Order"}); r.Status != http.StatusForbidden {
		t.Errorf("a Sales User's POST = %d, want 403", r.Status)
	}
	if r := st.call(t, "DELETE", "/api/resource/Client Script/OTP List", nil, nil); r.Status != http.StatusAccepted && r.Status != http.StatusOK {
		t.Errorf("DELETE = %d %s", r.Status, r.Raw)
	}
}
