// Package pyexpr is a small Python/Jinja expression language: enough for
// webhook conditions (frappe.safe_eval over `doc`, docs/erpnext.md#conditions)
// and for the expressions of the Jinja templates of webhook bodies
// (docs/erpnext.md#the-request-body). Values are nil (None), bool, int64
// (int is read too), float64, string, pyjson.BigInt, []any (list),
// *pyjson.Dict (dict / frappe._dict), an Object (a live Document in
// conditions), bound dict methods and Undefined.
package pyexpr

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/erpnext-otp/otp/erp/sandbox/internal/pyjson"
)

// Undefined is Jinja's undefined value: what a missing name, attribute or
// item gives in a template. It renders as "", is false, and fails when an
// attribute is taken from it.
type Undefined struct{ hint string }

// Hint is what was missing: a name, an attribute, or a description.
func (u Undefined) Hint() string { return u.hint }

// Object is a value whose attributes the host resolves: a live Document,
// whose x.field and x["field"] are its fields.
type Object interface {
	// TypeName is the Python type name error messages use ("Document").
	TypeName() string
	// Attr returns the attribute, or an error (AttributeError: ...).
	Attr(name string) (any, error)
}

// pyMethod is a bound dict method such as doc.items (docs/erpnext.md#the-request-body gotcha).
type pyMethod struct {
	name string
	recv *pyjson.Dict
}

// dictMethods are the attributes of a frappe._dict that resolve to methods
// rather than keys.
var dictMethods = map[string]bool{"clear": true, "copy": true, "fromkeys": true, "get": true, "items": true,
	"keys": true, "pop": true, "popitem": true, "setdefault": true, "update": true, "values": true}

// ---- lexer ----

type tokKind int

const (
	tEOF tokKind = iota
	tName
	tNum
	tStr
	tOp
)

type token struct {
	kind tokKind
	s    string
	pos  int
}

func lex(src string) ([]token, error) {
	var out []token
	i := 0
	for i < len(src) {
		c := src[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
			j := i
			for j < len(src) && (src[j] == '_' || src[j] >= 'a' && src[j] <= 'z' || src[j] >= 'A' && src[j] <= 'Z' || src[j] >= '0' && src[j] <= '9') {
				j++
			}
			out = append(out, token{tName, src[i:j], i})
			i = j
		case c >= '0' && c <= '9' || c == '.' && i+1 < len(src) && src[i+1] >= '0' && src[i+1] <= '9':
			j := i
			for j < len(src) && (src[j] >= '0' && src[j] <= '9' || src[j] == '.' || src[j] == 'e' || src[j] == 'E' ||
				(src[j] == '+' || src[j] == '-') && (src[j-1] == 'e' || src[j-1] == 'E')) {
				j++
			}
			out = append(out, token{tNum, src[i:j], i})
			i = j
		case c == '"' || c == '\'':
			j := i + 1
			var b strings.Builder
			for ; j < len(src) && src[j] != c; j++ {
				if src[j] == '\\' && j+1 < len(src) {
					j++
					switch src[j] {
					case 'n':
						b.WriteByte('\n')
					case 't':
						b.WriteByte('\t')
					default:
						b.WriteByte(src[j])
					}
					continue
				}
				b.WriteByte(src[j])
			}
			if j >= len(src) {
				return nil, fmt.Errorf("SyntaxError: unterminated string literal at %d", i)
			}
			out = append(out, token{tStr, b.String(), i})
			i = j + 1
		default:
			two := ""
			if i+1 < len(src) {
				two = src[i : i+2]
			}
			switch two {
			case "==", "!=", "<=", ">=", "//", "**":
				out = append(out, token{tOp, two, i})
				i += 2
				continue
			}
			if strings.IndexByte("<>()[],.|:+-*/%~{}", c) >= 0 {
				out = append(out, token{tOp, string(c), i})
				i++
				continue
			}
			return nil, fmt.Errorf("SyntaxError: invalid character %q at %d", c, i)
		}
	}
	out = append(out, token{tEOF, "", len(src)})
	return out, nil
}

// ---- parser ----

type node interface{}

type (
	litNode  struct{ v any }
	nameNode struct{ name string }
	attrNode struct {
		x    node
		name string
	}
	indexNode struct{ x, key node }
	callNode  struct {
		fn   node
		args []node
	}
	notNode    struct{ x node }
	negNode    struct{ x node }
	boolOpNode struct {
		op   string // and, or
		l, r node
	}
	compareNode struct {
		first node
		ops   []string
		rest  []node
	}
	arithNode struct {
		op   string
		l, r node
	}
	condNode   struct{ then, cond, els node } // els nil: Jinja's undefined
	listNode   struct{ items []node }
	filterNode struct {
		x    node
		name string
		args []node
	}
	testNode struct {
		x      node
		negate bool
		test   string
	}
)

