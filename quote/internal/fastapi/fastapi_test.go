package fastapi

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/erpnext-otp/otp/promise"
)

type line struct {
	Code *string  `json:"code" validate:"required,notblank"`
	Qty  *float64 `json:"qty" validate:"required,gt=0,lte=1e12"`
}

type body struct {
	Name  *string       `json:"name" validate:"required"`
	Lines []line        `json:"lines" validate:"required,min=1,max=2,dive"`
	Day   *promise.Date `json:"day"`
	Kind  *string       `json:"kind" validate:"omitempty,oneof=A B"`
	Days  *int          `json:"days" validate:"omitempty,gte=0,lte=10"`
	On    *bool         `json:"on"`
	Odd   *string       `json:"odd" validate:"omitempty,odd"`
}

func newTestValidator() *Validator {
	return New(map[string]func(string) error{"odd": func(s string) error {
		if len(s)%2 == 1 {
			return nil
		}
		return errors.New("an even length")
	}})
}

// Type errors (from binding) and constraint errors (from the tags) come
// back together, in the order of the struct's fields, with pydantic's
// types, inputs and contexts.
func TestDecodeBodyErrors(t *testing.T) {
	var b body
	got := newTestValidator().DecodeBody([]byte(`{"lines":[{"code":" ","qty":"0"},7],"day":"soon","kind":1,"days":"11","on":"maybe","odd":"ab"}`), &b)
	want := []FieldError{
		{Type: "missing", Loc: []any{"body", "name"}, Msg: "Field required"},
		{Type: "string_too_short", Loc: []any{"body", "lines", 0, "code"}, Msg: "String should have at least 1 character", Input: " ", Ctx: map[string]any{"min_length": 1}},
		{Type: "greater_than", Loc: []any{"body", "lines", 0, "qty"}, Msg: "Input should be greater than 0", Input: "0", Ctx: map[string]any{"gt": 0}},
		{Type: "model_attributes_type", Loc: []any{"body", "lines", 1}, Msg: "Input should be a valid dictionary or object to extract fields from", Input: json.Number("7")},
		{Type: "date_from_datetime_parsing", Loc: []any{"body", "day"}, Msg: "Input should be a valid date in the format YYYY-MM-DD", Input: "soon"},
		{Type: "enum", Loc: []any{"body", "kind"}, Msg: "Input should be 'A' or 'B'", Input: json.Number("1"), Ctx: map[string]any{"expected": "'A' or 'B'"}},
		{Type: "less_than_equal", Loc: []any{"body", "days"}, Msg: "Input should be less than or equal to 10", Input: "11", Ctx: map[string]any{"le": 10}},
		{Type: "bool_parsing", Loc: []any{"body", "on"}, Msg: "Input should be a valid boolean, unable to interpret input", Input: "maybe"},
		{Type: "value_error", Loc: []any{"body", "odd"}, Msg: "Value error, an even length", Input: "ab", Ctx: map[string]any{"error": "an even length"}},
	}
	if len(got) != len(want) {
		t.Fatalf("%d errors, want %d:\n%+v", len(got), len(want), got)
	}
	for i := range want {
		g := got[i]
		if g.Type == "missing" {
			g.Input = nil // the whole body, as pydantic echoes it
		}
		if diff := cmp.Diff(want[i], g); diff != "" {
			t.Errorf("error %d (-want +got):\n%s", i, diff)
		}
	}
}

func TestDecodeBodyValues(t *testing.T) {
	var b body
	errs := newTestValidator().DecodeBody([]byte(`{"name":"","lines":[{"code":"X","qty":"2.5"}],"day":"2026-12-01","days":"3","on":"yes","kind":null}`), &b)
	if errs != nil {
		t.Fatalf("errors: %+v", errs)
	}
	if *b.Name != "" || *b.Lines[0].Code != "X" || *b.Lines[0].Qty != 2.5 || b.Day.String() != "2026-12-01" || *b.Days != 3 || !*b.On || b.Kind != nil || b.Odd != nil {
		t.Errorf("decoded %+v", b)
	}
}

func TestListBounds(t *testing.T) {
	v := newTestValidator()
	var b body
	got := v.DecodeBody([]byte(`{"name":"n","lines":[]}`), &b)
	if len(got) != 1 || got[0].Type != "too_short" || got[0].Msg != "List should have at least 1 item after validation, not 0" {
		t.Errorf("empty list: %+v", got)
	}
	got = v.DecodeBody([]byte(`{"name":"n","lines":[{},{},{}]}`), &b)
	if len(got) != 1 || got[0].Type != "too_long" || got[0].Input != "[3 items]" {
		t.Errorf("long list: %+v", got)
	}
}
