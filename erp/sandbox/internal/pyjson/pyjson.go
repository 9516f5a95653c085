// Package pyjson reproduces Python's json module closely enough that the
// sandbox's webhook bodies, signatures and REST answers match Frappe's byte
// for byte: json.dumps with ensure_ascii, configurable separators and
// indent, floats as repr ("10.0", "1e+16"), and json.loads keeping key
// order and the int/float distinction. Dict is the ordered dict both sides
// use.
package pyjson

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// Dict is a JSON object that keeps its keys in insertion order, like a
// Python dict. Keys and values are kept side by side; a Dict with many keys
// also has an index. Dicts made from one Columns share its keys until one
// of them gets a key of its own.
type Dict struct {
	keys   []string
	vals   []any
	index  map[string]int // nil while the Dict is small: a scan is faster
	shared bool           // keys and index belong to a Columns
}

// indexFrom is how many keys a Dict has before it keeps an index.
const indexFrom = 16

// NewDict returns an empty Dict.
func NewDict() *Dict { return &Dict{} }

func (d *Dict) find(k string) int {
	if d.index != nil {
		if i, ok := d.index[k]; ok {
			return i
		}
		return -1
	}
	for i, key := range d.keys {
		if key == k {
			return i
		}
	}
	return -1
}

// Set sets k to v; a new key goes last.
func (d *Dict) Set(k string, v any) {
	if i := d.find(k); i >= 0 {
		d.vals[i] = v
		return
	}
	if d.shared { // the keys are the Columns': copy them before adding one
		d.keys = append(make([]string, 0, len(d.keys)+1), d.keys...)
		if d.index != nil {
			index := make(map[string]int, len(d.keys)+1)
			for i, key := range d.keys {
				index[key] = i
			}
			d.index = index
		}
		d.shared = false
	}
	d.keys = append(d.keys, k)
	d.vals = append(d.vals, v)
	switch {
	case d.index != nil:
		d.index[k] = len(d.keys) - 1
	case len(d.keys) > indexFrom:
		d.index = make(map[string]int, 2*len(d.keys))
		for i, key := range d.keys {
			d.index[key] = i
		}
	}
}

// Get returns k's value and whether k is set.
func (d *Dict) Get(k string) (any, bool) {
	if i := d.find(k); i >= 0 {
		return d.vals[i], true
	}
	return nil, false
}

// Keys returns the keys in insertion order. The slice is d's own: do not
// change it.
func (d *Dict) Keys() []string { return d.keys }

// Len is the number of keys.
func (d *Dict) Len() int { return len(d.keys) }

// Columns are the keys of many Dicts with the same keys in the same
// order, such as the rows of a list: each row's Dict shares them.
type Columns struct {
	keys  []string
	index map[string]int
}

// NewColumns returns the distinct keys in their order of first appearance,
// and where each of keys is among them: the Dict of Set(keys[i], vals[i])
// for every i is Row of vals put at those places.
func NewColumns(keys []string) (*Columns, []int) {
	c := &Columns{}
	at := make([]int, len(keys))
	seen := make(map[string]int, len(keys))
	for i, k := range keys {
		j, ok := seen[k]
		if !ok {
			j = len(c.keys)
			seen[k] = j
			c.keys = append(c.keys, k)
		}
		at[i] = j
	}
	c.keys = c.keys[:len(c.keys):len(c.keys)]
	if len(c.keys) > indexFrom {
		c.index = seen
	}
	return c, at
}

// Len is the number of distinct keys.
func (c *Columns) Len() int { return len(c.keys) }

// Row returns the Dict of c's keys with vals (one per key, in order); the
// Dict keeps vals.
func (c *Columns) Row(vals []any) *Dict {
	if len(vals) != len(c.keys) {
		panic(fmt.Sprintf("pyjson: %d values for %d columns", len(vals), len(c.keys)))
	}
	return &Dict{keys: c.keys, vals: vals, index: c.index, shared: true}
}

// BigInt is an integer literal too large for int64, kept verbatim.
type BigInt string

// Encoder is a json.dumps configuration (ensure_ascii is always on).
type Encoder struct {
	ItemSep, KeySep string // separators=(ItemSep, KeySep)
	// Indent > 0 is indent=n: each item on its own line, n spaces deeper
	// per level; 0 keeps everything on one line (indent=None).
	Indent   int
	SortKeys bool // sort_keys=True
}

