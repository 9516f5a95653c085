package migrations_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/erpnext-otp/otp/erp"
	"github.com/erpnext-otp/otp/migrations"
)

// Step 0004 creates the two Client Scripts, enabled, for the Sales Order
// form and list; status shows them applied; an edited script is drift that
// up repairs; down deletes them.
func TestClientScriptsUpDriftDown(t *testing.T) {
	s, srv := MustSandbox(t)
	c := MustClient(t, s, srv)
	cfg := MustConfig(t, s, "https://otp.example.com")
	ctx := testContext(t)
	if _, err := migrations.Up(ctx, c, cfg); err != nil {
		t.Fatal(err)
	}
	type script struct {
		DocType, View string
		Enabled       int
		Marker        bool
		Reads         []string
	}
	got := map[string]script{}
	for _, name := range []string{migrations.ClientScriptForm, migrations.ClientScriptList} {
		d, err := c.GetDoc(ctx, "Client Script", name)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		src, _ := d["script"].(string)
		var reads []string
		for _, f := range []string{erp.FieldPromiseDate, erp.FieldConfidence, erp.FieldPromiseStatus, erp.FieldExplanation} {
			if strings.Contains(src, f) {
				reads = append(reads, f)
			}
		}
		got[name] = script{d["dt"].(string), d["view"].(string), int(d["enabled"].(float64)),
			strings.HasPrefix(src, "// Managed by otp migrate (step 0004_promise_indicator)"), reads}
	}
	want := map[string]script{
		migrations.ClientScriptForm: {"Sales Order", "Form", 1, true, []string{erp.FieldPromiseDate, erp.FieldConfidence, erp.FieldPromiseStatus, erp.FieldExplanation}},
		migrations.ClientScriptList: {"Sales Order", "List", 1, true, []string{erp.FieldPromiseDate, erp.FieldConfidence, erp.FieldPromiseStatus}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("client scripts after up (-want +got):\n%s", diff)
	}

	// Someone edits the form script in the desk and disables the list one.
	d, _ := c.GetDoc(ctx, "Client Script", migrations.ClientScriptForm)
	edited := strings.Replace(d["script"].(string), "green", "blue", 1)
	if _, err := s.Update("Client Script", migrations.ClientScriptForm, map[string]any{"script": edited}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Update("Client Script", migrations.ClientScriptList, map[string]any{"enabled": 0}); err != nil {
		t.Fatal(err)
	}
	if st := stepStates(MustStatus(t, c, cfg)); st["0004_promise_indicator"] != migrations.Drifted {
		t.Errorf("after edits: %v, want 0004 drifted", st)
	}
	s.ResetCounters()
	if _, err := migrations.Up(ctx, c, cfg); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]int{"PUT /api/resource/Client Script": 2}, writes(s)); diff != "" {
		t.Errorf("repairing (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(allSteps(migrations.Applied), stepStates(MustStatus(t, c, cfg))); diff != "" {
		t.Errorf("after repair (-want +got):\n%s", diff)
	}

	if _, err := migrations.Down(ctx, c, cfg); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{migrations.ClientScriptForm, migrations.ClientScriptList} {
		if _, err := c.GetDoc(ctx, "Client Script", name); !errors.Is(err, erp.ErrNotFound) {
			t.Errorf("%s after down: %v, want not found", name, err)
		}
	}
}

// A Client Script with one of OTP's names that otp migrate did not write
// is a conflict: up refuses and writes nothing.
func TestClientScriptConflict(t *testing.T) {
	s, srv := MustSandbox(t)
	c := MustClient(t, s, srv)
	cfg := MustConfig(t, s, "https://otp.example.com")
	if _, err := s.Insert("Client Script", map[string]any{"name": migrations.ClientScriptForm, "dt": "Sales Order", "script": "// mine"}); err != nil {
		t.Fatal(err)
	}
	s.ResetCounters()
	_, err := migrations.Up(testContext(t), c, cfg)
	if !errors.Is(err, migrations.ErrConflict) || !strings.Contains(err.Error(), "marker line") {
		t.Errorf("Up: %v, want a conflict naming the marker line", err)
	}
	if got := writes(s); len(got) != 0 {
		t.Errorf("up wrote %v despite the conflict", got)
	}
}