type parser struct {
	toks  []token
	i     int
	jinja bool
	src   string
}

// Expr is a parsed expression.
type Expr struct {
	root  node
	jinja bool
}

// Parse parses a Python expression as frappe.safe_eval takes it.
func Parse(src string) (*Expr, error) { return parse(src, false) }

// ParseJinja parses a Jinja expression: filters (x | f), tests (x is
// defined), ~, lower-case none/true/false and an if without else.
func ParseJinja(src string) (*Expr, error) { return parse(src, true) }

// Eval evaluates the expression with vars as its names. A Python
// expression fails on a missing name (NameError) or attribute; a Jinja one
// gives Undefined. Errors read like Python's ("TypeError: ...").
func (e *Expr) Eval(vars map[string]any) (any, error) {
	sc := &scope{vars: vars, jinja: e.jinja}
	return sc.eval(e.root)
}

// Name is the name the expression is, when it is a bare name.
func (e *Expr) Name() (string, bool) {
	n, ok := e.root.(*nameNode)
	if !ok {
		return "", false
	}
	return n.name, true
}

func parse(src string, jinja bool) (*Expr, error) {
	n, err := parseExpr(src, jinja)
	if err != nil {
		return nil, err
	}
	return &Expr{root: n, jinja: jinja}, nil
}

func parseExpr(src string, jinja bool) (node, error) {
	toks, err := lex(src)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks, jinja: jinja, src: src}
	n, err := p.conditional()
	if err != nil {
		return nil, err
	}
	if p.peek().kind != tEOF {
		return nil, fmt.Errorf("SyntaxError: invalid syntax at %q", p.peek().s)
	}
	return n, nil
}

func (p *parser) peek() token { return p.toks[p.i] }
func (p *parser) next() token { t := p.toks[p.i]; p.i++; return t }
func (p *parser) isOp(s string) bool {
	t := p.peek()
	return t.kind == tOp && t.s == s
}
func (p *parser) isName(s string) bool {
	t := p.peek()
	return t.kind == tName && t.s == s
}
func (p *parser) expectOp(s string) error {
	if !p.isOp(s) {
		return fmt.Errorf("SyntaxError: expected %q, got %q", s, p.peek().s)
	}
	p.i++
	return nil
}

func (p *parser) conditional() (node, error) {
	x, err := p.or()
	if err != nil {
		return nil, err
	}
	if p.isName("if") {
		p.i++
		c, err := p.or()
		if err != nil {
			return nil, err
		}
		var els node
		if p.isName("else") {
			p.i++
			if els, err = p.conditional(); err != nil {
				return nil, err
			}
		} else if !p.jinja {
			return nil, fmt.Errorf("SyntaxError: expected 'else' after 'if' expression")
		}
		return &condNode{then: x, cond: c, els: els}, nil
	}
	return x, nil
}

func (p *parser) or() (node, error) {
	return p.leftAssoc(p.and, p.keyword("or"), newBoolOp)
}

func (p *parser) and() (node, error) {
	return p.leftAssoc(p.not, p.keyword("and"), newBoolOp)
}

func (p *parser) not() (node, error) {
	if p.isName("not") {
		p.i++
		x, err := p.not()
		if err != nil {
			return nil, err
		}
		return &notNode{x}, nil
	}
	return p.comparison()
}

func (p *parser) comparison() (node, error) {
	first, err := p.arith()
	if err != nil {
		return nil, err
	}
	cmp := &compareNode{first: first}
	for {
		t := p.peek()
		op := ""
		switch {
		case t.kind == tOp && (t.s == "==" || t.s == "!=" || t.s == "<" || t.s == ">" || t.s == "<=" || t.s == ">="):
			op = t.s
			p.i++
		case t.kind == tName && t.s == "in":
			op = "in"
			p.i++
		case t.kind == tName && t.s == "not" && p.toks[p.i+1].kind == tName && p.toks[p.i+1].s == "in":
			op = "not in"
			p.i += 2
		case t.kind == tName && t.s == "is":
			p.i++
			neg := false
			if p.isName("not") {
				p.i++
				neg = true
			}
			tt := p.next()
			if tt.kind != tName {
				return nil, fmt.Errorf("SyntaxError: invalid syntax after 'is'")
			}
			if len(cmp.ops) > 0 {
				return nil, fmt.Errorf("SyntaxError: chained 'is' not supported")
			}
			return &testNode{x: first, negate: neg, test: tt.s}, nil
		}
		if op == "" {
			break
		}
		r, err := p.arith()
		if err != nil {
			return nil, err
		}
		cmp.ops = append(cmp.ops, op)
		cmp.rest = append(cmp.rest, r)
	}
	if len(cmp.ops) == 0 {
		return first, nil
	}
	return cmp, nil
}

