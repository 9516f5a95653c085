package quote

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/erpnext-otp/otp/promise"
)

// The quote API reads its JSON bodies the way the earlier OTP's FastAPI and
// pydantic v2 did (docs/quote-api.md#the-earlier-otp), so that its clients keep working:
//
//   - unknown fields are ignored;
//   - numbers may come as JSON numbers or as numeric strings ("10" is 10,
//     pydantic's lax mode); booleans as true/false, 0/1 or the strings
//     pydantic accepts ("true", "yes", "on", "1", ...); a boolean is not a
//     number and a number is not a string;
//   - an optional field that is null or absent takes its default;
//   - every problem is reported at once, as FastAPI's 422 body
//     {"detail":[{"type","loc","msg","input"[,"ctx"]}]} with pydantic's
//     error types and messages.
//
// Where the earlier OTP accepted a value it then failed on (a cutoff that is
// not HH:MM, an unknown timezone: a 500 there, docs/erpnext.md#the-webhook-document), the value is a 422 here.

// fieldError is one validation error in FastAPI's shape.
type fieldError struct {
	Type  string         `json:"type"`
	Loc   []any          `json:"loc"`
	Msg   string         `json:"msg"`
	Input any            `json:"input"`
	Ctx   map[string]any `json:"ctx,omitempty"`
}

// validationFailed is the 422 for a list of field errors.
func validationFailed(errs []fieldError) *Error {
	return &Error{Status: http.StatusUnprocessableEntity, Message: "validation failed", Detail: errs}
}

// checker collects field errors while reading a decoded JSON value.
type checker struct {
	errs []fieldError
}

func (c *checker) add(typ string, loc []any, msg string, input any, ctx map[string]any) {
	c.errs = append(c.errs, fieldError{Type: typ, Loc: slices.Clone(loc), Msg: msg, Input: echoable(input), Ctx: ctx})
}

// echoable returns v for the error's "input", with numbers no float64 can
// hold (1e999) turned into strings, so that every client can read the 422.
func echoable(v any) any {
	switch x := v.(type) {
	case json.Number:
		if f, err := strconv.ParseFloat(x.String(), 64); err != nil || math.IsInf(f, 0) {
			return x.String()
		}
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = echoable(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = echoable(e)
		}
		return out
	}
	return v
}

func (c *checker) ok() bool { return len(c.errs) == 0 }

// at returns loc extended by one step, without aliasing loc.
func at(loc []any, step any) []any {
	return append(slices.Clip(loc), step)
}

// maxBodyDepth bounds JSON nesting: the quote API's bodies are three levels deep.
const maxBodyDepth = 64

// decodeJSON reads body as one JSON value with numbers kept as json.Number.
// A problem is returned as the field error FastAPI gives: "missing" for an
// empty body, "json_invalid" with the byte offset otherwise.
func decodeJSON(body []byte) (any, *fieldError) {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, &fieldError{Type: "missing", Loc: []any{"body"}, Msg: "Field required", Input: nil}
	}
	if depth(body) > maxBodyDepth {
		return nil, &fieldError{Type: "json_invalid", Loc: []any{"body", 0}, Msg: "JSON decode error",
			Input: map[string]any{}, Ctx: map[string]any{"error": fmt.Sprintf("nested deeper than %d levels", maxBodyDepth)}}
	}
	d := json.NewDecoder(bytes.NewReader(body))
	d.UseNumber()
	var v any
	err := d.Decode(&v)
	offset := d.InputOffset()
	if err == nil {
		// Like json.loads: one value, then only white space.
		rest := bytes.TrimLeft(body[offset:], " \t\r\n")
		if len(rest) > 0 {
			offset = int64(len(body) - len(rest))
			err = fmt.Errorf("extra data after the JSON value")
		}
	}
	if err != nil {
		var syn *json.SyntaxError
		switch {
		case errors.As(err, &syn):
			offset = syn.Offset
		case errors.Is(err, io.ErrUnexpectedEOF):
			offset = int64(len(body))
		}
		return nil, &fieldError{Type: "json_invalid", Loc: []any{"body", offset}, Msg: "JSON decode error",
			Input: map[string]any{}, Ctx: map[string]any{"error": err.Error()}}
	}
	return v, nil
}

// depth is the deepest nesting of brackets in body, outside strings.
func depth(body []byte) int {
	d, deepest, inString, escaped := 0, 0, false, false
	for _, b := range body {
		switch {
		case escaped:
			escaped = false
		case inString && b == '\\':
			escaped = true
		case b == '"':
			inString = !inString
		case inString:
		case b == '{' || b == '[':
			d++
			deepest = max(deepest, d)
		case b == '}' || b == ']':
			d--
		}
	}
	return deepest
}

