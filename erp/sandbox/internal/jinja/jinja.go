// Package jinja renders the subset of Jinja that webhook templates use
// (docs/erpnext.md#the-request-body): output tags with filters, for (with
// loop.*), if/elif/else, comments and the "-" whitespace control. Frappe
// renders with a SandboxedEnvironment, DebugUndefined and no autoescape; an
// undefined top-level name renders as its own tag text. Expressions are
// pyexpr's.
package jinja

import (
	"fmt"
	"strings"

	"github.com/erpnext-otp/otp/erp/sandbox/internal/pyexpr"
	"github.com/erpnext-otp/otp/erp/sandbox/internal/pyjson"
)

type tmplNode interface{}

type (
	textNode   struct{ s string }
	outputNode struct {
		expr *pyexpr.Expr
		src  string
	}
	forNode struct {
		vars      []string
		iter      *pyexpr.Expr
		body, els []tmplNode
	}
	ifNode struct {
		conds  []*pyexpr.Expr
		bodies [][]tmplNode // len(bodies) == len(conds) or +1 for else
	}
)

type rawTok struct {
	kind         string // text, output, stmt
	s            string
	trimL, trimR bool
}

func tokenizeTemplate(src string) ([]rawTok, error) {
	var out []rawTok
	i := 0
	for i < len(src) {
		j := strings.IndexAny(src[i:], "{")
		if j < 0 {
			out = append(out, rawTok{kind: "text", s: src[i:]})
			break
		}
		j += i
		if j+1 >= len(src) || (src[j+1] != '{' && src[j+1] != '%' && src[j+1] != '#') {
			out = append(out, rawTok{kind: "text", s: src[i : j+1]})
			i = j + 1
			continue
		}
		if j > i {
			out = append(out, rawTok{kind: "text", s: src[i:j]})
		}
		open := src[j+1]
		closer := map[byte]string{'{': "}}", '%': "%}", '#': "#}"}[open]
		k := strings.Index(src[j+2:], closer)
		if k < 0 {
			return nil, fmt.Errorf("jinja2.exceptions.TemplateSyntaxError: unexpected end of template, expected '%s'", closer)
		}
		inner := src[j+2 : j+2+k]
		t := rawTok{}
		if strings.HasPrefix(inner, "-") {
			t.trimL = true
			inner = inner[1:]
		}
		if strings.HasSuffix(inner, "-") {
			t.trimR = true
			inner = inner[:len(inner)-1]
		}
		switch open {
		case '{':
			t.kind = "output"
		case '%':
			t.kind = "stmt"
		case '#':
			t.kind = "comment"
		}
		t.s = strings.TrimSpace(inner)
		out = append(out, t)
		i = j + 2 + k + 2
	}
	// Whitespace control: "-" strips whitespace on that side of the tag.
	for n := range out {
		if out[n].kind == "text" {
			continue
		}
		if out[n].trimL && n > 0 && out[n-1].kind == "text" {
			out[n-1].s = strings.TrimRight(out[n-1].s, " \t\r\n")
		}
		if out[n].trimR && n+1 < len(out) && out[n+1].kind == "text" {
			out[n+1].s = strings.TrimLeft(out[n+1].s, " \t\r\n")
		}
	}
	return out, nil
}

type tmplParser struct {
	toks []rawTok
	i    int
}

// parseTemplate compiles a template. Like Jinja's default
// keep_trailing_newline=False, one trailing newline is dropped.
func parseTemplate(src string) ([]tmplNode, error) {
	if strings.Contains(src, ".__") {
		//lint:ignore ST1005 the text is Frappe's/Jinja's own message, reproduced verbatim
		return nil, fmt.Errorf("Illegal template")
	}
	src = strings.TrimSuffix(src, "\n")
	toks, err := tokenizeTemplate(src)
	if err != nil {
		return nil, err
	}
	p := &tmplParser{toks: toks}
	nodes, end, err := p.block()
	if err != nil {
		return nil, err
	}
	if end != "" {
		//lint:ignore ST1005 the text is Frappe's/Jinja's own message, reproduced verbatim
		return nil, fmt.Errorf("jinja2.exceptions.TemplateSyntaxError: Encountered unknown tag '%s'.", end)
	}
	return nodes, nil
}

// block parses until an end/else/elif tag, which it returns.
func (p *tmplParser) block() ([]tmplNode, string, error) {
	var nodes []tmplNode
	for p.i < len(p.toks) {
		t := p.toks[p.i]
		p.i++
		switch t.kind {
		case "text":
			if t.s != "" {
				nodes = append(nodes, &textNode{t.s})
			}
		case "comment":
		case "output":
			e, err := pyexpr.ParseJinja(t.s)
			if err != nil {
				return nil, "", fmt.Errorf("jinja2.exceptions.TemplateSyntaxError: %v", err)
			}
			nodes = append(nodes, &outputNode{expr: e, src: t.s})
		case "stmt":
			word, rest, _ := strings.Cut(t.s, " ")
			rest = strings.TrimSpace(rest)
			switch word {
			case "for":
				n, err := p.parseFor(rest)
				if err != nil {
					return nil, "", err
				}
				nodes = append(nodes, n)
			case "if":
				n, err := p.parseIf(rest)
				if err != nil {
					return nil, "", err
				}
				nodes = append(nodes, n)
			case "endfor", "endif", "else":
				return nodes, word, nil
			case "elif":
				p.i-- // let parseIf see it
				return nodes, "elif", nil
			default:
				//lint:ignore ST1005 the text is Frappe's/Jinja's own message, reproduced verbatim
				return nil, "", fmt.Errorf("jinja2.exceptions.TemplateSyntaxError: Encountered unknown tag '%s'.", word)
			}
		}
	}
	return nodes, "", nil
}

