package sandbox

import (
	"fmt"
	"strings"
)

// The subset of Jinja that webhook templates use (docs/erpnext.md#the-request-body): output
// tags with filters, for (with loop.*), if/elif/else, comments and the "-"
// whitespace control. Frappe renders with a SandboxedEnvironment,
// DebugUndefined and no autoescape; an undefined top-level name renders as
// its own tag text.

type tmplNode interface{}

type (
	textNode   struct{ s string }
	outputNode struct {
		expr node
		src  string
	}
	forNode struct {
		vars      []string
		iter      node
		body, els []tmplNode
	}
	ifNode struct {
		conds  []node
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
			e, err := parseExpr(t.s, true)
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
	e, err := parseExpr(iter, true)
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
		e, err := parseExpr(cond, true)
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

// renderTemplate renders src with the given variables.
func renderTemplate(src string, vars map[string]any) (string, error) {
	nodes, err := parseTemplate(src)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	sc := &scope{vars: vars, jinja: true}
	if err := renderNodes(&b, nodes, sc); err != nil {
		return "", err
	}
	return b.String(), nil
}

func renderNodes(b *strings.Builder, nodes []tmplNode, sc *scope) error {
	for _, n := range nodes {
		switch n := n.(type) {
		case *textNode:
			b.WriteString(n.s)
		case *outputNode:
			v, err := sc.eval(n.expr)
			if err != nil {
				return err
			}
			if u, ok := v.(undefined); ok {
				if nm, isName := n.expr.(*nameNode); isName && u.hint == nm.name {
					b.WriteString("{{ " + nm.name + " }}") // DebugUndefined
				}
				continue
			}
			b.WriteString(pyStr(v))
		case *forNode:
			it, err := sc.eval(n.iter)
			if err != nil {
				return err
			}
			items, err := iterate(it)
			if err != nil {
				return err
			}
			if len(items) == 0 {
				if err := renderNodes(b, n.els, sc); err != nil {
					return err
				}
				continue
			}
			saved := map[string]any{}
			for _, name := range append([]string{"loop"}, n.vars...) {
				if v, ok := sc.vars[name]; ok {
					saved[name] = v
				}
			}
			for i, item := range items {
				loop := newOmap()
				loop.set("index", int64(i+1))
				loop.set("index0", int64(i))
				loop.set("first", i == 0)
				loop.set("last", i == len(items)-1)
				loop.set("length", int64(len(items)))
				loop.set("revindex", int64(len(items)-i))
				loop.set("revindex0", int64(len(items)-i-1))
				sc.vars["loop"] = loop
				if len(n.vars) == 1 {
					sc.vars[n.vars[0]] = item
				} else {
					tuple, ok := item.([]any)
					if !ok || len(tuple) != len(n.vars) {
						return fmt.Errorf("ValueError: not enough values to unpack")
					}
					for k, name := range n.vars {
						sc.vars[name] = tuple[k]
					}
				}
				if err := renderNodes(b, n.body, sc); err != nil {
					return err
				}
			}
			for _, name := range append([]string{"loop"}, n.vars...) {
				if v, ok := saved[name]; ok {
					sc.vars[name] = v
				} else {
					delete(sc.vars, name)
				}
			}
		case *ifNode:
			done := false
			for i, c := range n.conds {
				v, err := sc.eval(c)
				if err != nil {
					return err
				}
				if truthy(v) {
					if err := renderNodes(b, n.bodies[i], sc); err != nil {
						return err
					}
					done = true
					break
				}
			}
			if !done && len(n.bodies) > len(n.conds) {
				if err := renderNodes(b, n.bodies[len(n.conds)], sc); err != nil {
					return err
				}
			}
		}
	}
	return nil
}