// decodeObject decodes body as the JSON object every quote endpoint takes.
// The checker it returns collects the field errors of what is then read
// from the object; errs is set, and the rest nil, when there is no object.
func decodeObject(body []byte) (c *checker, obj map[string]any, errs []fieldError) {
	v, jerr := decodeJSON(body)
	if jerr != nil {
		return nil, nil, []fieldError{*jerr}
	}
	c = &checker{}
	obj, ok := c.object(v, []any{"body"})
	if !ok {
		return nil, nil, c.errs
	}
	return c, obj, nil
}

// object reads v as a JSON object.
func (c *checker) object(v any, loc []any) (map[string]any, bool) {
	m, ok := v.(map[string]any)
	if !ok {
		c.add("model_attributes_type", loc, "Input should be a valid dictionary or object to extract fields from", v, nil)
	}
	return m, ok
}

// field returns obj[key]. A missing required field is reported; a null is
// returned as absent for optional fields and left to the typed reader
// (which reports it) for required ones.
func (c *checker) field(obj map[string]any, key string, loc []any, required bool) (any, bool) {
	v, present := obj[key]
	switch {
	case !present && required:
		c.add("missing", at(loc, key), "Field required", obj, nil)
		return nil, false
	case !present, v == nil && !required:
		return nil, false
	}
	return v, true
}

// str reads a string field.
func (c *checker) str(obj map[string]any, key string, loc []any, required bool) (string, bool) {
	v, ok := c.field(obj, key, loc, required)
	if !ok {
		return "", false
	}
	s, isStr := v.(string)
	if !isStr {
		c.add("string_type", at(loc, key), "Input should be a valid string", v, nil)
		return "", false
	}
	return s, true
}

// nonEmpty reads a required string that must have at least one
// non-space character.
func (c *checker) nonEmpty(obj map[string]any, key string, loc []any) (string, bool) {
	s, ok := c.str(obj, key, loc, true)
	if ok && strings.TrimSpace(s) == "" {
		c.add("string_too_short", at(loc, key), "String should have at least 1 character", s, map[string]any{"min_length": 1})
		return "", false
	}
	return s, ok
}

// number reads a finite float field given as a JSON number or a numeric string.
func (c *checker) number(obj map[string]any, key string, loc []any, required bool) (float64, bool) {
	v, ok := c.field(obj, key, loc, required)
	if !ok {
		return 0, false
	}
	var (
		f   float64
		err error
	)
	switch x := v.(type) {
	case json.Number:
		f, err = strconv.ParseFloat(x.String(), 64)
	case string:
		f, err = strconv.ParseFloat(strings.TrimSpace(x), 64)
		if err != nil && !errors.Is(err, strconv.ErrRange) {
			c.add("float_parsing", at(loc, key), "Input should be a valid number, unable to parse string as a number", v, nil)
			return 0, false
		}
	default:
		c.add("float_type", at(loc, key), "Input should be a valid number", v, nil)
		return 0, false
	}
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		c.add("finite_number", at(loc, key), "Input should be a finite number", v, nil)
		return 0, false
	}
	return f, true
}

// positive reads a number that must be greater than 0 and at most limit.
func (c *checker) positive(obj map[string]any, key string, loc []any, limit float64) (float64, bool) {
	f, ok := c.number(obj, key, loc, true)
	if !ok {
		return 0, false
	}
	switch {
	case f <= 0:
		c.add("greater_than", at(loc, key), "Input should be greater than 0", obj[key], map[string]any{"gt": 0})
		return 0, false
	case f > limit:
		c.add("less_than_equal", at(loc, key), fmt.Sprintf("Input should be less than or equal to %g", limit), obj[key],
			map[string]any{"le": limit})
		return 0, false
	}
	return f, true
}

