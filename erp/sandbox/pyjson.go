package sandbox

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// This file reproduces Python's json module closely enough that webhook
// bodies and signatures match Frappe byte for byte (docs/erpnext.md#the-request-body, #the-signature):
// json.dumps with ensure_ascii, configurable separators, floats as repr
// ("10.0", "1e+16"), and json.loads keeping key order and the int/float
// distinction.

// pyBigInt is an integer literal too large for int64, kept verbatim.
type pyBigInt string

// pyJSON is a json.dumps configuration.
type pyJSON struct {
	itemSep, keySep string
	indent          int // -1 for none; json.dumps(indent=n) also switches itemSep to ","
	sortKeys        bool
}

var (
	// pyDumps is Python's json.dumps(data) default: one line, ", " and ": ".
	pyDumps = pyJSON{itemSep: ", ", keySep: ": ", indent: -1}
	// frappeResponse is the compact form Frappe writes REST responses in.
	frappeResponse = pyJSON{itemSep: ",", keySep: ":", indent: -1}
	// frappeAsJSON is frappe.as_json: indent=1, sorted keys, (",", ": ").
	frappeAsJSON = pyJSON{itemSep: ",", keySep: ": ", indent: 1, sortKeys: true}
)

func (p pyJSON) encode(v any) string {
	var b strings.Builder
	p.write(&b, v, 0)
	return b.String()
}

func (p pyJSON) newline(b *strings.Builder, level int) {
	if p.indent < 0 {
		return
	}
	b.WriteByte('\n')
	b.WriteString(strings.Repeat(" ", p.indent*level))
}

func (p pyJSON) write(b *strings.Builder, v any, level int) {
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		if x {
			b.WriteString("true")
		} else {
			b.WriteString("false")
		}
	case string:
		writePyString(b, x)
	case int:
		b.WriteString(strconv.Itoa(x))
	case int64:
		b.WriteString(strconv.FormatInt(x, 10))
	case pyBigInt:
		b.WriteString(string(x))
	case float64:
		b.WriteString(pyFloatRepr(x))
	case *omap:
		keys := x.keys
		if p.sortKeys {
			keys = append([]string(nil), keys...)
			sort.Strings(keys)
		}
		p.writeObject(b, keys, func(k string) any { return x.vals[k] }, level)
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		p.writeObject(b, keys, func(k string) any { return x[k] }, level)
	case []any:
		p.writeArray(b, len(x), func(i int) any { return x[i] }, level)
	case []*omap:
		p.writeArray(b, len(x), func(i int) any { return x[i] }, level)
	case []string:
		p.writeArray(b, len(x), func(i int) any { return x[i] }, level)
	case []map[string]any:
		p.writeArray(b, len(x), func(i int) any { return x[i] }, level)
	default:
		writePyString(b, fmt.Sprint(x)) // json.dumps(default=str)
	}
}

func (p pyJSON) writeObject(b *strings.Builder, keys []string, get func(string) any, level int) {
	if len(keys) == 0 {
		b.WriteString("{}")
		return
	}
	sep := p.itemSep
	b.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			b.WriteString(sep)
		}
		p.newline(b, level+1)
		writePyString(b, k)
		b.WriteString(p.keySep)
		p.write(b, get(k), level+1)
	}
	p.newline(b, level)
	b.WriteByte('}')
}

func (p pyJSON) writeArray(b *strings.Builder, n int, get func(int) any, level int) {
	if n == 0 {
		b.WriteString("[]")
		return
	}
	b.WriteByte('[')
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteString(p.itemSep)
		}
		p.newline(b, level+1)
		p.write(b, get(i), level+1)
	}
	p.newline(b, level)
	b.WriteByte(']')
}