func (p *parser) arith() (node, error) {
	ops := []string{"+", "-"}
	if p.jinja {
		ops = append(ops, "~") // Jinja's string concatenation
	}
	return p.leftAssoc(p.term, p.operator(ops...), newArith)
}

func (p *parser) term() (node, error) {
	return p.leftAssoc(p.unary, p.operator("*", "/", "%", "//"), newArith)
}

// leftAssoc parses one binary precedence level, operand (op operand)*,
// into left-leaning nodes: a - b - c is (a - b) - c, as in Python. match
// consumes and returns the level's operator, or returns "" at its end.
func (p *parser) leftAssoc(operand func() (node, error), match func() string, build func(op string, l, r node) node) (node, error) {
	l, err := operand()
	if err != nil {
		return nil, err
	}
	for op := match(); op != ""; op = match() {
		r, err := operand()
		if err != nil {
			return nil, err
		}
		l = build(op, l, r)
	}
	return l, nil
}

// keyword matches a keyword operator ("and", "or") for leftAssoc.
func (p *parser) keyword(name string) func() string {
	return func() string {
		if !p.isName(name) {
			return ""
		}
		p.i++
		return name
	}
}

// operator matches one of the symbol operators ops for leftAssoc.
func (p *parser) operator(ops ...string) func() string {
	return func() string {
		for _, o := range ops {
			if p.isOp(o) {
				return p.next().s
			}
		}
		return ""
	}
}

func newBoolOp(op string, l, r node) node { return &boolOpNode{op: op, l: l, r: r} }
func newArith(op string, l, r node) node  { return &arithNode{op: op, l: l, r: r} }

func (p *parser) unary() (node, error) {
	if p.isOp("-") {
		p.i++
		x, err := p.unary()
		if err != nil {
			return nil, err
		}
		return &negNode{x}, nil
	}
	if p.isOp("+") {
		p.i++
		return p.unary()
	}
	return p.postfix()
}

func (p *parser) postfix() (node, error) {
	x, err := p.primary()
	if err != nil {
		return nil, err
	}
	for {
		switch {
		case p.isOp("."):
			p.i++
			t := p.next()
			if t.kind != tName {
				return nil, fmt.Errorf("SyntaxError: invalid syntax after '.'")
			}
			if strings.HasPrefix(t.s, "_") {
				return nil, fmt.Errorf("SecurityError: access to attribute %q is not allowed", t.s)
			}
			x = &attrNode{x: x, name: t.s}
		case p.isOp("["):
			p.i++
			k, err := p.conditional()
			if err != nil {
				return nil, err
			}
			if err := p.expectOp("]"); err != nil {
				return nil, err
			}
			x = &indexNode{x: x, key: k}
		case p.isOp("("):
			p.i++
			args, err := p.args(")")
			if err != nil {
				return nil, err
			}
			x = &callNode{fn: x, args: args}
		case p.jinja && p.isOp("|"):
			p.i++
			t := p.next()
			if t.kind != tName {
				return nil, fmt.Errorf("TemplateSyntaxError: expected filter name")
			}
			f := &filterNode{x: x, name: t.s}
			if p.isOp("(") {
				p.i++
				if f.args, err = p.args(")"); err != nil {
					return nil, err
				}
			}
			x = f
		default:
			return x, nil
		}
	}
}

func (p *parser) args(closer string) ([]node, error) {
	var out []node
	for !p.isOp(closer) {
		a, err := p.conditional()
		if err != nil {
			return nil, err
		}
		out = append(out, a)
		if p.isOp(",") {
			p.i++
			continue
		}
		if !p.isOp(closer) {
			return nil, fmt.Errorf("SyntaxError: expected %q", closer)
		}
	}
	p.i++
	return out, nil
}

