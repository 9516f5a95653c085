package pyexpr

import (
	"errors"
	"strings"
	"testing"

	"github.com/erpnext-otp/otp/erp/sandbox/internal/pyjson"
)

// doc is an Object as the sandbox's live Document is: fields by name, an
// AttributeError otherwise.
type doc map[string]any

func (d doc) TypeName() string { return "Document" }

func (d doc) Attr(name string) (any, error) {
	if v, ok := d[name]; ok {
		return v, nil
	}
	return nil, errors.New("AttributeError: 'SalesOrder' object has no attribute '" + name + "'")
}

// Webhook conditions: Python's operators, chained comparisons, in, and/or
// returning an operand, builtins, attributes and items of an Object.
func TestPythonConditions(t *testing.T) {
	d := doc{"docstatus": int64(1), "status": "To Bill", "grand_total": 250.0, "modified_by": "sales@example.com",
		"items": []any{doc{"qty": 2.0}, doc{"qty": 3.0}}}
	tests := []struct {
		src  string
		want any
	}{
		{`doc.docstatus == 1 and doc.status in ["To Deliver and Bill", "To Bill"]`, true},
		{`doc.modified_by != "otp@example.com"`, true},
		{`0 < doc.grand_total <= 250`, true},
		{`doc.status or "none"`, "To Bill"},
		{`doc["status"] if doc.docstatus else None`, "To Bill"},
		{`doc.items[0].qty * 2 + doc.items[-1].qty`, 7.0},
		{`round(doc.grand_total / 3, 1)`, 83.3},
		{`(7 // 2, 7 % 3, -7 // 2)`, []any{int64(3), int64(1), int64(-4)}},
		{`int("12") + float("0.5")`, 12.5},
		{`not doc.items`, false},
		{`"Bill" in doc.status`, true},
	}
	for _, tc := range tests {
		e, err := Parse(tc.src)
		if err != nil {
			t.Errorf("%s: %v", tc.src, err)
			continue
		}
		got, err := e.Eval(map[string]any{"doc": d})
		if err != nil {
			t.Errorf("%s: %v", tc.src, err)
			continue
		}
		if !pyEqual(got, tc.want) {
			t.Errorf("%s = %#v, want %#v", tc.src, got, tc.want)
		}
	}
}

// Errors read like Python's, and Python mode has no Jinja syntax.
func TestPythonErrors(t *testing.T) {
	vars := map[string]any{"doc": doc{"status": "Draft"}}
	for src, want := range map[string]string{
		`doc.nope`:                 "AttributeError: 'SalesOrder' object has no attribute 'nope'",
		`nope`:                     "NameError: name 'nope' is not defined",
		`doc.status + 1`:           "TypeError: unsupported operand type(s) for +: 'str' and 'int'",
		`doc < 1`:                  "TypeError: '<' not supported between instances of 'Document' and 'int'",
		`1 / 0`:                    "ZeroDivisionError: division by zero",
		`doc.status | lower`:       "SyntaxError",
		`doc.status if doc.status`: "SyntaxError: expected 'else' after 'if' expression",
		`doc.__class__`:            "SecurityError",
	} {
		e, err := Parse(src)
		if err == nil {
			_, err = e.Eval(vars)
		}
		if err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("%s: error %v, want %q", src, err, want)
		}
	}
}

// Jinja mode: missing names and attributes are Undefined, a bare name says
// so, filters and tests work.
func TestJinjaExpressions(t *testing.T) {
	d := pyjson.NewDict()
	d.Set("name", "SO-1")
	vars := map[string]any{"doc": d}
	e, err := ParseJinja(`missing`)
	if err != nil {
		t.Fatal(err)
	}
	v, err := e.Eval(vars)
	if u, ok := v.(Undefined); err != nil || !ok || u.Hint() != "missing" {
		t.Errorf("missing = %#v, %v; want Undefined named missing", v, err)
	}
	if name, ok := e.Name(); !ok || name != "missing" {
		t.Errorf("Name() = %q, %v", name, ok)
	}
	for src, want := range map[string]string{
		`doc.name | lower ~ "-" ~ (missing is defined)`: "so-1-False",
		`missing | default("none")`:                     "none",
		`doc.nope is none`:                              "True", // frappe._dict: a missing key is None
		`doc.name if doc.nope`:                          "",
		`doc | tojson`:                                  `{"name": "SO-1"}`,
	} {
		e, err := ParseJinja(src)
		if err != nil {
			t.Errorf("%s: %v", src, err)
			continue
		}
		v, err := e.Eval(vars)
		if err != nil || Str(v) != want {
			t.Errorf("%s = %q, %v; want %q", src, Str(v), err, want)
		}
	}
	if _, ok := mustParseJinja(t, `doc.name`).Name(); ok {
		t.Errorf("doc.name is not a bare name")
	}
}

func mustParseJinja(t *testing.T, src string) *Expr {
	t.Helper()
	e, err := ParseJinja(src)
	if err != nil {
		t.Fatal(err)
	}
	return e
}