// writePyString writes s as json.dumps(ensure_ascii=True) does.
func writePyString(b *strings.Builder, s string) {
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		default:
			switch {
			case r < 0x20:
				fmt.Fprintf(b, `\u%04x`, r)
			case r < 0x80:
				b.WriteRune(r)
			case r > 0xFFFF:
				r1, r2 := utf16.EncodeRune(r)
				fmt.Fprintf(b, `\u%04x\u%04x`, r1, r2)
			default:
				fmt.Fprintf(b, `\u%04x`, r)
			}
		}
	}
	b.WriteByte('"')
}

// pyFloatRepr is Python's repr(float): the shortest round-tripping digits,
// scientific notation when the exponent is < -4 or >= 16, and ".0" on
// integral values.
func pyFloatRepr(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	}
	if f == 0 {
		if math.Signbit(f) {
			return "-0.0"
		}
		return "0.0"
	}
	e := strconv.FormatFloat(f, 'e', -1, 64)
	i := strings.LastIndexByte(e, 'e')
	exp, _ := strconv.Atoi(e[i+1:])
	if exp < -4 || exp >= 16 {
		return e
	}
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.ContainsAny(s, ".") {
		s += ".0"
	}
	return s
}

// pyLoads parses JSON like Python's json.loads: objects keep key order
// (a repeated key keeps its first position and its last value), integers
// stay integers and numbers with a fraction or exponent become floats.
func pyLoads(s string) (any, error) {
	p := &jsonParser{s: s}
	p.ws()
	v, err := p.value()
	if err != nil {
		return nil, err
	}
	p.ws()
	if p.i != len(p.s) {
		return nil, p.errorf("Extra data")
	}
	return v, nil
}

type jsonParser struct {
	s string
	i int
}

func (p *jsonParser) errorf(msg string) error {
	line := 1 + strings.Count(p.s[:p.i], "\n")
	col := p.i - strings.LastIndex(p.s[:p.i], "\n")
	return fmt.Errorf("json.decoder.JSONDecodeError: %s: line %d column %d (char %d)", msg, line, col, p.i)
}

func (p *jsonParser) ws() {
	for p.i < len(p.s) && strings.IndexByte(" \t\n\r", p.s[p.i]) >= 0 {
		p.i++
	}
}

func (p *jsonParser) value() (any, error) {
	if p.i >= len(p.s) {
		return nil, p.errorf("Expecting value")
	}
	switch c := p.s[p.i]; {
	case c == '{':
		return p.object()
	case c == '[':
		return p.array()
	case c == '"':
		return p.str()
	case c == '-' || (c >= '0' && c <= '9'):
		return p.number()
	case strings.HasPrefix(p.s[p.i:], "true"):
		p.i += 4
		return true, nil
	case strings.HasPrefix(p.s[p.i:], "false"):
		p.i += 5
		return false, nil
	case strings.HasPrefix(p.s[p.i:], "null"):
		p.i += 4
		return nil, nil
	case strings.HasPrefix(p.s[p.i:], "NaN"):
		p.i += 3
		return math.NaN(), nil
	case strings.HasPrefix(p.s[p.i:], "Infinity"):
		p.i += 8
		return math.Inf(1), nil
	}
	return nil, p.errorf("Expecting value")
}

func (p *jsonParser) object() (any, error) {
	p.i++ // {
	o := newOmap()
	p.ws()
	if p.i < len(p.s) && p.s[p.i] == '}' {
		p.i++
		return o, nil
	}
	for {
		p.ws()
		if p.i >= len(p.s) || p.s[p.i] != '"' {
			return nil, p.errorf("Expecting property name enclosed in double quotes")
		}
		k, err := p.str()
		if err != nil {
			return nil, err
		}
		p.ws()
		if p.i >= len(p.s) || p.s[p.i] != ':' {
			return nil, p.errorf("Expecting ':' delimiter")
		}
		p.i++
		p.ws()
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		o.set(k.(string), v)
		p.ws()
		if p.i < len(p.s) && p.s[p.i] == ',' {
			p.i++
			continue
		}
		if p.i < len(p.s) && p.s[p.i] == '}' {
			p.i++
			return o, nil
		}
		return nil, p.errorf("Expecting ',' delimiter")
	}
}