func (p *parser) primary() (node, error) {
	t := p.next()
	switch t.kind {
	case tNum:
		if strings.ContainsAny(t.s, ".eE") {
			f, err := strconv.ParseFloat(t.s, 64)
			if err != nil {
				return nil, fmt.Errorf("SyntaxError: invalid number %q", t.s)
			}
			return &litNode{f}, nil
		}
		n, err := strconv.ParseInt(t.s, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("SyntaxError: invalid number %q", t.s)
		}
		return &litNode{n}, nil
	case tStr:
		s := t.s
		for p.peek().kind == tStr { // implicit concatenation
			s += p.next().s
		}
		return &litNode{s}, nil
	case tName:
		switch t.s {
		case "None":
			return &litNode{nil}, nil
		case "True":
			return &litNode{true}, nil
		case "False":
			return &litNode{false}, nil
		}
		if p.jinja {
			switch t.s {
			case "none":
				return &litNode{nil}, nil
			case "true":
				return &litNode{true}, nil
			case "false":
				return &litNode{false}, nil
			}
		}
		if strings.HasPrefix(t.s, "_") {
			return nil, fmt.Errorf("SecurityError: name %q is not allowed", t.s)
		}
		return &nameNode{t.s}, nil
	case tOp:
		switch t.s {
		case "(":
			if p.isOp(")") {
				p.i++
				return &listNode{}, nil
			}
			x, err := p.conditional()
			if err != nil {
				return nil, err
			}
			if p.isOp(",") { // a tuple
				items := []node{x}
				for p.isOp(",") {
					p.i++
					if p.isOp(")") {
						break
					}
					y, err := p.conditional()
					if err != nil {
						return nil, err
					}
					items = append(items, y)
				}
				if err := p.expectOp(")"); err != nil {
					return nil, err
				}
				return &listNode{items}, nil
			}
			if err := p.expectOp(")"); err != nil {
				return nil, err
			}
			return x, nil
		case "[":
			items, err := p.args("]")
			if err != nil {
				return nil, err
			}
			return &listNode{items}, nil
		}
	}
	return nil, fmt.Errorf("SyntaxError: invalid syntax at %q", t.s)
}

// ---- evaluation ----

// scope resolves names and attributes for one evaluation mode.
type scope struct {
	vars  map[string]any
	jinja bool
}

func (sc *scope) eval(n node) (any, error) {
	switch n := n.(type) {
	case *litNode:
		return n.v, nil
	case *nameNode:
		if v, ok := sc.vars[n.name]; ok {
			return v, nil
		}
		if sc.jinja {
			return Undefined{hint: n.name}, nil
		}
		switch n.name {
		case "int", "float", "round", "len", "str":
			return builtinFn(n.name), nil
		}
		return nil, fmt.Errorf("NameError: name '%s' is not defined", n.name)
	case *attrNode:
		x, err := sc.eval(n.x)
		if err != nil {
			return nil, err
		}
		return sc.getattr(x, n.name)
	case *indexNode:
		x, err := sc.eval(n.x)
		if err != nil {
			return nil, err
		}
		k, err := sc.eval(n.key)
		if err != nil {
			return nil, err
		}
		return sc.getitem(x, k)
	case *callNode:
		fn, err := sc.eval(n.fn)
		if err != nil {
			return nil, err
		}
		args, err := sc.evalAll(n.args)
		if err != nil {
			return nil, err
		}
		return sc.call(fn, args)
	case *notNode:
		x, err := sc.eval(n.x)
		if err != nil {
			return nil, err
		}
		return !Truthy(x), nil
	case *negNode:
		x, err := sc.eval(n.x)
		if err != nil {
			return nil, err
		}
		switch v := x.(type) {
		case int64:
			return -v, nil
		case float64:
			return -v, nil
		case bool:
			if v {
				return int64(-1), nil
			}
			return int64(0), nil
		}
		return nil, fmt.Errorf("TypeError: bad operand type for unary -: '%s'", pyTypeName(x))
	case *boolOpNode:
		l, err := sc.eval(n.l)
		if err != nil {
			return nil, err
		}
		if n.op == "and" && !Truthy(l) || n.op == "or" && Truthy(l) {
			return l, nil
		}
		return sc.eval(n.r)
	case *compareNode:
		l, err := sc.eval(n.first)
		if err != nil {
			return nil, err
		}
		for i, op := range n.ops {
			r, err := sc.eval(n.rest[i])
			if err != nil {
				return nil, err
			}
			ok, err := pyCompare(op, l, r)
			if err != nil {
				return nil, err
			}
			if !ok {
				return false, nil
			}
			l = r
		}
		return true, nil
	case *arithNode:
		l, err := sc.eval(n.l)
		if err != nil {
			return nil, err
		}
		r, err := sc.eval(n.r)
		if err != nil {
			return nil, err
		}
		return pyArith(n.op, l, r)
	case *condNode:
		c, err := sc.eval(n.cond)
		if err != nil {
			return nil, err
		}
		if Truthy(c) {
			return sc.eval(n.then)
		}
		if n.els == nil {
			return Undefined{}, nil
		}
		return sc.eval(n.els)
	case *listNode:
		out, err := sc.evalAll(n.items)
		if err != nil {
			return nil, err // a nil any, not a nil []any
		}
		return out, nil
	case *testNode:
		x, err := sc.eval(n.x)
		if err != nil {
			return nil, err
		}
		var res bool
		switch n.test {
		case "None", "none":
			res = x == nil
		case "True", "true":
			res = x == true
		case "False", "false":
			res = x == false
		case "defined":
			_, u := x.(Undefined)
			res = !u
		case "undefined":
			_, res = x.(Undefined)
		default:
			return nil, fmt.Errorf("TemplateRuntimeError: no test named '%s'", n.test)
		}
		if n.negate {
			res = !res
		}
		return res, nil
	case *filterNode:
		x, err := sc.eval(n.x)
		if err != nil {
			return nil, err
		}
		args, err := sc.evalAll(n.args)
		if err != nil {
			return nil, err
		}
		return applyFilter(n.name, x, args)
	}
	return nil, fmt.Errorf("unsupported expression")
}

