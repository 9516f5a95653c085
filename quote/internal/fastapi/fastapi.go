// Package fastapi reads the quote API's requests the way the earlier OTP's
// FastAPI and pydantic v2 did (docs/quote-api.md#the-earlier-otp), so that
// its clients keep working:
//
//   - unknown fields are ignored;
//   - numbers may come as JSON numbers or as numeric strings ("10" is 10,
//     pydantic's lax mode); booleans as true/false, 0/1 or the strings
//     pydantic accepts ("true", "yes", "on", "1", ...); a boolean is not a
//     number and a number is not a string;
//   - an optional field that is null or absent stays nil: its default;
//   - every problem is reported at once, as FastAPI's 422 body
//     {"detail":[{"type","loc","msg","input"[,"ctx"]}]} with pydantic's
//     error types and messages, in the order of the struct's fields.
//
// A request type is a struct whose fields carry their JSON name and their
// constraints as go-playground/validator tags (required, notblank, gt, gte,
// lte, min and max of a list, oneof, timezone, and the value checks given
// to New). Bind coerces the decoded JSON into it (pydantic's type errors),
// then the validator checks the tags (pydantic's constraint errors).
package fastapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/go-playground/validator/v10"
)

// FieldError is one validation error in FastAPI's shape.
type FieldError struct {
	Type  string         `json:"type"`
	Loc   []any          `json:"loc"`
	Msg   string         `json:"msg"`
	Input any            `json:"input"`
	Ctx   map[string]any `json:"ctx,omitempty"`
}

// ValueError is the error of a value that has the right type but is not
// usable, pydantic's value_error.
func ValueError(loc []any, input any, why string) FieldError {
	return FieldError{Type: "value_error", Loc: slices.Clone(loc), Msg: "Value error, " + why, Input: echoable(input),
		Ctx: map[string]any{"error": why}}
}

// Validator binds and checks request types; it is safe for concurrent use.
type Validator struct {
	v *validator.Validate
	// checks are the value checks by tag: the field is a string, and the
	// error is the value_error's text.
	checks map[string]func(string) error
}

// New returns a Validator with the value checks checks (tag → check of a
// string field; its error is the value_error's text).
func New(checks map[string]func(string) error) *Validator {
	v := validator.New(validator.WithRequiredStructEnabled())
	v.RegisterTagNameFunc(func(f reflect.StructField) string {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		return name
	})
	// ERPNext strips names: a name of spaces only is no name (Go's
	// TrimSpace, as the earlier checks; validators.NotBlank trims more).
	must(v.RegisterValidation("notblank", func(fl validator.FieldLevel) bool {
		return strings.TrimSpace(fl.Field().String()) != ""
	}))
	for tag, check := range checks {
		must(v.RegisterValidation(tag, func(fl validator.FieldLevel) bool { return check(fl.Field().String()) == nil }))
	}
	return &Validator{v: v, checks: checks}
}

func must(err error) {
	if err != nil {
		panic(err) // a tag name the validator refuses: a programming error
	}
}

// maxBodyDepth bounds JSON nesting: the quote API's bodies are three levels deep.
const maxBodyDepth = 64

// DecodeBody reads body as one JSON object into dst, a pointer to a request
// struct, and checks it. Locations start at "body".
func (v *Validator) DecodeBody(body []byte, dst any) []FieldError {
	raw, jerr := decodeJSON(body)
	if jerr != nil {
		return []FieldError{*jerr}
	}
	return v.bind(raw, []any{"body"}, dst)
}

// BindQuery reads a query string, as an object of strings, into dst and
// checks it. Locations start at "query".
func (v *Validator) BindQuery(params map[string]any, dst any) []FieldError {
	return v.bind(params, []any{"query"}, dst)
}

func (v *Validator) bind(raw any, root []any, dst any) []FieldError {
	b := &binding{order: map[string]int{}, raw: map[string]any{}}
	b.visit(root, raw)
	if obj, ok := b.object(raw, root); ok {
		b.fields(obj, root, reflect.ValueOf(dst).Elem())
	}
	if len(b.errs) > 0 && len(b.errs[0].Loc) == len(root) {
		return b.errs // not an object at all
	}
	var ve validator.ValidationErrors
	if err := v.v.Struct(dst); errors.As(err, &ve) {
		for _, fe := range ve {
			loc := locOf(root, fe.Namespace())
			if !b.failed(loc) {
				b.errs = append(b.errs, v.fieldError(b, loc, fe))
			}
		}
	} else if err != nil {
		panic(err) // dst is not a struct pointer: a programming error
	}
	if len(b.errs) == 0 {
		return nil
	}
	slices.SortStableFunc(b.errs, func(x, y FieldError) int { return b.order[key(x.Loc)] - b.order[key(y.Loc)] })
	return b.errs
}

