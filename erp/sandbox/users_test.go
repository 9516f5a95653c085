package sandbox

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Extra API users of the tests below, besides the API user and the demo
// sales person.
const (
	clerkUser, clerkKey, clerkSecret = "clerk@example.com", "clerk-key", "clerk-secret"
	adminKey, adminSecret            = "admin-key", "admin-secret"
	sysUser, sysKey, sysSecret       = "it@example.com", "it-key", "it-secret"
)

func MustUsersSite(tb testing.TB) *site {
	tb.Helper()
	return MustSite(tb, WithDemoData(),
		WithUser(clerkUser, clerkKey, clerkSecret, "Stock User"),
		WithUser(Administrator, adminKey, adminSecret),
		WithUser(sysUser, sysKey, sysSecret, "System Manager"))
}

// docs/erpnext.md#authentication: every user's own token, as `token KEY:SECRET` and as
// Basic auth, logs in as that user; a key with another user's secret does
// not.
func TestUserTokens_Ref2_1(t *testing.T) {
	st := MustUsersSite(t)
	tests := []struct {
		name, auth string
		wantStatus int
		wantUser   any
	}{
		{"API user", st.AuthHeader(), 200, DefaultAPIUser},
		{"demo sales token", TokenHeader(DemoSalesKey, DemoSalesSecret), 200, DemoSalesUser},
		{"demo sales basic", BasicHeader(DemoSalesKey, DemoSalesSecret), 200, DemoSalesUser},
		{"clerk token", TokenHeader(clerkKey, clerkSecret), 200, clerkUser},
		{"Administrator token", TokenHeader(adminKey, adminSecret), 200, Administrator},
		{"sales key, API user's secret", TokenHeader(DemoSalesKey, DefaultAPISecret), 401, nil},
		{"API user's key, sales secret", BasicHeader(DefaultAPIKey, DemoSalesSecret), 401, nil},
		{"sales key, wrong secret", TokenHeader(DemoSalesKey, "nope"), 401, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := st.callAuth(t, tc.auth, "GET", "/api/method/frappe.auth.get_logged_user", nil, nil)
			if r.Status != tc.wantStatus || r.Body["message"] != tc.wantUser {
				t.Fatalf("%d %v, want %d %v (%s)", r.Status, r.Body["message"], tc.wantStatus, tc.wantUser, r.Raw)
			}
			if tc.wantStatus == 401 && excType(r) != "AuthenticationError" {
				t.Errorf("exc_type %q, want AuthenticationError", excType(r))
			}
		})
	}
}