// evalAll evaluates call arguments and list items in order, stopping at
// the first error; an empty list is a non-nil empty slice.
func (sc *scope) evalAll(nodes []node) ([]any, error) {
	out := make([]any, len(nodes))
	for i, n := range nodes {
		v, err := sc.eval(n)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

type builtinFn string

func (sc *scope) getattr(x any, name string) (any, error) {
	switch v := x.(type) {
	case *pyjson.Dict:
		if dictMethods[name] {
			return pyMethod{name: name, recv: v}, nil
		}
		val, ok := v.Get(name)
		if !ok {
			return nil, nil // frappe._dict: __getattr__ = dict.get
		}
		return val, nil
	case Object:
		return v.Attr(name)
	case Undefined:
		if sc.jinja {
			return nil, fmt.Errorf("jinja2.exceptions.UndefinedError: '%s' is undefined", v.hint)
		}
	case nil:
		if sc.jinja {
			return Undefined{hint: "None has no attribute " + name}, nil
		}
	}
	if sc.jinja {
		return Undefined{hint: name}, nil
	}
	return nil, fmt.Errorf("AttributeError: '%s' object has no attribute '%s'", pyTypeName(x), name)
}

func (sc *scope) getitem(x, k any) (any, error) {
	switch v := x.(type) {
	case *pyjson.Dict:
		ks, ok := k.(string)
		if ok {
			if val, found := v.Get(ks); found {
				return val, nil
			}
		}
		if sc.jinja {
			return Undefined{hint: fmt.Sprintf("no such element: dict object[%s]", pyRepr(k))}, nil
		}
		return nil, fmt.Errorf("KeyError: %s", pyRepr(k))
	case []any:
		i, ok := k.(int64)
		if ok {
			if i < 0 {
				i += int64(len(v))
			}
			if i >= 0 && i < int64(len(v)) {
				return v[i], nil
			}
		}
		if sc.jinja {
			return Undefined{hint: "index out of range"}, nil
		}
		return nil, fmt.Errorf("IndexError: list index out of range")
	case Object:
		if ks, ok := k.(string); ok {
			return v.Attr(ks)
		}
	}
	if sc.jinja {
		return Undefined{hint: "no such element"}, nil
	}
	return nil, fmt.Errorf("TypeError: '%s' object is not subscriptable", pyTypeName(x))
}

func (sc *scope) call(fn any, args []any) (any, error) {
	switch f := fn.(type) {
	case pyMethod:
		switch f.name {
		case "get":
			if len(args) == 0 {
				return nil, fmt.Errorf("TypeError: get expected at least 1 argument, got 0")
			}
			k, _ := args[0].(string)
			if v, ok := f.recv.Get(k); ok {
				return v, nil
			}
			if len(args) > 1 {
				return args[1], nil
			}
			return nil, nil
		case "keys":
			out := make([]any, f.recv.Len())
			for i, k := range f.recv.Keys() {
				out[i] = k
			}
			return out, nil
		case "values":
			out := make([]any, f.recv.Len())
			for i, k := range f.recv.Keys() {
				out[i] = item(f.recv, k)
			}
			return out, nil
		case "items":
			out := make([]any, f.recv.Len())
			for i, k := range f.recv.Keys() {
				out[i] = []any{k, item(f.recv, k)}
			}
			return out, nil
		}
		return nil, fmt.Errorf("SecurityError: calling %s is not allowed", f.name)
	case builtinFn:
		if len(args) != 1 && f != "round" {
			return nil, fmt.Errorf("TypeError: %s() takes exactly one argument", string(f))
		}
		switch f {
		case "int":
			return applyFilter("int", args[0], nil)
		case "float":
			return applyFilter("float", args[0], nil)
		case "round":
			if len(args) == 0 {
				return nil, fmt.Errorf("TypeError: round() missing required argument")
			}
			n := 0
			if len(args) > 1 {
				n = Cint(args[1])
			}
			p := math.Pow(10, float64(n))
			r := math.RoundToEven(Flt(args[0])*p) / p
			if len(args) == 1 {
				return int64(r), nil
			}
			return r, nil
		}
		return nil, fmt.Errorf("NameError: name '%s' is not defined", string(f))
	}
	return nil, fmt.Errorf("TypeError: '%s' object is not callable", pyTypeName(fn))
}

// Truthy is Python's bool(v); Undefined is false.
func Truthy(v any) bool {
	switch x := v.(type) {
	case nil, Undefined:
		return false
	case bool:
		return x
	case int64:
		return x != 0
	case int:
		return x != 0
	case float64:
		return x != 0
	case string:
		return x != ""
	case []any:
		return len(x) > 0
	case *pyjson.Dict:
		return x.Len() > 0
	}
	return true
}

func pyTypeName(v any) string {
	switch x := v.(type) {
	case nil:
		return "NoneType"
	case bool:
		return "bool"
	case int64, int:
		return "int"
	case float64:
		return "float"
	case string:
		return "str"
	case []any:
		return "list"
	case *pyjson.Dict:
		return "_dict"
	case Object:
		return x.TypeName()
	case pyMethod, builtinFn:
		return "builtin_function_or_method"
	case Undefined:
		return "Undefined"
	}
	return fmt.Sprintf("%T", v)
}

func asNumber(v any) (float64, bool, bool) { // value, isNumber, isInt
	switch x := v.(type) {
	case bool:
		if x {
			return 1, true, true
		}
		return 0, true, true
	case int64:
		return float64(x), true, true
	case int:
		return float64(x), true, true
	case float64:
		return x, true, false
	}
	return 0, false, false
}

func pyEqual(a, b any) bool {
	if an, ok, _ := asNumber(a); ok {
		if bn, ok2, _ := asNumber(b); ok2 {
			return an == bn
		}
		return false
	}
	switch x := a.(type) {
	case nil:
		return b == nil
	case string:
		y, ok := b.(string)
		return ok && x == y
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !pyEqual(x[i], y[i]) {
				return false
			}
		}
		return true
	case Undefined:
		_, ok := b.(Undefined)
		return ok
	}
	return a == b
}

func pyCompare(op string, a, b any) (bool, error) {
	switch op {
	case "==":
		return pyEqual(a, b), nil
	case "!=":
		return !pyEqual(a, b), nil
	case "in", "not in":
		var found bool
		switch c := b.(type) {
		case []any:
			for _, e := range c {
				if pyEqual(a, e) {
					found = true
					break
				}
			}
		case string:
			s, ok := a.(string)
			if !ok {
				return false, fmt.Errorf("TypeError: 'in <string>' requires string as left operand, not %s", pyTypeName(a))
			}
			found = strings.Contains(c, s)
		case *pyjson.Dict:
			s, _ := a.(string)
			_, found = c.Get(s)
		default:
			return false, fmt.Errorf("TypeError: argument of type '%s' is not iterable", pyTypeName(b))
		}
		if op == "not in" {
			return !found, nil
		}
		return found, nil
	}
	var c int
	if an, ok, _ := asNumber(a); ok {
		bn, ok2, _ := asNumber(b)
		if !ok2 {
			return false, fmt.Errorf("TypeError: '%s' not supported between instances of '%s' and '%s'", op, pyTypeName(a), pyTypeName(b))
		}
		switch {
		case an < bn:
			c = -1
		case an > bn:
			c = 1
		}
	} else if as, ok := a.(string); ok {
		bs, ok2 := b.(string)
		if !ok2 {
			return false, fmt.Errorf("TypeError: '%s' not supported between instances of '%s' and '%s'", op, pyTypeName(a), pyTypeName(b))
		}
		c = strings.Compare(as, bs)
	} else {
		return false, fmt.Errorf("TypeError: '%s' not supported between instances of '%s' and '%s'", op, pyTypeName(a), pyTypeName(b))
	}
	switch op {
	case "<":
		return c < 0, nil
	case ">":
		return c > 0, nil
	case "<=":
		return c <= 0, nil
	case ">=":
		return c >= 0, nil
	}
	return false, fmt.Errorf("SyntaxError: unknown operator %s", op)
}

func pyArith(op string, a, b any) (any, error) {
	if op == "~" {
		return Str(a) + Str(b), nil
	}
	if as, ok := a.(string); ok && op == "+" {
		if bs, ok := b.(string); ok {
			return as + bs, nil
		}
	}
	an, ok1, ai := asNumber(a)
	bn, ok2, bi := asNumber(b)
	if !ok1 || !ok2 {
		return nil, fmt.Errorf("TypeError: unsupported operand type(s) for %s: '%s' and '%s'", op, pyTypeName(a), pyTypeName(b))
	}
	ints := ai && bi
	var r float64
	switch op {
	case "+":
		r = an + bn
	case "-":
		r = an - bn
	case "*":
		r = an * bn
	case "/":
		if bn == 0 {
			return nil, fmt.Errorf("ZeroDivisionError: division by zero")
		}
		return an / bn, nil
	case "//":
		if bn == 0 {
			return nil, fmt.Errorf("ZeroDivisionError: integer division or modulo by zero")
		}
		r = math.Floor(an / bn)
	case "%":
		if bn == 0 {
			return nil, fmt.Errorf("ZeroDivisionError: integer division or modulo by zero")
		}
		r = an - bn*math.Floor(an/bn)
	}
	if ints {
		return int64(r), nil
	}
	return r, nil
}

// Str is Python's str(): what {{ x }} renders (Undefined renders "").
func Str(v any) string {
	switch x := v.(type) {
	case nil:
		return "None"
	case bool:
		if x {
			return "True"
		}
		return "False"
	case string:
		return x
	case int64:
		return strconv.FormatInt(x, 10)
	case int:
		return strconv.Itoa(x)
	case float64:
		return pyjson.FloatRepr(x)
	case pyjson.BigInt:
		return string(x)
	case pyMethod:
		return fmt.Sprintf("<built-in method %s of _dict object at 0x7f3a2c1e8b80>", x.name)
	case Undefined:
		return ""
	}
	return pyRepr(v)
}

// pyRepr is Python's repr() for the value kinds we have.
func pyRepr(v any) string {
	switch x := v.(type) {
	case string:
		if strings.Contains(x, "'") && !strings.Contains(x, "\"") {
			return "\"" + x + "\""
		}
		return "'" + strings.ReplaceAll(strings.ReplaceAll(x, "\\", "\\\\"), "'", "\\'") + "'"
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = pyRepr(e)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case *pyjson.Dict:
		parts := make([]string, x.Len())
		for i, k := range x.Keys() {
			parts[i] = pyRepr(k) + ": " + pyRepr(item(x, k))
		}
		return "{" + strings.Join(parts, ", ") + "}"
	}
	return Str(v)
}

// applyFilter runs a Jinja filter (Frappe's environment, docs/erpnext.md#the-request-body).
func applyFilter(name string, x any, args []any) (any, error) {
	switch name {
	case "tojson":
		if err := jsonable(x); err != nil {
			return nil, err
		}
		s := pyjson.Encoder{ItemSep: ", ", KeySep: ": ", SortKeys: true}.Encode(undefToNil(x))
		return htmlSafe.Replace(s), nil
	case "json":
		if err := jsonable(x); err != nil {
			return nil, err
		}
		return asJSON.Encode(undefToNil(x)), nil
	case "int":
		switch v := x.(type) {
		case int64:
			return v, nil
		case float64:
			return int64(v), nil
		case bool:
			if v {
				return int64(1), nil
			}
			return int64(0), nil
		case string:
			if n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64); err == nil {
				return n, nil
			}
			if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil {
				return int64(f), nil
			}
		}
		if len(args) > 0 {
			return args[0], nil
		}
		return int64(0), nil
	case "float", "flt":
		switch v := x.(type) {
		case int64:
			return float64(v), nil
		case float64:
			return v, nil
		case string:
			if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil {
				return f, nil
			}
		}
		return 0.0, nil
	case "str", "string":
		return Str(x), nil
	case "len", "length", "count":
		switch v := x.(type) {
		case string:
			return int64(len([]rune(v))), nil
		case []any:
			return int64(len(v)), nil
		case *pyjson.Dict:
			return int64(v.Len()), nil
		case Undefined:
			return int64(0), nil
		}
		return nil, fmt.Errorf("TypeError: object of type '%s' has no len()", pyTypeName(x))
	case "default", "d":
		if _, ok := x.(Undefined); ok {
			if len(args) > 0 {
				return args[0], nil
			}
			return "", nil
		}
		if len(args) > 1 && Truthy(args[1]) && !Truthy(x) {
			return args[0], nil
		}
		return x, nil
	case "lower":
		return strings.ToLower(Str(x)), nil
	case "upper":
		return strings.ToUpper(Str(x)), nil
	case "trim":
		return strings.TrimSpace(Str(x)), nil
	case "round":
		return math.Round(Flt(x)), nil
	}
	//lint:ignore ST1005 the text is Frappe's/Jinja's own message, reproduced verbatim
	return nil, fmt.Errorf("jinja2.exceptions.TemplateAssertionError: No filter named '%s'.", name)
}