// Dumps is json.dumps(v) with its defaults: one line, ", " and ": ".
var Dumps = Encoder{ItemSep: ", ", KeySep: ": "}

// Encode is json.dumps(v, ...) with e's options. It writes nil, bool,
// string, int, int64, BigInt, float64 (as repr), *Dict (in its order, or
// sorted), map[string]any (sorted), []any, []*Dict, []string and
// []map[string]any; anything else as the string of fmt.Sprint, as
// json.dumps(default=str) does.
func (p Encoder) Encode(v any) string {
	var b strings.Builder
	p.write(&b, v, 0)
	return b.String()
}

func (p Encoder) newline(b *strings.Builder, level int) {
	if p.Indent <= 0 {
		return
	}
	b.WriteByte('\n')
	b.WriteString(strings.Repeat(" ", p.Indent*level))
}

func (p Encoder) write(b *strings.Builder, v any, level int) {
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
	case BigInt:
		b.WriteString(string(x))
	case float64:
		b.WriteString(FloatRepr(x))
	case *Dict:
		if !p.SortKeys {
			p.writeObject(b, x.keys, func(i int, _ string) any { return x.vals[i] }, level)
			break
		}
		order := make([]int, len(x.keys))
		for i := range order {
			order[i] = i
		}
		sort.Slice(order, func(i, j int) bool { return x.keys[order[i]] < x.keys[order[j]] })
		keys := make([]string, len(order))
		for i, o := range order {
			keys[i] = x.keys[o]
		}
		p.writeObject(b, keys, func(i int, _ string) any { return x.vals[order[i]] }, level)
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		p.writeObject(b, keys, func(_ int, k string) any { return x[k] }, level)
	case []any:
		p.writeArray(b, len(x), func(i int) any { return x[i] }, level)
	case []*Dict:
		p.writeArray(b, len(x), func(i int) any { return x[i] }, level)
	case []string:
		p.writeArray(b, len(x), func(i int) any { return x[i] }, level)
	case []map[string]any:
		p.writeArray(b, len(x), func(i int) any { return x[i] }, level)
	default:
		writePyString(b, fmt.Sprint(x)) // json.dumps(default=str)
	}
}

func (p Encoder) writeObject(b *strings.Builder, keys []string, get func(i int, k string) any, level int) {
	if len(keys) == 0 {
		b.WriteString("{}")
		return
	}
	sep := p.ItemSep
	b.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			b.WriteString(sep)
		}
		p.newline(b, level+1)
		writePyString(b, k)
		b.WriteString(p.KeySep)
		p.write(b, get(i, k), level+1)
	}
	p.newline(b, level)
	b.WriteByte('}')
}

func (p Encoder) writeArray(b *strings.Builder, n int, get func(int) any, level int) {
	if n == 0 {
		b.WriteString("[]")
		return
	}
	b.WriteByte('[')
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteString(p.ItemSep)
		}
		p.newline(b, level+1)
		p.write(b, get(i), level+1)
	}
	p.newline(b, level)
	b.WriteByte(']')
}

// writePyString writes s as json.dumps(ensure_ascii=True) does. Runs of
// printable ASCII other than " and \\ are copied as they are.
func writePyString(b *strings.Builder, s string) {
	b.WriteByte('"')
	for len(s) > 0 {
		n := 0
		for n < len(s) && s[n] >= 0x20 && s[n] < 0x80 && s[n] != '"' && s[n] != '\\' {
			n++
		}
		b.WriteString(s[:n])
		s = s[n:]
		if len(s) == 0 {
			break
		}
		r, size := utf8.DecodeRuneInString(s)
		s = s[size:]
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

// FloatRepr is Python's repr(float): the shortest round-tripping digits,
// scientific notation when the exponent is < -4 or >= 16, and ".0" on
// integral values.
func FloatRepr(f float64) string {
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

// Loads parses JSON like Python's json.loads: objects become *Dict and keep
// key order (a repeated key keeps its first position and its last value),
// arrays []any, integers int64 (BigInt beyond its range) and numbers with
// a fraction or exponent float64; NaN and Infinity are accepted. Errors
// read like Python's JSONDecodeError.
func Loads(s string) (any, error) {
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
	o := NewDict()
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
		o.Set(k.(string), v)
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
	return BigInt(lit), nil
}
