package pyjson

import (
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
