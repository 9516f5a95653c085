package pyjson

import (
	"fmt"
	"math"
	"testing"
)

// Python json.dumps / json.loads / repr details the webhook bodies rely on.
func TestPythonJSON(t *testing.T) {
	floats := []struct {
		f    float64
		want string
	}{
		{10, "10.0"}, {0.1, "0.1"}, {1e16, "1e+16"}, {1.5e-5, "1.5e-05"}, {123456.789, "123456.789"}, {math.Copysign(0, -1), "-0.0"},
		{1234567890123456.0, "1234567890123456.0"}, {math.Inf(1), "Infinity"},
	}
	for _, tc := range floats {
		if got := FloatRepr(tc.f); got != tc.want {
			t.Errorf("repr(%v) = %s, want %s", tc.f, got, tc.want)
		}
	}
	in := `{"b": 1, "a": [1.0, 2, "é\u00e9", null, true], "b2": {"z": 1e2}, "b": 3}`
	v, err := Loads(in)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := Dumps.Encode(v), `{"b": 3, "a": [1.0, 2, "\u00e9\u00e9", null, true], "b2": {"z": 100.0}}`; got != want {
		t.Errorf("dumps(loads) = %s, want %s", got, want)
	}
	if got, want := Dumps.Encode("😀\n\"\\"), `"\ud83d\ude00\n\"\\"`; got != want {
		t.Errorf("surrogates: %s, want %s", got, want)
	}
	for _, bad := range []string{`{"a": }`, `[1,]`, `{"a" 1}`, `"x`, `{} x`} {
		if _, err := Loads(bad); err == nil {
			t.Errorf("loads(%q) accepted", bad)
		}
	}
}

// A Dict keeps its order unless SortKeys; Indent puts items on lines, as
// json.dumps(indent=1, sort_keys=True, separators=(",", ": ")) does.
func TestEncoderOptions(t *testing.T) {
	d := NewDict()
	d.Set("b", int64(1))
	d.Set("a", []any{BigInt("123456789012345678901234567890"), map[string]any{"y": nil, "x": false}})
	d.Set("b", 2.5)
	tests := []struct {
		enc  Encoder
		want string
	}{
		{Dumps, `{"b": 2.5, "a": [123456789012345678901234567890, {"x": false, "y": null}]}`},
		{Encoder{ItemSep: ",", KeySep: ":"}, `{"b":2.5,"a":[123456789012345678901234567890,{"x":false,"y":null}]}`},
		{Encoder{ItemSep: ",", KeySep: ": ", Indent: 1, SortKeys: true},
			"{\n \"a\": [\n  123456789012345678901234567890,\n  {\n   \"x\": false,\n   \"y\": null\n  }\n ],\n \"b\": 2.5\n}"},
	}
	for _, tc := range tests {
		if got := tc.enc.Encode(d); got != tc.want {
			t.Errorf("%+v:\n got %s\nwant %s", tc.enc, got, tc.want)
		}
	}
	if got := d.Keys(); len(got) != 2 || got[0] != "b" || got[1] != "a" || d.Len() != 2 {
		t.Errorf("keys %v, len %d: want [b a], 2", got, d.Len())
	}
}

// Rows of one Columns share its keys: a repeated key is one column (its
// first place, its last value, as Set gives), and a key added to one row
// is that row's alone, with or without an index.
func TestColumnsRows(t *testing.T) {
	for _, n := range []int{3, indexFrom + 4} {
		var keys []string
		for i := range n {
			keys = append(keys, fmt.Sprintf("k%02d", i))
		}
		keys = append(keys, "k01") // a repeat
		cols, at := NewColumns(keys)
		if cols.Len() != n || at[len(at)-1] != 1 {
			t.Fatalf("n=%d: %d columns, repeat at %d", n, cols.Len(), at[len(at)-1])
		}
		row := func(tag string) *Dict {
			vals := make([]any, cols.Len())
			for i, j := range at {
				vals[j] = fmt.Sprintf("%s%d", tag, i)
			}
			return cols.Row(vals)
		}
		a, b := row("a"), row("b")
		want := NewDict()
		for i, k := range keys {
			want.Set(k, fmt.Sprintf("a%d", i))
		}
		if got, exp := Dumps.Encode(a), Dumps.Encode(want); got != exp {
			t.Errorf("n=%d: row %s, want %s", n, got, exp)
		}
		a.Set("extra", 1)
		a.Set("k00", "changed")
		if _, ok := b.Get("extra"); ok || b.Len() != n {
			t.Errorf("n=%d: a key set on one row shows on another: %v", n, b.Keys())
		}
		if v, _ := b.Get("k00"); v != "b0" {
			t.Errorf("n=%d: b.k00 = %v", n, v)
		}
		if v, ok := a.Get("extra"); !ok || v != 1 || a.Len() != n+1 {
			t.Errorf("n=%d: a.extra = %v %v, %d keys", n, v, ok, a.Len())
		}
	}
}

// Strings come out as json.dumps(ensure_ascii=True) writes them, escapes
// among plain runs included.
func TestStringEscapes(t *testing.T) {
	for in, want := range map[string]string{
		"plain SAL-ORD-2026-00001": `"plain SAL-ORD-2026-00001"`,
		`a"b\c`:                    `"a\"b\\c"`,
		"Café\n\t\x01é":            `"Caf\u00e9\n\t\u0001\u00e9"`,
		"😀x":                       `"\ud83d\ude00x"`,
		"\xffz":                    `"\ufffdz"`,
		"":                         `""`,
	} {
		if got := Dumps.Encode(in); got != want {
			t.Errorf("%q: %s, want %s", in, got, want)
		}
	}
}
