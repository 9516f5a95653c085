package sandbox

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/erpnext-otp/otp/erp/sandbox/internal/pyexpr"
	"github.com/erpnext-otp/otp/erp/sandbox/internal/pyjson"
)

// document is one stored row: a parent document or a child row. Values are
// typed by their field: float64 (Float, Currency, Percent), int (Int, Check,
// docstatus, idx), string (everything else) or nil (NULL).
type document struct {
	DocType string
	V       map[string]any
	Tables  map[string][]*document
	seq     int64 // insertion order, the tie-breaker of list ordering
}

func newDocument(doctype string) *document {
	return &document{DocType: doctype, V: map[string]any{}, Tables: map[string][]*document{}}
}

func (d *document) name() string { return str(d.V["name"]) }

func (d *document) docstatus() int { return toInt(d.V["docstatus"]) }

// clone deep-copies the document and its child rows.
func (d *document) clone() *document {
	if d == nil {
		return nil
	}
	c := &document{DocType: d.DocType, V: make(map[string]any, len(d.V)), Tables: make(map[string][]*document, len(d.Tables)), seq: d.seq}
	for k, v := range d.V {
		c.V[k] = v
	}
	for k, rows := range d.Tables {
		cr := make([]*document, len(rows))
		for i, r := range rows {
			cr[i] = r.clone()
		}
		c.Tables[k] = cr
	}
	return c
}

// str converts a stored or request value to Python's cstr.
func str(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case json.Number:
		return x.String()
	case float64:
		return pyjson.FloatRepr(x)
	case int:
		return strconv.Itoa(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case bool:
		if x {
			return "1"
		}
		return "0"
	}
	return fmt.Sprint(v)
}

// toFloat is frappe.utils.flt: anything unparsable is 0. The expression
// language holds it, as its round() takes numbers the same way.
func toFloat(v any) float64 { return pyexpr.Flt(v) }

// toInt is frappe.utils.cint.
func toInt(v any) int { return pyexpr.Cint(v) }

// castValue converts an incoming value to the field's storage type, as
// Frappe's get_valid_dict does before writing a row (docs/erpnext.md#the-request-body: Float
// always a float, Int and Check ints, empty dates NULL).
func castValue(f *field, v any) (any, error) {
	typ := "Data"
	if f != nil {
		typ = f.Type
	}
	if floatTypes[typ] {
		return toFloat(v), nil
	}
	if intTypes[typ] {
		return toInt(v), nil
	}
	switch v.(type) {
	case []any, map[string]any, *pyjson.Dict:
		label := typ
		if f != nil {
			label = f.Label
		}
		return nil, validationErr(fmt.Sprintf("Value for %s cannot be a list", label))
	}
	if v == nil {
		return nil, nil
	}
	s := str(v)
	switch typ {
	case "Date":
		if strings.TrimSpace(s) == "" {
			return nil, nil
		}
		d, err := parseDate(s)
		if err != nil {
			return nil, validationErr(fmt.Sprintf("%s is not a valid date string.", s))
		}
		return d, nil
	case "Datetime":
		if strings.TrimSpace(s) == "" {
			return nil, nil
		}
		return s, nil
	case "Time":
		if strings.TrimSpace(s) == "" {
			return nil, nil
		}
	}
	return s, nil
}

// parseDate accepts what frappe.utils.getdate accepts from an API client:
// "YYYY-MM-DD", optionally followed by a time.
func parseDate(s string) (string, error) {
	s = strings.TrimSpace(s)
	if len(s) > 10 {
		s = s[:10]
	}
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		return "", err
	}
	return t.Format("2006-01-02"), nil
}

// formatDatetime renders a time like Python's str(datetime): microseconds
// only when not zero.
func formatDatetime(t time.Time) string {
	if t.Nanosecond()/1000 == 0 {
		return t.Format("2006-01-02 15:04:05")
	}
	return t.Format("2006-01-02 15:04:05.000000")
}

// asDict renders a document the way Frappe's as_dict does: default fields,
// then the meta's columns, then "doctype", then child tables. With noNulls
// (REST GET, docs/erpnext.md#reading-one-document) NULL values are left out; Float, Int and Check
// are never NULL.
func (s *Sandbox) asDict(d *document, noNulls bool) *pyjson.Dict {
	m := s.metas[d.DocType]
	out := pyjson.NewDict()
	put := func(k string, v any) {
		if v == nil && noNulls {
			return
		}
		out.Set(k, v)
	}
	for _, f := range defaultFields {
		put(f, d.V[f])
	}
	if m.IsTable {
		for _, f := range childTableFields {
			put(f, d.V[f])
		}
	}
	for _, f := range m.columns() {
		v := d.V[f.Name]
		if v == nil {
			if f.isFloat() {
				v = 0.0
			} else if f.isInt() {
				v = 0
			}
		}
		put(f.Name, v)
	}
	out.Set("doctype", d.DocType)
	for _, tf := range m.tableFields() {
		rows := d.Tables[tf.Name]
		list := make([]any, 0, len(rows))
		for _, r := range rows {
			list = append(list, s.asDict(r, noNulls))
		}
		out.Set(tf.Name, list)
	}
	return out
}

// plain converts a pyjson.Dict tree into map[string]any / []any trees with
// JSON's number type (float64), as a client decoding the REST body sees it.
func plain(v any) any {
	switch x := v.(type) {
	case *pyjson.Dict:
		m := make(map[string]any, x.Len())
		for _, k := range x.Keys() {
			v, _ := x.Get(k)
			m[k] = plain(v)
		}
		return m
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = plain(e)
		}
		return out
	case []*pyjson.Dict:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = plain(e)
		}
		return out
	case int:
		return float64(x)
	case int64:
		return float64(x)
	}
	return v
}
