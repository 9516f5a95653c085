package migrations_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/erpnext-otp/otp/erp/sandbox"
	"github.com/erpnext-otp/otp/migrations"
)

func checkStates(r *migrations.CheckResult) map[string]string {
	out := map[string]string{}
	for _, n := range r.Results {
		state := "ok"
		if !n.OK {
			state = "missing"
		}
		out[n.Perm+" "+n.DocType] = state + " (" + n.How + ")"
	}
	return out
}

// With the roles the sandbox gives its API user by default, everything
// OTP needs is allowed; reads are proven by a one-row list read.
func TestCheckAllowed(t *testing.T) {
	s, srv := MustSandbox(t)
	c := MustClient(t, s, srv)
	s.ResetCounters()
	r, err := migrations.Check(testContext(t), c, MustConfig(t, s, "https://otp.example.com"))
	if err != nil {
		t.Fatal(err)
	}
	if !r.OK() || r.User != s.APIUser() || len(r.Warnings) != 0 {
		t.Errorf("OK %v, user %q, warnings %q", r.OK(), r.User, r.Warnings)
	}
	want := map[string]string{
		"read Sales Order": "ok (read probe)", "write Sales Order": "ok (role Sales User)", "submit Sales Order": "ok (role Sales User)",
		"read Bin": "ok (read probe)", "read Item": "ok (read probe)", "read Warehouse": "ok (read probe)",
		"read Purchase Order": "ok (read probe)", "read Company": "ok (read probe)", "read Holiday List": "ok (read probe)",
		"create Comment": "ok (role All)", "read Comment": "ok (read probe)", "create Material Request": "ok (role Purchase User)",
		"create Custom Field": "ok (role System Manager)", "create Webhook": "ok (role System Manager)",
		"create Client Script": "ok (role System Manager)",
	}
	if diff := cmp.Diff(want, checkStates(r)); diff != "" {
		t.Errorf("needs (-want +got):\n%s", diff)
	}
	if got := writes(s); len(got) != 0 {
		t.Errorf("check wrote %v", got)
	}
	// One GET each: the logged user, its User document, 8 probes.
	if got := s.TotalRequests(); got != 10 {
		t.Errorf("check made %d requests, want 10: %v", got, s.RequestCounts())
	}
}

// A Sales User alone: the probes find Holiday List and Purchase Order
// refused (403), migrate's needs are missing, and check says what to grant.
func TestCheckMissing(t *testing.T) {
	s, srv := MustSandbox(t, sandbox.WithUserRoles(sandbox.DefaultAPIUser, "Sales User"))
	c := MustClient(t, s, srv)
	cfg := MustConfig(t, s, "https://otp.example.com")
	cfg.APIUser = "someone-else@example.com"
	r, err := migrations.Check(testContext(t), c, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if r.OK() {
		t.Error("OK with a Sales User alone")
	}
	want := map[string]string{
		"read Sales Order": "ok (read probe)", "write Sales Order": "ok (role Sales User)", "submit Sales Order": "ok (role Sales User)",
		"read Bin": "ok (read probe)", "read Item": "ok (read probe)", "read Warehouse": "ok (read probe)",
		"read Purchase Order": "missing (read probe: 403)", "read Company": "ok (read probe)", "read Holiday List": "missing (read probe: 403)",
		"create Comment": "ok (role All)", "read Comment": "ok (read probe)", "create Material Request": "missing (no role grants it)",
		"create Custom Field": "missing (no role grants it)", "create Webhook": "missing (no role grants it)",
		"create Client Script": "missing (no role grants it)",
	}
	if diff := cmp.Diff(want, checkStates(r)); diff != "" {
		t.Errorf("needs (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"Sales User"}, r.Roles); diff != "" {
		t.Errorf("roles (-want +got):\n%s", diff)
	}
	var out bytes.Buffer
	if err := migrations.WriteCheck(&out, r); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"ERPNext API user: otp@example.com\nroles: Sales User\n",
		"warning: ERPNEXT_API_USER is someone-else@example.com but these credentials are otp@example.com",
		"read Holiday List: give the user the role HR Manager, or add a read permission on Holiday List",
		"create Custom Field: give the user the role System Manager while running otp migrate",
		"create Material Request  missing (optional)",
		"Something OTP requires is missing.",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("check output lacks %q:\n%s", want, out.String())
		}
	}
}