func (p *jsonParser) array() (any, error) {
	p.i++ // [
	out := []any{}
	p.ws()
	if p.i < len(p.s) && p.s[p.i] == ']' {
		p.i++
		return out, nil
	}
	for {
		p.ws()
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		out = append(out, v)
		p.ws()
		if p.i < len(p.s) && p.s[p.i] == ',' {
			p.i++
			continue
		}
		if p.i < len(p.s) && p.s[p.i] == ']' {
			p.i++
			return out, nil
		}
		return nil, p.errorf("Expecting ',' delimiter")
	}
}

func (p *jsonParser) str() (any, error) {
	start := p.i
	p.i++ // "
	var b strings.Builder
	for p.i < len(p.s) {
		c := p.s[p.i]
		switch {
		case c == '"':
			p.i++
			return b.String(), nil
		case c == '\\':
			if p.i+1 >= len(p.s) {
				p.i = start
				return nil, p.errorf("Unterminated string starting at")
			}
			e := p.s[p.i+1]
			p.i += 2
			switch e {
			case '"', '\\', '/':
				b.WriteByte(e)
			case 'n':
				b.WriteByte('\n')
			case 'r':
				b.WriteByte('\r')
			case 't':
				b.WriteByte('\t')
			case 'b':
				b.WriteByte('\b')
			case 'f':
				b.WriteByte('\f')
			case 'u':
				r, ok := p.hex4()
				if !ok {
					return nil, p.errorf("Invalid \\uXXXX escape")
				}
				if utf16.IsSurrogate(r) && strings.HasPrefix(p.s[p.i:], `\u`) {
					save := p.i
					p.i += 2
					if r2, ok := p.hex4(); ok {
						if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
							b.WriteRune(dec)
							continue
						}
					}
					p.i = save
				}
				b.WriteRune(r)
			default:
				return nil, p.errorf("Invalid \\escape")
			}
		case c < 0x20:
			return nil, p.errorf("Invalid control character at")
		default:
			b.WriteByte(c)
			p.i++
		}
	}
	p.i = start
	return nil, p.errorf("Unterminated string starting at")
}

func (p *jsonParser) hex4() (rune, bool) {
	if p.i+4 > len(p.s) {
		return 0, false
	}
	n, err := strconv.ParseUint(p.s[p.i:p.i+4], 16, 32)
	if err != nil {
		return 0, false
	}
	p.i += 4
	return rune(n), true
}

func (p *jsonParser) number() (any, error) {
	start := p.i
	if p.s[p.i] == '-' {
		p.i++
		if strings.HasPrefix(p.s[p.i:], "Infinity") {
			p.i += 8
			return math.Inf(-1), nil
		}
	}
	digits := func() int {
		n := 0
		for p.i < len(p.s) && p.s[p.i] >= '0' && p.s[p.i] <= '9' {
			p.i++
			n++
		}
		return n
	}
	if digits() == 0 {
		p.i = start
		return nil, p.errorf("Expecting value")
	}
	isFloat := false
	if p.i < len(p.s) && p.s[p.i] == '.' {
		save := p.i
		p.i++
		if digits() == 0 {
			p.i = save
		} else {
			isFloat = true
		}
	}
	if p.i < len(p.s) && (p.s[p.i] == 'e' || p.s[p.i] == 'E') {
		save := p.i
		p.i++
		if p.i < len(p.s) && (p.s[p.i] == '+' || p.s[p.i] == '-') {
			p.i++
		}
		if digits() == 0 {
			p.i = save
		} else {
			isFloat = true
		}
	}
	lit := p.s[start:p.i]
	if isFloat {
		f, err := strconv.ParseFloat(lit, 64)
		if err != nil && !strings.Contains(err.Error(), "range") {
			return nil, p.errorf("Expecting value")
		}
		return f, nil
	}
	if n, err := strconv.ParseInt(lit, 10, 64); err == nil {
		return n, nil
	}
	return pyBigInt(lit), nil
}