// integer reads an optional integer field in [lo, hi]; def when absent.
func (c *checker) integer(obj map[string]any, key string, loc []any, lo, hi, def int) int {
	v, ok := c.field(obj, key, loc, false)
	if !ok {
		return def
	}
	var s string
	switch x := v.(type) {
	case json.Number:
		s = x.String()
	case string:
		s = strings.TrimSpace(x)
		if _, err := strconv.ParseInt(s, 10, 64); err != nil {
			c.add("int_parsing", at(loc, key), "Input should be a valid integer, unable to parse string as an integer", v, nil)
			return def
		}
	default:
		c.add("int_type", at(loc, key), "Input should be a valid integer", v, nil)
		return def
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		c.add("int_parsing", at(loc, key), "Input should be a valid integer, unable to parse string as an integer", v, nil)
		return def
	}
	if f != math.Trunc(f) {
		c.add("int_from_float", at(loc, key), "Input should be a valid integer, got a number with a fractional part", v, nil)
		return def
	}
	switch {
	case f < float64(lo):
		c.add("greater_than_equal", at(loc, key), fmt.Sprintf("Input should be greater than or equal to %d", lo), v, map[string]any{"ge": lo})
		return def
	case f > float64(hi):
		c.add("less_than_equal", at(loc, key), fmt.Sprintf("Input should be less than or equal to %d", hi), v, map[string]any{"le": hi})
		return def
	}
	return int(f)
}

// boolean reads an optional boolean field; def when absent.
func (c *checker) boolean(obj map[string]any, key string, loc []any, def bool) bool {
	v, ok := c.field(obj, key, loc, false)
	if !ok {
		return def
	}
	switch x := v.(type) {
	case bool:
		return x
	case json.Number:
		switch x.String() {
		case "0":
			return false
		case "1":
			return true
		}
	case string:
		switch strings.ToLower(strings.TrimSpace(x)) {
		case "0", "off", "f", "false", "n", "no":
			return false
		case "1", "on", "t", "true", "y", "yes":
			return true
		}
	default:
		c.add("bool_type", at(loc, key), "Input should be a valid boolean", v, nil)
		return def
	}
	c.add("bool_parsing", at(loc, key), "Input should be a valid boolean, unable to interpret input", v, nil)
	return def
}

// date reads a "YYYY-MM-DD" field; the zero Date when absent.
func (c *checker) date(obj map[string]any, key string, loc []any, required bool) promise.Date {
	v, ok := c.field(obj, key, loc, required)
	if !ok {
		return 0
	}
	s, isStr := v.(string)
	if !isStr {
		c.add("date_type", at(loc, key), "Input should be a valid date", v, nil)
		return 0
	}
	d, err := promise.ParseDate(strings.TrimSpace(s))
	if err != nil {
		c.add("date_from_datetime_parsing", at(loc, key), "Input should be a valid date in the format YYYY-MM-DD", v, nil)
		return 0
	}
	return d
}

// enum reads an optional string field that must be one of values; def when absent.
func (c *checker) enum(obj map[string]any, key string, loc []any, values []string, def string) string {
	v, ok := c.field(obj, key, loc, false)
	if !ok {
		return def
	}
	if s, isStr := v.(string); isStr && slices.Contains(values, s) {
		return s
	}
	expected := quotedList(values)
	c.add("enum", at(loc, key), "Input should be "+expected, v, map[string]any{"expected": expected})
	return def
}

// quotedList writes values as pydantic does: "'A', 'B' or 'C'".
func quotedList(values []string) string {
	q := make([]string, len(values))
	for i, v := range values {
		q[i] = "'" + v + "'"
	}
	if len(q) < 2 {
		return strings.Join(q, "")
	}
	return strings.Join(q[:len(q)-1], ", ") + " or " + q[len(q)-1]
}

// list reads a required array field with between 1 and maxLen elements.
func (c *checker) list(obj map[string]any, key string, loc []any, maxLen int) ([]any, bool) {
	v, ok := c.field(obj, key, loc, true)
	if !ok {
		return nil, false
	}
	l, isList := v.([]any)
	switch {
	case !isList:
		c.add("list_type", at(loc, key), "Input should be a valid list", v, nil)
		return nil, false
	case len(l) == 0:
		c.add("too_short", at(loc, key), "List should have at least 1 item after validation, not 0", v,
			map[string]any{"field_type": "List", "min_length": 1, "actual_length": 0})
		return nil, false
	case len(l) > maxLen:
		c.add("too_long", at(loc, key), fmt.Sprintf("List should have at most %d items after validation, not %d", maxLen, len(l)),
			fmt.Sprintf("[%d items]", len(l)), map[string]any{"field_type": "List", "max_length": maxLen, "actual_length": len(l)})
		return nil, false
	}
	return l, true
}

// valueError reports a value that has the right type but is not usable.
func (c *checker) valueError(loc []any, input any, why string) {
	c.add("value_error", loc, "Value error, "+why, input, map[string]any{"error": why})
}