// locOf turns the validator's namespace ("promiseBody.items[0].qty") into
// a location under root.
func locOf(root []any, ns string) []any {
	loc := slices.Clone(root)
	_, rest, _ := strings.Cut(ns, ".")
	for part := range strings.SplitSeq(rest, ".") {
		name, index, _ := strings.Cut(part, "[")
		loc = append(loc, name)
		for index != "" {
			n, after, _ := strings.Cut(index, "]")
			i, _ := strconv.Atoi(n)
			loc = append(loc, i)
			index = strings.TrimPrefix(after, "[")
		}
	}
	return loc
}

// fieldError is the pydantic error for a failed validator tag.
func (v *Validator) fieldError(b *binding, loc []any, fe validator.FieldError) FieldError {
	input := b.raw[key(loc)]
	e := FieldError{Loc: loc, Input: echoable(input)}
	param := fe.Param()
	switch fe.Tag() {
	case "required":
		e.Type, e.Msg, e.Input = "missing", "Field required", echoable(b.raw[key(loc[:len(loc)-1])])
	case "notblank":
		e.Type, e.Msg, e.Ctx = "string_too_short", "String should have at least 1 character", map[string]any{"min_length": 1}
	case "gt":
		e.Type, e.Msg, e.Ctx = "greater_than", "Input should be greater than "+param, map[string]any{"gt": number(param)}
	case "gte":
		e.Type, e.Msg, e.Ctx = "greater_than_equal", "Input should be greater than or equal to "+param, map[string]any{"ge": number(param)}
	case "lte":
		limit := number(param)
		e.Type, e.Msg, e.Ctx = "less_than_equal", fmt.Sprintf("Input should be less than or equal to %v", limit), map[string]any{"le": limit}
	case "min":
		n := reflect.ValueOf(fe.Value()).Len()
		e.Type = "too_short"
		e.Msg = fmt.Sprintf("List should have at least %s item after validation, not %d", param, n)
		e.Ctx = map[string]any{"field_type": "List", "min_length": number(param), "actual_length": n}
	case "max":
		n := reflect.ValueOf(fe.Value()).Len()
		e.Type, e.Input = "too_long", fmt.Sprintf("[%d items]", n)
		e.Msg = fmt.Sprintf("List should have at most %s items after validation, not %d", param, n)
		e.Ctx = map[string]any{"field_type": "List", "max_length": number(param), "actual_length": n}
	case "oneof":
		expected := quotedList(strings.Fields(param))
		e.Type, e.Msg, e.Ctx = "enum", "Input should be "+expected, map[string]any{"expected": expected}
	default: // timezone and the value checks
		s, _ := fe.Value().(string)
		why := fmt.Sprintf("%s %q is not valid", fe.Field(), s)
		if check := v.checks[fe.Tag()]; check != nil {
			if err := check(s); err != nil {
				why = err.Error()
			}
		}
		return ValueError(loc, input, why)
	}
	return e
}

// number reads a tag's parameter: an int when it is one (pydantic's ctx
// holds the bound as declared), else a float, printed as %g would.
func number(param string) any {
	if n, err := strconv.Atoi(param); err == nil {
		return n
	}
	f, _ := strconv.ParseFloat(param, 64)
	return gFloat(f)
}

// gFloat is a float that prints as %g ("1e+12") and encodes as a JSON number.
type gFloat float64

func (f gFloat) String() string { return strconv.FormatFloat(float64(f), 'g', -1, 64) }

func (f gFloat) MarshalJSON() ([]byte, error) { return json.Marshal(float64(f)) }

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

// decodeJSON reads body as one JSON value with numbers kept as json.Number.
// A problem is returned as the field error FastAPI gives: "missing" for an
// empty body, "json_invalid" with the byte offset otherwise.
func decodeJSON(body []byte) (any, *FieldError) {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, &FieldError{Type: "missing", Loc: []any{"body"}, Msg: "Field required", Input: nil}
	}
	if depth(body) > maxBodyDepth {
		return nil, &FieldError{Type: "json_invalid", Loc: []any{"body", 0}, Msg: "JSON decode error",
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
		return nil, &FieldError{Type: "json_invalid", Loc: []any{"body", offset}, Msg: "JSON decode error",
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