func (p *tmplParser) parseFor(rest string) (tmplNode, error) {
	target, iter, ok := strings.Cut(rest, " in ")
	if !ok {
		return nil, fmt.Errorf("jinja2.exceptions.TemplateSyntaxError: expected 'in'")
	}
	n := &forNode{}
	for _, v := range strings.Split(target, ",") {
		n.vars = append(n.vars, strings.TrimSpace(v))
	}
	e, err := pyexpr.ParseJinja(iter)
	if err != nil {
		return nil, fmt.Errorf("jinja2.exceptions.TemplateSyntaxError: %v", err)
	}
	n.iter = e
	body, end, err := p.block()
	if err != nil {
		return nil, err
	}
	n.body = body
	if end == "else" {
		if n.els, end, err = p.block(); err != nil {
			return nil, err
		}
	}
	if end != "endfor" {
		return nil, fmt.Errorf("jinja2.exceptions.TemplateSyntaxError: Unexpected end of template. Jinja was looking for 'endfor'")
	}
	return n, nil
}

func (p *tmplParser) parseIf(cond string) (tmplNode, error) {
	n := &ifNode{}
	for {
		e, err := pyexpr.ParseJinja(cond)
		if err != nil {
			return nil, fmt.Errorf("jinja2.exceptions.TemplateSyntaxError: %v", err)
		}
		n.conds = append(n.conds, e)
		body, end, err := p.block()
		if err != nil {
			return nil, err
		}
		n.bodies = append(n.bodies, body)
		switch end {
		case "endif":
			return n, nil
		case "else":
			els, end2, err := p.block()
			if err != nil {
				return nil, err
			}
			if end2 != "endif" {
				return nil, fmt.Errorf("jinja2.exceptions.TemplateSyntaxError: Jinja was looking for 'endif'")
			}
			n.bodies = append(n.bodies, els)
			return n, nil
		case "elif":
			t := p.toks[p.i]
			p.i++
			_, cond, _ = strings.Cut(t.s, " ")
		default:
			return nil, fmt.Errorf("jinja2.exceptions.TemplateSyntaxError: Unexpected end of template. Jinja was looking for 'endif'")
		}
	}
}

// Render renders src with vars as its top-level names. Errors read like
// Jinja's ("jinja2.exceptions.TemplateSyntaxError: ...") or Python's.
func Render(src string, vars map[string]any) (string, error) {
	nodes, err := parseTemplate(src)
	if err != nil {
		return "", err
	}
	// Loops bind their names in a copy: the caller's map stays as it was.
	scope := make(map[string]any, len(vars)+2)
	for k, v := range vars {
		scope[k] = v
	}
	var b strings.Builder
	if err := renderNodes(&b, nodes, scope); err != nil {
		return "", err
	}
	return b.String(), nil
}

func renderNodes(b *strings.Builder, nodes []tmplNode, vars map[string]any) error {
	for _, n := range nodes {
		switch n := n.(type) {
		case *textNode:
			b.WriteString(n.s)
		case *outputNode:
			v, err := n.expr.Eval(vars)
			if err != nil {
				return err
			}
			if u, ok := v.(pyexpr.Undefined); ok {
				if name, isName := n.expr.Name(); isName && u.Hint() == name {
					b.WriteString("{{ " + name + " }}") // DebugUndefined
				}
				continue
			}
			b.WriteString(pyexpr.Str(v))
		case *forNode:
			it, err := n.iter.Eval(vars)
			if err != nil {
				return err
			}
			items, err := pyexpr.Iterate(it)
			if err != nil {
				return err
			}
			if len(items) == 0 {
				if err := renderNodes(b, n.els, vars); err != nil {
					return err
				}
				continue
			}
			saved := map[string]any{}
			for _, name := range append([]string{"loop"}, n.vars...) {
				if v, ok := vars[name]; ok {
					saved[name] = v
				}
			}
			for i, item := range items {
				loop := pyjson.NewDict()
				loop.Set("index", int64(i+1))
				loop.Set("index0", int64(i))
				loop.Set("first", i == 0)
				loop.Set("last", i == len(items)-1)
				loop.Set("length", int64(len(items)))
				loop.Set("revindex", int64(len(items)-i))
				loop.Set("revindex0", int64(len(items)-i-1))
				vars["loop"] = loop
				if len(n.vars) == 1 {
					vars[n.vars[0]] = item
				} else {
					tuple, ok := item.([]any)
					if !ok || len(tuple) != len(n.vars) {
						return fmt.Errorf("ValueError: not enough values to unpack")
					}
					for k, name := range n.vars {
						vars[name] = tuple[k]
					}
				}
				if err := renderNodes(b, n.body, vars); err != nil {
					return err
				}
			}
			for _, name := range append([]string{"loop"}, n.vars...) {
				if v, ok := saved[name]; ok {
					vars[name] = v
				} else {
					delete(vars, name)
				}
			}
		case *ifNode:
			done := false
			for i, c := range n.conds {
				v, err := c.Eval(vars)
				if err != nil {
					return err
				}
				if pyexpr.Truthy(v) {
					if err := renderNodes(b, n.bodies[i], vars); err != nil {
						return err
					}
					done = true
					break
				}
			}
			if !done && len(n.bodies) > len(n.conds) {
				if err := renderNodes(b, n.bodies[len(n.conds)], vars); err != nil {
					return err
				}
			}
		}
	}
	return nil
}