func undefToNil(v any) any {
	if _, ok := v.(Undefined); ok {
		return nil
	}
	return v
}

func jsonable(v any) error {
	switch x := v.(type) {
	case pyMethod, builtinFn, Object:
		return fmt.Errorf("TypeError: Object of type %s is not JSON serializable", pyTypeName(v))
	case []any:
		for _, e := range x {
			if err := jsonable(e); err != nil {
				return err
			}
		}
	case *pyjson.Dict:
		for _, k := range x.Keys() {
			if err := jsonable(item(x, k)); err != nil {
				return err
			}
		}
	}
	return nil
}

// Iterate returns what `for x in v` walks over: a list's items, a dict's
// keys, a string's characters; nothing for Undefined.
func Iterate(v any) ([]any, error) {
	switch x := v.(type) {
	case []any:
		return x, nil
	case *pyjson.Dict:
		out := make([]any, x.Len())
		for i, k := range x.Keys() {
			out[i] = k
		}
		return out, nil
	case string:
		out := []any{}
		for _, r := range x {
			out = append(out, string(r))
		}
		return out, nil
	case Undefined:
		return nil, nil
	}
	return nil, fmt.Errorf("TypeError: '%s' object is not iterable", pyTypeName(v))
}

// htmlSafe escapes what Jinja's tojson escapes, for HTML. It is built once:
// a Replacer is safe for concurrent use and costly to build.
var htmlSafe = strings.NewReplacer("<", `\u003c`, ">", `\u003e`, "&", `\u0026`, "'", `\u0027`)

