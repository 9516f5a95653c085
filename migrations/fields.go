package migrations

import (
	"fmt"
	"math"
	"strconv"

	"github.com/erpnext-otp/otp/erp"
)

// Field types OTP's custom fields use.
const (
	sectionBreak = "Section Break"
	columnBreak  = "Column Break"
)

// customField is one Custom Field (docs/erpnext.md#custom-fields). Data fields are
// read_only (UI only: the API writes them), allow_on_submit (the promise is
// written to submitted orders, docs/erpnext.md#updating-a-document) and no_copy (an amended or duplicated
// order does not inherit a promise), as docs/erpnext.md#otps-custom-fields asks.
type customField struct {
	DocType     string
	FieldName   string
	Label       string
	FieldType   string
	Options     string
	InsertAfter string
	Description string
	Hidden      bool
}

func (f customField) layout() bool { return f.FieldType == sectionBreak || f.FieldType == columnBreak }

// managed returns the fields otp migrate defines and compares, as Frappe
// stores them: Check fields as 0/1, strings as text.
func (f customField) managed() []kv {
	m := []kv{
		{"label", f.Label},
		{"fieldtype", f.FieldType},
		{"options", f.Options},
		{"insert_after", f.InsertAfter},
	}
	switch {
	case f.FieldType == sectionBreak:
		m = append(m, kv{"collapsible", 1})
	case !f.layout():
		m = append(m,
			kv{"description", f.Description},
			kv{"allow_on_submit", 1},
			kv{"read_only", 1},
			kv{"no_copy", 1},
			kv{"reqd", 0},
			kv{"hidden", boolInt(f.Hidden)},
		)
	}
	return m
}

func (f customField) document() Document {
	fields := map[string]any{"dt": f.DocType, "fieldname": f.FieldName, "is_system_generated": 1}
	for _, p := range f.managed() {
		if s, ok := p.v.(string); ok && s == "" {
			continue
		}
		fields[p.k] = p.v
	}
	return Document{DocType: "Custom Field", Name: f.DocType + "-" + f.FieldName, Fields: fields}
}

// owned: otp migrate sets is_system_generated=1 on the fields it creates,
// as Frappe's create_custom_fields does for fields an app makes; a field
// made in the desk (the earlier OTP's) has 0.
func (f customField) owned(have map[string]any) (bool, string) {
	if toInt(have["is_system_generated"]) == 1 {
		return true, ""
	}
	return false, "not created by otp migrate (is_system_generated=0): adopted, and kept by down"
}

func (f customField) adoptable() bool { return true }

func (f customField) compare(have map[string]any) ([]Diff, []string) {
	var diffs []Diff
	var notes []string
	if got := str(have["dt"]); got != f.DocType {
		diffs = append(diffs, Diff{Field: "dt", Have: strconv.Quote(got), Want: strconv.Quote(f.DocType), set: map[string]any{"dt": f.DocType}})
	}
	for _, p := range f.managed() {
		raw, present := have[p.k]
		switch want := p.v.(type) {
		case int:
			// Frappe's GET always has Check and Int fields (0 when unset,
			// docs/erpnext.md#reading-one-document); one that is missing is a field this site's Custom Field
			// does not have, so there is nothing to compare.
			if !present {
				notes = append(notes, fmt.Sprintf("%s: this site's Custom Field has no such field; not compared", p.k))
				continue
			}
			if got := toInt(raw); got != want {
				diffs = append(diffs, Diff{Field: p.k, Have: strconv.Itoa(got), Want: strconv.Itoa(want), set: map[string]any{p.k: want}})
			}
		case string:
			if got := str(raw); got != want {
				var v any = want
				if want == "" {
					v = nil
				}
				diffs = append(diffs, Diff{Field: p.k, Have: strconv.Quote(got), Want: strconv.Quote(want), set: map[string]any{p.k: v}})
			}
		}
	}
	return diffs, notes
}

// Fields of the "Order Promise" section of a Sales Order (docs/erpnext.md#otps-custom-fields).
// custom_otp_promise_date and custom_otp_confidence keep the earlier OTP's
// names (erp.FieldPromiseDate, erp.FieldConfidence).
const (
	fieldSection     = "custom_otp_section"
	fieldColumnBreak = "custom_otp_column_break"
)

// confidenceOptions are the Select options of a confidence: empty until
// promised, then HIGH, MEDIUM or LOW (docs/promise.md).
const confidenceOptions = "\nHIGH\nMEDIUM\nLOW"

// orderPromiseFields puts OTP's fields in a collapsible "Order Promise"
// section right after the items table (in ERPNext's Sales Order the items
// table is followed by a Section Break, so the new section takes no
// standard field with it), and the line fields beside each line's
// delivery_date.
var orderPromiseFields = Step{
	ID:      "0001_order_promise_fields",
	Summary: `Custom fields: the "Order Promise" section on Sales Order, line promise on Sales Order Item`,
	build: func(Config) []resource {
		so, soi := "Sales Order", "Sales Order Item"
		fields := []customField{
			{DocType: so, FieldName: fieldSection, Label: "Order Promise", FieldType: sectionBreak, InsertAfter: "items"},
			{DocType: so, FieldName: erp.FieldPromiseDate, Label: "Promised Date", FieldType: "Date",
				Description: "The date OTP promises the whole order can ship, including processing and buffer days."},
			{DocType: so, FieldName: erp.FieldConfidence, Label: "Promise Confidence", FieldType: "Select", Options: confidenceOptions},
			{DocType: so, FieldName: erp.FieldPromiseStatus, Label: "Promise Status", FieldType: "Data",
				Description: "OK, CANNOT_FULFILL or CANNOT_PROMISE_RELIABLY."},
			{DocType: so, FieldName: erp.FieldExplanation, Label: "Promise Explanation", FieldType: "Small Text"},
			{DocType: so, FieldName: fieldColumnBreak, FieldType: columnBreak},
			{DocType: so, FieldName: erp.FieldFirstPromiseDate, Label: "First Promised Date", FieldType: "Date",
				Description: "The first date OTP promised; never changed afterwards."},
			{DocType: so, FieldName: erp.FieldPromisedAt, Label: "Promised At", FieldType: "Datetime"},
			{DocType: so, FieldName: erp.FieldFingerprint, Label: "Promise Fingerprint", FieldType: "Data", Hidden: true},
			{DocType: so, FieldName: erp.FieldCommented, Label: "Promise Commented", FieldType: "Data", Hidden: true,
				Description: "The promise (date|confidence) OTP last noted on the timeline."},
			{DocType: soi, FieldName: erp.FieldLinePromiseDate, Label: "Promised Date", FieldType: "Date", InsertAfter: "delivery_date"},
			{DocType: soi, FieldName: erp.FieldLineConfidence, Label: "Promise Confidence", FieldType: "Select", Options: confidenceOptions},
		}
		out := make([]resource, len(fields))
		for i, f := range fields {
			if f.InsertAfter == "" {
				f.InsertAfter = fields[i-1].FieldName // each after the one before
			}
			out[i] = f
		}
		return out
	},
}

// kv is one managed field and its value (string or int), in a fixed order.
type kv struct {
	k string
	v any
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// str reads a Frappe string value; nil and absent are "".
func str(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	default:
		return fmt.Sprint(x)
	}
}

// toInt reads a Frappe Check or Int value (a JSON number).
func toInt(v any) int {
	switch x := v.(type) {
	case float64:
		return int(math.Round(x))
	case int:
		return x
	case bool:
		return boolInt(x)
	case string:
		n, _ := strconv.Atoi(x)
		return n
	}
	return 0
}
