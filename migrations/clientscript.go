package migrations

import (
	"embed"
	"fmt"
	"strconv"
	"strings"
)

// clientScripts holds the JavaScript of step 0004, one file per Client
// Script; migrations/clientscripts/*.js is its source, tested in a real
// browser by clientscript_browser_test.go.
//
//go:embed clientscripts/*.js
var clientScripts embed.FS

// clientScriptMarker starts every script otp migrate installs: it marks the
// script as ours (Down deletes it; Up rewrites it) and tells whoever opens
// it in the desk that edits are overwritten.
func clientScriptMarker(step string) string {
	return "// Managed by otp migrate (step " + step + "): `otp migrate up` rewrites this script and `otp migrate down` deletes it; edits made here are overwritten.\n"
}

// clientScript is one Frappe Client Script (docs/erpnext.md#client-scripts):
// JavaScript that the desk runs on a DocType's form (view Form) or list
// (view List). Frappe names it as the user types it ("autoname":
// "Prompt"), so the name is ours to choose.
type clientScript struct {
	step    string
	Name    string
	DocType string
	View    string // "Form" or "List"
	Script  string // without the marker
}

func (c clientScript) source() string { return clientScriptMarker(c.step) + c.Script }

// managed are the fields otp migrate defines and compares.
func (c clientScript) managed() []kv {
	return []kv{{"dt", c.DocType}, {"view", c.View}, {"enabled", 1}, {"script", c.source()}}
}

func (c clientScript) document() Document {
	fields := map[string]any{"name": c.Name}
	for _, p := range c.managed() {
		fields[p.k] = p.v
	}
	return Document{DocType: "Client Script", Name: c.Name, Fields: fields}
}

// owned: the script starts with the marker of this step.
func (c clientScript) owned(have map[string]any) (bool, string) {
	if strings.HasPrefix(str(have["script"]), clientScriptMarker(c.step)) {
		return true, ""
	}
	return false, "not created by otp migrate (its script does not start with otp migrate's marker line); rename or delete it"
}

func (c clientScript) adoptable() bool { return false }

func (c clientScript) compare(have map[string]any) ([]Diff, []string) {
	var diffs []Diff
	for _, p := range c.managed() {
		switch want := p.v.(type) {
		case int:
			if got := toInt(have[p.k]); got != want {
				diffs = append(diffs, Diff{Field: p.k, Have: strconv.Itoa(got), Want: strconv.Itoa(want), set: map[string]any{p.k: want}})
			}
		case string:
			if got := str(have[p.k]); got != want {
				d := Diff{Field: p.k, Have: strconv.Quote(got), Want: strconv.Quote(want), set: map[string]any{p.k: want}}
				if p.k == "script" {
					d.Have, d.Want = firstDifference(got, want)
				}
				diffs = append(diffs, d)
			}
		}
	}
	return diffs, nil
}

// Client Script names.
const (
	ClientScriptForm = "OTP Sales Order Promise"
	ClientScriptList = "OTP Sales Order Promise List"
)

// salesOrderIndicator shows the promise at a glance: in the Sales Order
// form's headline and in the Sales Order list's status indicator.
var salesOrderIndicator = Step{
	ID:      "0004_promise_indicator",
	Summary: "Client Scripts: the promise as a coloured indicator in the Sales Order form's headline and list",
	build: func(Config) []resource {
		const id = "0004_promise_indicator"
		return []resource{
			clientScript{step: id, Name: ClientScriptForm, DocType: "Sales Order", View: "Form", Script: mustScript("sales_order_form.js")},
			clientScript{step: id, Name: ClientScriptList, DocType: "Sales Order", View: "List", Script: mustScript("sales_order_list.js")},
		}
	},
}

// mustScript reads an embedded script; a missing one is a build mistake.
func mustScript(name string) string {
	b, err := clientScripts.ReadFile("clientscripts/" + name)
	if err != nil {
		panic(fmt.Sprintf("migrations: embedded client script %s: %v", name, err))
	}
	return string(b)
}
