package jinja

import (
	"testing"

	"github.com/erpnext-otp/otp/erp/sandbox/internal/pyjson"
)

// The Jinja subset: filters, loops, conditionals, whitespace control and
// DebugUndefined.
func TestJinjaSubset(t *testing.T) {
	doc := pyjson.NewDict()
	doc.Set("name", "SO-1")
	doc.Set("qty", 2.0)
	doc.Set("none", nil)
	doc.Set("quote", `a "b" <c>`)
	row := func(code string) *pyjson.Dict { o := pyjson.NewDict(); o.Set("item_code", code); return o }
	doc.Set("items", []any{row("A"), row("B"), row("C")})
	tests := []struct{ tmpl, want string }{
		{`{{ doc.name }}|{{ doc.qty }}|{{ doc.none }}|{{ doc.missing }}`, `SO-1|2.0|None|None`},
		{`{{ doc.quote | tojson }}`, `"a \"b\" \u003cc\u003e"`},
		{`{{ doc.none | tojson }}`, `null`},
		{`[{%- for i in doc["items"] %}"{{ i.item_code }}"{{ "," if not loop.last }}{%- endfor %}]`, `["A","B","C"]`},
		{"{% for i in doc.get(\"items\") %}{{ loop.index }}{% endfor %}", `123`},
		{`{% if doc.qty > 1 %}many{% elif doc.qty == 1 %}one{% else %}none{% endif %}`, `many`},
		{`{{ undefined_name }}`, `{{ undefined_name }}`},
		{`{{ doc["items"] | length }}-{{ doc.qty | int }}`, `3-2`},
		{"a\n", "a"},
	}
	for _, tc := range tests {
		got, err := Render(tc.tmpl, map[string]any{"doc": doc})
		if err != nil {
			t.Errorf("%s: %v", tc.tmpl, err)
			continue
		}
		if got != tc.want {
			t.Errorf("%s = %q, want %q", tc.tmpl, got, tc.want)
		}
	}
	if _, err := Render(`{% for i in doc.items %}x{% endfor %}`, map[string]any{"doc": doc}); err == nil {
		t.Errorf("for over doc.items must fail (dict method)")
	}
	if _, err := Render(`{{ doc.__class__ }}`, map[string]any{"doc": doc}); err == nil {
		t.Errorf(`".__" must be rejected`)
	}
}

// A loop's names are bound for its body only: the caller's vars and an
// outer name of the same spelling are as they were after it.
func TestLoopScope(t *testing.T) {
	vars := map[string]any{"i": "outer", "xs": []any{int64(1), int64(2)}}
	got, err := Render(`{% for i in xs %}{{ i }}{% endfor %}{{ i }}{{ loop }}`, vars)
	if err != nil {
		t.Fatal(err)
	}
	if want := "12outer{{ loop }}"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if len(vars) != 2 || vars["i"] != "outer" {
		t.Errorf("the caller's vars changed: %v", vars)
	}
}
