package fastapi

import (
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/erpnext-otp/otp/promise"
)

// binding is one Bind: the type errors found, and for every location in
// the order the struct's fields name them, the raw JSON value there (the
// errors' "input").
type binding struct {
	errs  []FieldError
	order map[string]int
	raw   map[string]any
}

func key(loc []any) string {
	var b strings.Builder
	for _, step := range loc {
		b.WriteString(strconv.Quote(toString(step)))
	}
	return b.String()
}

func toString(step any) string {
	if i, ok := step.(int); ok {
		return strconv.Itoa(i)
	}
	return step.(string)
}

func (b *binding) visit(loc []any, raw any) {
	k := key(loc)
	if _, seen := b.order[k]; !seen {
		b.order[k] = len(b.order)
	}
	b.raw[k] = raw
}

func (b *binding) add(typ string, loc []any, msg string, input any) {
	b.errs = append(b.errs, FieldError{Type: typ, Loc: slices.Clone(loc), Msg: msg, Input: echoable(input)})
}

// failed reports whether a type error was found at loc or above it: the
// validator's verdict on what could not be read is not reported again.
func (b *binding) failed(loc []any) bool {
	return slices.ContainsFunc(b.errs, func(e FieldError) bool {
		return len(e.Loc) <= len(loc) && slices.Equal(e.Loc, loc[:len(e.Loc)])
	})
}

// at returns loc extended by one step, without aliasing loc.
func at(loc []any, step any) []any {
	return append(slices.Clip(loc), step)
}

var dateType = reflect.TypeFor[promise.Date]()

// fields reads obj into the struct dst. An absent field, and a null one
// that is not required, stays as it is: nil for a pointer, the default.
// A null that is required is a value of the wrong type.
func (b *binding) fields(obj map[string]any, loc []any, dst reflect.Value) {
	t := dst.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		rules := strings.Split(f.Tag.Get("validate"), ",")
		floc := at(loc, name)
		v, present := obj[name]
		b.visit(floc, v)
		if !present || v == nil && !slices.Contains(rules, "required") {
			continue
		}
		enum := slices.ContainsFunc(rules, func(r string) bool { return strings.HasPrefix(r, "oneof=") })
		b.value(v, floc, dst.Field(i), enum)
	}
}

// value reads v into dst, allocating dst when it is a pointer; dst is left
// unset when v has the wrong type.
func (b *binding) value(v any, loc []any, dst reflect.Value, enum bool) {
	if dst.Kind() == reflect.Pointer {
		p := reflect.New(dst.Type().Elem())
		if b.value(v, loc, p.Elem(), enum); !b.failed(loc) {
			dst.Set(p)
		}
		return
	}
	switch {
	case dst.Type() == dateType:
		if d, ok := b.date(v, loc); ok {
			dst.SetInt(int64(d))
		}
	case dst.Kind() == reflect.String && enum:
		// Anything but a string is not one of the enum's: "" fails oneof.
		s, _ := v.(string)
		dst.SetString(s)
	case dst.Kind() == reflect.String:
		if s, ok := v.(string); ok {
			dst.SetString(s)
		} else {
			b.add("string_type", loc, "Input should be a valid string", v)
		}
	case dst.Kind() == reflect.Float64:
		if f, ok := b.number(v, loc); ok {
			dst.SetFloat(f)
		}
	case dst.Kind() == reflect.Int:
		if n, ok := b.integer(v, loc); ok {
			dst.SetInt(int64(n))
		}
	case dst.Kind() == reflect.Bool:
		if x, ok := b.boolean(v, loc); ok {
			dst.SetBool(x)
		}
	case dst.Kind() == reflect.Struct:
		if obj, ok := b.object(v, loc); ok {
			b.fields(obj, loc, dst)
		}
	case dst.Kind() == reflect.Slice:
		l, ok := v.([]any)
		if !ok {
			b.add("list_type", loc, "Input should be a valid list", v)
			return
		}
		s := reflect.MakeSlice(dst.Type(), len(l), len(l))
		for i, e := range l {
			eloc := at(loc, i)
			b.visit(eloc, e)
			b.value(e, eloc, s.Index(i), false)
		}
		dst.Set(s)
	default:
		panic("fastapi: cannot bind a " + dst.Type().String()) // a programming error
	}
}

// object reads v as a JSON object.
func (b *binding) object(v any, loc []any) (map[string]any, bool) {
	m, ok := v.(map[string]any)
	if !ok {
		b.add("model_attributes_type", loc, "Input should be a valid dictionary or object to extract fields from", v)
	}
	return m, ok
}

// number reads a finite float given as a JSON number or a numeric string.
func (b *binding) number(v any, loc []any) (float64, bool) {
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
			b.add("float_parsing", loc, "Input should be a valid number, unable to parse string as a number", v)
			return 0, false
		}
	default:
		b.add("float_type", loc, "Input should be a valid number", v)
		return 0, false
	}
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		b.add("finite_number", loc, "Input should be a finite number", v)
		return 0, false
	}
	return f, true
}

// integer reads a whole number given as a JSON number or a numeric string.
func (b *binding) integer(v any, loc []any) (int, bool) {
	var s string
	switch x := v.(type) {
	case json.Number:
		s = x.String()
	case string:
		s = strings.TrimSpace(x)
		if _, err := strconv.ParseInt(s, 10, 64); err != nil {
			b.add("int_parsing", loc, "Input should be a valid integer, unable to parse string as an integer", v)
			return 0, false
		}
	default:
		b.add("int_type", loc, "Input should be a valid integer", v)
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		b.add("int_parsing", loc, "Input should be a valid integer, unable to parse string as an integer", v)
		return 0, false
	}
	if f != math.Trunc(f) {
		b.add("int_from_float", loc, "Input should be a valid integer, got a number with a fractional part", v)
		return 0, false
	}
	// Beyond what an int holds is beyond every bound: clamp, and let the
	// bound report it with the input as sent.
	return int(max(min(f, math.MaxInt32), math.MinInt32)), true
}

// boolean reads true/false, 0/1, or the strings pydantic accepts.
func (b *binding) boolean(v any, loc []any) (bool, bool) {
	switch x := v.(type) {
	case bool:
		return x, true
	case json.Number:
		switch x.String() {
		case "0":
			return false, true
		case "1":
			return true, true
		}
	case string:
		switch strings.ToLower(strings.TrimSpace(x)) {
		case "0", "off", "f", "false", "n", "no":
			return false, true
		case "1", "on", "t", "true", "y", "yes":
			return true, true
		}
	default:
		b.add("bool_type", loc, "Input should be a valid boolean", v)
		return false, false
	}
	b.add("bool_parsing", loc, "Input should be a valid boolean, unable to interpret input", v)
	return false, false
}

// date reads "YYYY-MM-DD".
func (b *binding) date(v any, loc []any) (promise.Date, bool) {
	s, ok := v.(string)
	if !ok {
		b.add("date_type", loc, "Input should be a valid date", v)
		return 0, false
	}
	d, err := promise.ParseDate(strings.TrimSpace(s))
	if err != nil {
		b.add("date_from_datetime_parsing", loc, "Input should be a valid date in the format YYYY-MM-DD", v)
		return 0, false
	}
	return d, true
}