// asJSON is frappe.as_json, the template filter json's encoding: indent=1,
// sorted keys, separators (",", ": ").
var asJSON = pyjson.Encoder{ItemSep: ",", KeySep: ": ", Indent: 1, SortKeys: true}

// item is a Dict's value at k (nil when unset).
func item(d *pyjson.Dict, k string) any {
	v, _ := d.Get(k)
	return v
}

// Flt is frappe.utils.flt: numbers as they are, bools as 0 and 1, text
// parsed (thousands commas dropped); anything else, NaN and infinities
// are 0. round() and the round filter take their numbers through it.
func Flt(v any) float64 {
	switch x := v.(type) {
	case float64:
		return x
	case int:
		return float64(x)
	case int64:
		return float64(x)
	case bool:
		if x {
			return 1
		}
		return 0
	case json.Number:
		f, _ := x.Float64()
		return f
	case string:
		f, err := strconv.ParseFloat(strings.ReplaceAll(strings.TrimSpace(x), ",", ""), 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return 0
		}
		return f
	}
	return 0
}

// Cint is frappe.utils.cint: numbers truncated, bools as 0 and 1, text
// parsed as an integer or else a float; anything else is 0. round() takes
// its digits through it.
func Cint(v any) int {
	switch x := v.(type) {
	case int:
		return x
	case int64:
		return int(x)
	case float64:
		return int(x)
	case bool:
		if x {
			return 1
		}
		return 0
	case json.Number:
		f, _ := x.Float64()
		return int(f)
	case string:
		s := strings.TrimSpace(x)
		if i, err := strconv.Atoi(s); err == nil {
			return i
		}
		if f, err := strconv.ParseFloat(s, 64); err == nil {
			return int(f)
		}
		return 0
	}
	return 0
}