// Each user acts with its own roles' DocPerms, and its saves carry its name
// in modified_by (which webhook conditions read, docs/erpnext.md#conditions, #otps-own-writes-and-the-loop).
func TestUserPermissions(t *testing.T) {
	st := MustUsersSite(t)
	so := st.Demo().MultiLineSO
	sales := TokenHeader(DemoSalesKey, DemoSalesSecret)
	clerk := TokenHeader(clerkKey, clerkSecret)
	tests := []struct {
		name, auth, method, path string
		body                     map[string]any
		wantStatus               int
	}{
		{"sales person saves a Sales Order", sales, "PUT", "/api/resource/Sales Order/" + so, map[string]any{"po_no": "PO-9"}, 200},
		{"sales person reads Bins", sales, "GET", "/api/resource/Bin", nil, 200},
		{"sales person reads own User", sales, "GET", "/api/resource/User/" + DemoSalesUser, nil, 200},
		{"sales person cannot read another User", sales, "GET", "/api/resource/User/" + DefaultAPIUser, nil, 403},
		{"sales person cannot read the Holiday List", sales, "GET", "/api/resource/Holiday List/" + DemoHolidayList, nil, 403},
		{"sales person cannot buy", sales, "POST", "/api/resource/Purchase Order", map[string]any{"supplier": DemoSupplier, "company": DemoCompany,
			"items": []any{map[string]any{"item_code": "SKU-001", "qty": 1, "schedule_date": "2026-03-09", "warehouse": DemoStores}}}, 403},
		{"sales person cannot add a Custom Field", sales, "POST", "/api/resource/Custom Field", map[string]any{"dt": "Sales Order", "label": "X", "fieldtype": "Data"}, 403},
		{"stock clerk reads Sales Orders", clerk, "GET", "/api/resource/Sales Order/" + so, nil, 200},
		{"stock clerk cannot save a Sales Order", clerk, "PUT", "/api/resource/Sales Order/" + so, map[string]any{"po_no": "PO-10"}, 403},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := st.callAuth(t, tc.auth, tc.method, tc.path, nil, tc.body)
			if r.Status != tc.wantStatus {
				t.Fatalf("status %d, want %d: %s", r.Status, tc.wantStatus, r.Raw)
			}
			if tc.wantStatus == 403 && excType(r) != "PermissionError" {
				t.Errorf("exc_type %q, want PermissionError", excType(r))
			}
		})
	}
	doc, err := st.Get("Sales Order", so)
	if err != nil {
		t.Fatal(err)
	}
	if doc["modified_by"] != DemoSalesUser || doc["po_no"] != "PO-9" {
		t.Errorf("after the sales person's PUT: modified_by %v, po_no %v; want %s, PO-9", doc["modified_by"], doc["po_no"], DemoSalesUser)
	}

	r := st.callAuth(t, sales, "GET", "/api/resource/User/"+DemoSalesUser, nil, nil)
	u := r.Body["data"].(map[string]any)
	var roles []string
	for _, row := range u["roles"].([]any) {
		roles = append(roles, row.(map[string]any)["role"].(string))
	}
	got := map[string]any{"api_key": u["api_key"], "first_name": u["first_name"], "roles": roles}
	want := map[string]any{"api_key": DemoSalesKey, "first_name": "Sales", "roles": []string{DemoSalesRole}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("the sales person's User (-want +got):\n%s", diff)
	}
	if strings.Contains(string(r.Raw), DemoSalesSecret) {
		t.Errorf("the User document shows the API secret: %s", r.Raw)
	}
}

// A webhook whose condition skips OTP's own saves (docs/erpnext.md#conditions, #otps-own-writes-and-the-loop)
// fires for the sales person's REST save and not for the API user's.
func TestUserSaveFiresWebhook_Ref1_3(t *testing.T) {
	st := MustUsersSite(t)
	rc := MustReceiver(t)
	MustWebhook(t, st.Sandbox, "not ours", "Sales Order", "on_change", rc.srv.URL+"/hook",
		map[string]any{"condition": `doc.modified_by != "` + DefaultAPIUser + `"`,
			"webhook_data": []any{map[string]any{"fieldname": "name", "key": "name"}, map[string]any{"fieldname": "modified_by", "key": "by"}}})
	so := st.Demo().MultiLineSO
	for _, auth := range []string{st.AuthHeader(), TokenHeader(DemoSalesKey, DemoSalesSecret)} {
		if r := st.callAuth(t, auth, "PUT", "/api/resource/Sales Order/"+so, nil, map[string]any{"po_no": "x" + auth[len(auth)-3:]}); r.Status != 200 {
			t.Fatalf("PUT: %d %s", r.Status, r.Raw)
		}
		MustWait(t, st.Sandbox)
	}
	var by []string
	for _, d := range st.WebhookDeliveries() {
		if d.Webhook == "not ours" {
			var body struct{ By string }
			if err := json.Unmarshal(d.Body, &body); err != nil {
				t.Fatalf("delivery body %s: %v", d.Body, err)
			}
			by = append(by, body.By)
		}
	}
	if diff := cmp.Diff([]string{DemoSalesUser}, by); diff != "" {
		t.Errorf("deliveries by user (-want +got):\n%s", diff)
	}
	if n := len(rc.requests()); n != 1 {
		t.Errorf("receiver got %d requests, want 1", n)
	}
}

func TestWithUserSharedKeyPanics(t *testing.T) {
	defer func() {
		r := recover()
		if msg, _ := r.(string); !strings.Contains(msg, `API key "k" is given to both a@example.com and b@example.com`) {
			t.Errorf("recover() = %v, want the shared key named", r)
		}
	}()
	New(WithUser("a@example.com", "k", "s1"), WithUser("b@example.com", "k", "s2")).Close()
}
