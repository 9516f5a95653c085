package sandbox

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/erpnext-otp/otp/erp/sandbox/internal/pyjson"
)

// This file is frappe.client.get_list / DatabaseQuery (docs/erpnext.md#lists-and-filters): field
// lists with child columns and aliases, every filter form and operator,
// ordering and paging, over the in-memory rows.

// listArgs are get_list's parameters.
type listArgs struct {
	Doctype   string
	Fields    any
	Filters   any
	OrFilters any
	OrderBy   string
	Start     int
	PageLen   int
	Parent    string
	AsList    bool
}

// colRef names a column: Table is "" for the queried doctype, else the
// parent's table field whose rows are joined.
type colRef struct {
	Table string
	Field string
	Type  string
}

type selectCol struct {
	ref   colRef
	alias string
	agg   string // count, sum, min, max, avg
}

type condition struct {
	ref   colRef
	op    string
	value any
}

// row is one result row before projection: the base document and, per
// joined table (in query.joins' order), one of its rows (nil for a left
// join without rows).
type row struct {
	base   *document
	joined []*document
}

type query struct {
	t      *tx
	m      *meta
	joins  []string // table fieldnames joined
	isRows bool     // the doctype is a child table queried with parent=
}

var (
	aliasRe = regexp.MustCompile(`(?i)^(.*?)\s+as\s+` + "`?" + `([A-Za-z0-9_ ]+?)` + "`?" + `$`)
	aggRe   = regexp.MustCompile(`(?i)^(count|sum|min|max|avg)\((.*)\)$`)
	tabRe   = regexp.MustCompile("^`?tab([^`]+?)`?\\.`?([A-Za-z0-9_]+|\\*)`?$")
)

// join makes the query join the child table a column lives in (once).
func (q *query) join(ref colRef) {
	if ref.Table == "" || slices.Contains(q.joins, ref.Table) {
		return // a parent column, or a table already joined
	}
	q.joins = append(q.joins, ref.Table)
}

// childTableFor finds the parent's table field holding a child doctype.
func (q *query) childTableFor(childDoctype string) string {
	for _, tf := range q.m.tableFields() {
		if tf.Options == childDoctype {
			return tf.Name
		}
	}
	return ""
}

func (q *query) metaOf(table string) *meta {
	if table == "" {
		return q.m
	}
	return q.t.s.metas[q.m.field(table).Options]
}

// columnType reports whether a doctype has the column, and its type.
func columnType(m *meta, field string) (string, bool) {
	if isDefaultField(field) {
		return standardFieldType(field), true
	}
	if m.IsTable && isChildTableField(field) {
		return "Data", true
	}
	if f := m.field(field); f != nil && f.hasColumn() {
		return f.Type, true
	}
	return "", false
}

// resolve parses a column reference: "field", "`tabX`.`field`",
// "tabX.field" or "tablefield.field". ok is false for unknown columns.
func (q *query) resolve(expr string, autoChild bool) (colRef, bool) {
	expr = strings.TrimSpace(expr)
	if m := tabRe.FindStringSubmatch(expr); m != nil {
		dt, f := m[1], m[2]
		if dt == q.m.Name {
			typ, ok := columnType(q.m, f)
			return colRef{Field: f, Type: typ}, ok || f == "*"
		}
		if tbl := q.childTableFor(dt); tbl != "" {
			typ, ok := columnType(q.metaOf(tbl), f)
			return colRef{Table: tbl, Field: f, Type: typ}, ok || f == "*"
		}
		return colRef{}, false
	}
	expr = strings.Trim(expr, "`")
	if tbl, f, ok := strings.Cut(expr, "."); ok {
		tf := q.m.field(tbl)
		if tf == nil || !tf.isTable() {
			return colRef{}, false
		}
		typ, ok := columnType(q.metaOf(tbl), f)
		return colRef{Table: tbl, Field: f, Type: typ}, ok || f == "*"
	}
	if typ, ok := columnType(q.m, expr); ok {
		return colRef{Field: expr, Type: typ}, true
	}
	if autoChild && !q.m.IsTable {
		// A 3-element filter on a child-only field maps to the first child
		// table that has it (docs/erpnext.md#lists-and-filters).
		for _, tf := range q.m.tableFields() {
			if typ, ok := columnType(q.t.s.metas[tf.Options], expr); ok {
				return colRef{Table: tf.Name, Field: expr, Type: typ}, true
			}
		}
	}
	return colRef{}, false
}

// parseFields turns the fields argument into selected columns; unknown
// fields are dropped silently.
func (q *query) parseFields(v any) ([]selectCol, error) {
	var list []string
	switch x := v.(type) {
	case nil:
		list = []string{"name"}
	case string:
		x = strings.TrimSpace(x)
		switch {
		case x == "":
			list = []string{"name"}
		case x == "*":
			list = []string{"*"}
		case strings.HasPrefix(x, "["):
			var arr []any
			if err := json.Unmarshal([]byte(x), &arr); err != nil {
				return nil, validationErr(fmt.Sprintf("fields is not valid JSON: %v", err))
			}
			for _, a := range arr {
				list = append(list, str(a))
			}
		default:
			for _, p := range strings.Split(x, ",") {
				list = append(list, strings.TrimSpace(p))
			}
		}
	case []any:
		for _, a := range x {
			list = append(list, str(a))
		}
	default:
		return nil, validationErr("fields must be a list")
	}
	if len(list) == 0 {
		list = []string{"name"}
	}
	var out []selectCol
	for _, expr := range list {
		alias := ""
		if m := aliasRe.FindStringSubmatch(expr); m != nil {
			expr, alias = strings.TrimSpace(m[1]), m[2]
		}
		if m := aggRe.FindStringSubmatch(expr); m != nil {
			agg := strings.ToLower(m[1])
			inner := strings.TrimSpace(m[2])
			inner = strings.TrimPrefix(inner, "distinct ")
			if alias == "" {
				alias = agg + "(" + inner + ")"
			}
			if inner == "*" {
				out = append(out, selectCol{ref: colRef{Field: "name"}, alias: alias, agg: agg})
				continue
			}
			ref, ok := q.resolve(inner, false)
			if !ok {
				continue
			}
			q.join(ref)
			out = append(out, selectCol{ref: ref, alias: alias, agg: agg})
			continue
		}
		if expr == "*" {
			out = append(out, q.starColumns("")...)
			continue
		}
		ref, ok := q.resolve(expr, false)
		if !ok {
			continue
		}
		q.join(ref)
		if ref.Field == "*" {
			out = append(out, q.starColumns(ref.Table)...)
			continue
		}
		if alias == "" {
			alias = ref.Field
		}
		out = append(out, selectCol{ref: ref, alias: alias})
	}
	return out, nil
}

func (q *query) starColumns(table string) []selectCol {
	m := q.metaOf(table)
	var out []selectCol
	add := func(f, typ string) {
		out = append(out, selectCol{ref: colRef{Table: table, Field: f, Type: typ}, alias: f})
	}
	for _, f := range defaultFields {
		add(f, standardFieldType(f))
	}
	if m.IsTable {
		for _, f := range childTableFields {
			add(f, "Data")
		}
	}
	for _, f := range m.columns() {
		add(f.Name, f.Type)
	}
	return out
}

// parseFilters accepts a dict, a list of [field, op, value], a list of
// [doctype, field, op, value], or their JSON text (docs/erpnext.md#lists-and-filters).
func (q *query) parseFilters(v any) ([]condition, error) {
	if s, ok := v.(string); ok {
		s = strings.TrimSpace(s)
		if s == "" || s == "null" {
			return nil, nil
		}
		var parsed any
		dec := json.NewDecoder(strings.NewReader(s))
		dec.UseNumber()
		if err := dec.Decode(&parsed); err != nil {
			return nil, validationErr(fmt.Sprintf("filters is not valid JSON: %v", err))
		}
		v = parsed
	}
	var out []condition
	switch x := v.(type) {
	case nil:
		return nil, nil
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			val := x[k]
			if l, ok := val.([]any); ok && len(l) >= 1 {
				if op, isStr := l[0].(string); isStr && isOperator(op) {
					var arg any
					if len(l) > 1 {
						arg = l[1]
					}
					c, err := q.condition(q.m.Name, k, op, arg, true)
					if err != nil {
						return nil, err
					}
					out = append(out, c)
					continue
				}
			}
			c, err := q.condition(q.m.Name, k, "=", val, true)
			if err != nil {
				return nil, err
			}
			out = append(out, c)
		}
	case []any:
		for _, item := range x {
			l, ok := item.([]any)
			if !ok {
				return nil, validationErr(fmt.Sprintf("Filter must be a list: %v", item))
			}
			var c condition
			var err error
			switch len(l) {
			case 2:
				c, err = q.condition(q.m.Name, str(l[0]), "=", l[1], true)
			case 3:
				c, err = q.condition(q.m.Name, str(l[0]), str(l[1]), l[2], true)
			case 4, 5:
				c, err = q.condition(str(l[0]), str(l[1]), str(l[2]), l[3], false)
			default:
				return nil, validationErr(fmt.Sprintf("Filter must have 3 or 4 items: %v", l))
			}
			if err != nil {
				return nil, err
			}
			out = append(out, c)
		}
	default:
		return nil, validationErr("filters must be a dict or a list")
	}
	return out, nil
}

var operators = map[string]bool{"=": true, "!=": true, "<": true, ">": true, "<=": true, ">=": true, "like": true,
	"not like": true, "in": true, "not in": true, "is": true, "between": true, "descendants of": true,
	"not descendants of": true, "ancestors of": true, "not ancestors of": true, "descendants of (inclusive)": true}

func isOperator(op string) bool { return operators[strings.ToLower(strings.TrimSpace(op))] }

func (q *query) condition(doctype, field, op string, value any, auto bool) (condition, error) {
	op = strings.ToLower(strings.TrimSpace(op))
	if op == "==" {
		op = "="
	}
	if op == "<>" {
		op = "!="
	}
	if !operators[op] {
		return condition{}, validationErr(fmt.Sprintf("Invalid filter operator: %s", op))
	}
	var ref colRef
	var ok bool
	switch {
	case doctype == q.m.Name || doctype == "":
		ref, ok = q.resolve(field, auto)
	default:
		tbl := q.childTableFor(doctype)
		if tbl != "" {
			typ, found := columnType(q.t.s.metas[doctype], field)
			ref, ok = colRef{Table: tbl, Field: field, Type: typ}, found
		}
	}
	if !ok {
		return condition{}, validationErr(fmt.Sprintf("Field not permitted in query: %s", field))
	}
	q.join(ref)
	return condition{ref: ref, op: op, value: value}, nil
}

// get returns a column's value on a row (nil for NULL; 0 for numbers).
func (q *query) get(r row, ref colRef) any {
	d := r.base
	if ref.Table != "" {
		i := slices.Index(q.joins, ref.Table)
		if i < 0 || i >= len(r.joined) || r.joined[i] == nil {
			return nil
		}
		d = r.joined[i]
	}
	v := d.V[ref.Field]
	if v == nil {
		switch {
		case floatTypes[ref.Type]:
			return 0.0
		case intTypes[ref.Type]:
			return 0
		}
	}
	return v
}

// match evaluates one condition with MariaDB semantics: NULL compared
// through ifnull(col, fallback), strings case-insensitive.
func (q *query) match(r row, c condition) bool {
	v := q.get(r, c.ref)
	numeric := floatTypes[c.ref.Type] || intTypes[c.ref.Type]
	fallback := ""
	switch c.ref.Type {
	case "Date":
		fallback = "0001-01-01"
	case "Datetime":
		fallback = "0001-01-01 00:00:00.000000"
	}
	cmp := func(a any, b any) int {
		if numeric {
			x, y := toFloat(a), toFloat(b)
			switch {
			case x < y:
				return -1
			case x > y:
				return 1
			}
			return 0
		}
		as, bs := str(a), str(b)
		if a == nil {
			as = fallback
		}
		if c.ref.Type == "Date" {
			if d, err := parseDate(bs); err == nil {
				bs = d
			}
		}
		return strings.Compare(strings.ToLower(as), strings.ToLower(bs))
	}
	list := func() []any { return inList(c.value) }
	switch c.op {
	case "=":
		return cmp(v, c.value) == 0
	case "!=":
		return cmp(v, c.value) != 0
	case "<":
		return cmp(v, c.value) < 0
	case ">":
		return cmp(v, c.value) > 0
	case "<=":
		return cmp(v, c.value) <= 0
	case ">=":
		return cmp(v, c.value) >= 0
	case "in", "not in":
		found := false
		for _, e := range list() {
			if cmp(v, e) == 0 {
				found = true
				break
			}
		}
		return found == (c.op == "in")
	case "like", "not like":
		ok := likeMatch(str(v), str(c.value))
		return ok == (c.op == "like")
	case "is":
		set := v != nil && str(v) != ""
		switch strings.ToLower(str(c.value)) {
		case "set":
			return set
		case "not set":
			return !set
		}
		return false
	case "between":
		l, ok := c.value.([]any)
		if !ok || len(l) != 2 {
			return false
		}
		hi := l[1]
		if c.ref.Type == "Datetime" && len(str(hi)) == 10 {
			hi = str(hi) + " 23:59:59.999999"
		}
		return cmp(v, l[0]) >= 0 && cmp(v, hi) <= 0
	case "descendants of", "not descendants of", "descendants of (inclusive)", "ancestors of", "not ancestors of":
		return q.treeMatch(c, str(v))
	}
	return false
}

// inList is the values an "in" or "not in" condition compares with: a
// list, or a comma-separated string; an empty one is [""].
func inList(value any) []any {
	switch x := value.(type) {
	case []any:
		if len(x) == 0 {
			return []any{""}
		}
		return x
	case string:
		var out []any
		for _, p := range strings.Split(x, ",") {
			out = append(out, strings.TrimSpace(p))
		}
		return out
	case nil:
		return []any{""}
	}
	return []any{value}
}

// prepared is a condition whose own side is worked out once for a whole
// list: match's cmp would lower-case (or parse) the condition's value(s)
// again for every row. It covers the comparisons and in/not in; the other
// operators go through match.
type prepared struct {
	c       condition
	fast    bool
	numeric bool
	nums    []float64 // the values, numeric columns
	texts   []string  // the values as cmp compares them, other columns
}

func (q *query) prepare(c condition) prepared {
	p := prepared{c: c, numeric: floatTypes[c.ref.Type] || intTypes[c.ref.Type]}
	var vals []any
	switch c.op {
	case "=", "!=", "<", ">", "<=", ">=":
		vals = []any{c.value}
	case "in", "not in":
		vals = inList(c.value)
	default:
		return p
	}
	p.fast = true
	for _, b := range vals {
		if p.numeric {
			p.nums = append(p.nums, toFloat(b))
			continue
		}
		bs := str(b)
		if c.ref.Type == "Date" {
			if d, err := parseDate(bs); err == nil {
				bs = d
			}
		}
		p.texts = append(p.texts, strings.ToLower(bs))
	}
	return p
}

// matchPrepared is match(r, p.c).
func (q *query) matchPrepared(r row, p prepared) bool {
	if !p.fast {
		return q.match(r, p.c)
	}
	v := q.get(r, p.c.ref)
	var x float64
	var as string
	if p.numeric {
		x = toFloat(v)
	} else {
		as = str(v)
		if v == nil {
			switch p.c.ref.Type {
			case "Date":
				as = "0001-01-01"
			case "Datetime":
				as = "0001-01-01 00:00:00.000000"
			}
		}
	}
	cmp := func(i int) int {
		if p.numeric {
			y := p.nums[i]
			switch {
			case x < y:
				return -1
			case x > y:
				return 1
			}
			return 0
		}
		return compareLower(as, p.texts[i])
	}
	switch p.c.op {
	case "=":
		return cmp(0) == 0
	case "!=":
		return cmp(0) != 0
	case "<":
		return cmp(0) < 0
	case ">":
		return cmp(0) > 0
	case "<=":
		return cmp(0) <= 0
	case ">=":
		return cmp(0) >= 0
	}
	n := len(p.nums) + len(p.texts)
	found := false
	for i := range n {
		if cmp(i) == 0 {
			found = true
			break
		}
	}
	return found == (p.c.op == "in")
}

// compareLower is strings.Compare(strings.ToLower(a), b), without
// building the lower-cased copy when a is ASCII.
func compareLower(a, b string) int {
	for i := 0; i < len(a); i++ {
		c := a[i]
		if c >= 0x80 {
			return strings.Compare(strings.ToLower(a), b)
		}
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		switch {
		case i >= len(b):
			return 1
		case c < b[i]:
			// The rest of a may still hold non-ASCII: ToLower of it cannot
			// change this prefix, so the order stands.
			return -1
		case c > b[i]:
			return 1
		}
	}
	if len(a) < len(b) {
		return -1
	}
	return 0
}

// treeMatch evaluates the nested-set operators on Warehouse-like trees
// (parent_<doctype> links).
func (q *query) treeMatch(c condition, v string) bool {
	target := q.m.Name
	if c.ref.Field != "name" {
		if f := q.metaOf(c.ref.Table).field(c.ref.Field); f != nil && f.Type == "Link" {
			target = f.Options
		}
	}
	parentField := "parent_" + strings.ReplaceAll(strings.ToLower(target), " ", "_")
	ancestors := func(name string) []string {
		var out []string
		seen := map[string]bool{}
		for cur := name; cur != "" && !seen[cur]; {
			seen[cur] = true
			d := q.t.get(target, cur)
			if d == nil {
				break
			}
			cur = str(d.V[parentField])
			if cur != "" {
				out = append(out, cur)
			}
		}
		return out
	}
	node := str(c.value)
	contains := func(l []string, s string) bool {
		for _, x := range l {
			if x == s {
				return true
			}
		}
		return false
	}
	switch c.op {
	case "descendants of":
		return contains(ancestors(v), node)
	case "descendants of (inclusive)":
		return v == node || contains(ancestors(v), node)
	case "not descendants of":
		return !contains(ancestors(v), node)
	case "ancestors of":
		return contains(ancestors(node), v)
	case "not ancestors of":
		return !contains(ancestors(node), v)
	}
	return false
}

// likeMatch is SQL LIKE with % and _, case-insensitive, backslash escapes.
func likeMatch(s, pattern string) bool {
	var b strings.Builder
	b.WriteString("(?is)^")
	esc := false
	for _, r := range pattern {
		switch {
		case esc:
			b.WriteString(regexp.QuoteMeta(string(r)))
			esc = false
		case r == '\\':
			esc = true
		case r == '%':
			b.WriteString(".*")
		case r == '_':
			b.WriteString(".")
		default:
			b.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	b.WriteString("$")
	re, err := regexp.Compile(b.String())
	if err != nil {
		return false
	}
	return re.MatchString(s)
}

// orderTerm is one "field asc|desc" of order_by.
type orderTerm struct {
	ref  colRef
	desc bool
}

func (q *query) parseOrder(s string) ([]orderTerm, error) {
	if strings.TrimSpace(s) == "" {
		var out []orderTerm
		if q.m.Submittable && !q.isRows {
			out = append(out, orderTerm{ref: colRef{Field: "docstatus", Type: "Int"}})
		}
		sf := q.m.SortField
		out = append(out, orderTerm{ref: colRef{Field: sf, Type: standardFieldType(sf)}, desc: true})
		return out, nil
	}
	var out []orderTerm
	for _, part := range strings.Split(s, ",") {
		fs := strings.Fields(strings.TrimSpace(part))
		if len(fs) == 0 {
			continue
		}
		dir := "asc"
		expr := fs[0]
		if len(fs) > 1 {
			last := strings.ToLower(fs[len(fs)-1])
			if last == "asc" || last == "desc" {
				dir = last
				expr = strings.Join(fs[:len(fs)-1], " ")
			} else {
				expr = strings.Join(fs, " ")
			}
		}
		ref, ok := q.resolve(expr, false)
		if !ok {
			return nil, validationErr(fmt.Sprintf("Unknown column %s in order_by", expr))
		}
		q.join(ref)
		out = append(out, orderTerm{ref: ref, desc: dir == "desc"})
	}
	return out, nil
}

// getList runs a list query and returns the rows (as *pyjson.Dict, or []any when
// as_dict is off).
func (t *tx) getList(a listArgs) ([]any, error) {
	m := t.s.metas[a.Doctype]
	if m == nil {
		return nil, frappeErr("DoesNotExistError", fmt.Sprintf("DocType %s not found", a.Doctype))
	}
	q := &query{t: t, m: m}
	if m.IsTable {
		if err := t.checkParentPermission(a.Parent, a.Doctype); err != nil {
			return nil, err
		}
		q.isRows = true
	} else if !t.can(a.Doctype, "read", nil) && !(a.Doctype == "User") {
		return nil, t.noPermissionFor(a.Doctype)
	}
	cols, err := q.parseFields(a.Fields)
	if err != nil {
		return nil, err
	}
	conds, err := q.parseFilters(a.Filters)
	if err != nil {
		return nil, err
	}
	orConds, err := q.parseFilters(a.OrFilters)
	if err != nil {
		return nil, err
	}
	order, err := q.parseOrder(a.OrderBy)
	if err != nil {
		return nil, err
	}
	hasAgg := false
	for _, c := range cols {
		if c.agg != "" {
			hasAgg = true
		}
	}
	if hasAgg {
		// Aggregates see the rows unsorted, as before the cache: a sum's
		// rounding and an unaggregated column's value depend on that order.
		return []any{q.aggregate(cols, q.matching(a.Parent, conds, orConds), a.AsList)}, nil
	}
	key := q.cacheKey(a.Parent, conds, orConds, order)
	matched, ok := t.s.lists.get(t.s.version, key)
	if !ok {
		matched = q.matching(a.Parent, conds, orConds)
		q.sortRows(matched, order)
		t.s.lists.put(t.s.version, key, matched)
	}
	start := a.Start
	if start < 0 {
		start = 0
	}
	if start > len(matched) {
		start = len(matched)
	}
	matched = matched[start:]
	if a.PageLen > 0 && len(matched) > a.PageLen {
		matched = matched[:a.PageLen]
	}
	out := make([]any, 0, len(matched))
	if a.AsList {
		for _, r := range matched {
			vals := make([]any, len(cols))
			for i, c := range cols {
				vals[i] = q.get(r, c.ref)
			}
			out = append(out, vals)
		}
		return out, nil
	}
	// Every row has the same keys: the aliases, a repeated one in its first
	// place with its last column's value (as Dict.Set gives).
	aliases := make([]string, len(cols))
	for i, c := range cols {
		aliases[i] = c.alias
	}
	keys, at := pyjson.NewColumns(aliases)
	vals := make([]any, len(matched)*keys.Len()) // one allocation for every row's values
	for _, r := range matched {
		row := vals[:keys.Len():keys.Len()]
		vals = vals[keys.Len():]
		for i, c := range cols {
			row[at[i]] = q.get(r, c.ref)
		}
		out = append(out, keys.Row(row))
	}
	return out, nil
}

// matching returns the rows the user may see that pass every condition and
// at least one of orConds, in the store's order.
func (q *query) matching(parent string, conds, orConds []condition) []row {
	var matched []row
	and := make([]prepared, len(conds))
	for i, c := range conds {
		and[i] = q.prepare(c)
	}
	or := make([]prepared, len(orConds))
	for i, c := range orConds {
		or[i] = q.prepare(c)
	}
	// A condition on the document's own fields decides before its child
	// rows are joined: a list with child columns filtered by the parent's
	// fields (the order book's changes) then joins only the documents it
	// returns, as the database's index on the parent would.
	var own, joined []prepared
	for _, c := range and {
		if c.c.ref.Table == "" && !q.isRows {
			own = append(own, c)
		} else {
			joined = append(joined, c)
		}
	}
	keep := func(d *document) bool {
		r := row{base: d}
		for _, c := range own {
			if !q.matchPrepared(r, c) {
				return false
			}
		}
		return true
	}
	// A condition that a text field equals a value reads only the
	// documents with that value; of several, the one that leaves fewest.
	var from []*document
	indexed := false
	for _, c := range own {
		if c.c.op == "=" && c.fast && !c.numeric && c.c.ref.Type != "Date" && c.c.ref.Type != "Datetime" &&
			len(c.texts) == 1 && c.texts[0] != "" {
			docs := q.t.s.orders.equal(q.m.Name, c.c.ref.Field, c.texts[0], q.t.s.docs[q.m.Name])
			if !indexed || len(docs) < len(from) {
				from, indexed = docs, true
			}
		}
	}
	if !indexed {
		from = q.t.all(q.m.Name)
	}
	for _, r := range q.rows(parent, from, keep) {
		if !q.t.rowVisible(q.m.Name, r) {
			continue
		}
		ok := true
		for _, c := range joined {
			if !q.matchPrepared(r, c) {
				ok = false
				break
			}
		}
		if ok && len(or) > 0 {
			any := false
			for _, c := range or {
				if q.matchPrepared(r, c) {
					any = true
					break
				}
			}
			ok = any
		}
		if ok {
			matched = append(matched, r)
		}
	}
	return matched
}

// sortKey is a row's value for one order term as compareValues compares
// it, worked out once per row rather than once per comparison.
type sortKey struct {
	null bool
	num  float64
	text string
}

func compareKeys(a, b *sortKey) int {
	switch {
	case a.null && b.null:
		return 0
	case a.null:
		return -1
	case b.null:
		return 1
	case a.num < b.num:
		return -1
	case a.num > b.num:
		return 1
	}
	return strings.Compare(a.text, b.text)
}

// sortRows orders rows by order_by's terms; ties keep the store's order.
// It is a stable sort by compareValues, on keys worked out once per row.
func (q *query) sortRows(rows []row, order []orderTerm) {
	n := len(order)
	if n == 0 || len(rows) < 2 {
		return
	}
	keys := make([]sortKey, len(rows)*n)
	for i, r := range rows {
		for j, o := range order {
			k := &keys[i*n+j]
			switch v := q.get(r, o.ref); {
			case v == nil:
				k.null = true
			case floatTypes[o.ref.Type] || intTypes[o.ref.Type]:
				k.num = toFloat(v)
			default:
				k.text = strings.ToLower(str(v))
			}
		}
	}
	idx := make([]int, len(rows))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		for j, o := range order {
			c := compareKeys(&keys[a*n+j], &keys[b*n+j])
			if c == 0 {
				continue
			}
			if o.desc {
				return -c
			}
			return c
		}
		return 0
	})
	sorted := make([]row, len(rows))
	for i, k := range idx {
		sorted[i] = rows[k]
	}
	copy(rows, sorted)
}

// rowVisible applies permission query conditions: a user without System
// Manager sees only their own User row.
func (t *tx) rowVisible(doctype string, r row) bool {
	if doctype == "User" && !t.can("User", "read", nil) {
		return r.base.name() == t.user
	}
	return true
}

func (q *query) aggregate(cols []selectCol, rows []row, asList bool) any {
	vals := make([]any, len(cols))
	for i, c := range cols {
		switch c.agg {
		case "count":
			n := 0
			for _, r := range rows {
				if q.get(r, c.ref) != nil {
					n++
				}
			}
			vals[i] = n
		case "sum", "avg":
			var s float64
			for _, r := range rows {
				s += toFloat(q.get(r, c.ref))
			}
			if c.agg == "avg" && len(rows) > 0 {
				s /= float64(len(rows))
			}
			vals[i] = s
		case "min", "max":
			var best any
			for _, r := range rows {
				v := q.get(r, c.ref)
				if v == nil {
					continue
				}
				if best == nil || (c.agg == "min") == (compareValues(v, best, c.ref.Type) < 0) {
					best = v
				}
			}
			vals[i] = best
		default:
			if len(rows) > 0 {
				vals[i] = q.get(rows[0], c.ref)
			}
		}
	}
	if asList {
		return vals
	}
	o := pyjson.NewDict()
	for i, c := range cols {
		o.Set(c.alias, vals[i])
	}
	return o
}

func compareValues(a, b any, typ string) int {
	if a == nil && b == nil {
		return 0
	}
	if a == nil {
		return -1
	}
	if b == nil {
		return 1
	}
	if floatTypes[typ] || intTypes[typ] {
		x, y := toFloat(a), toFloat(b)
		switch {
		case x < y:
			return -1
		case x > y:
			return 1
		}
		return 0
	}
	return strings.Compare(strings.ToLower(str(a)), strings.ToLower(str(b)))
}

// rows builds the joined row set: the documents of docs keep accepts ×
// their joined child rows (left join), or the child rows themselves for a
// child doctype (docs unused).
func (q *query) rows(parent string, docs []*document, keep func(*document) bool) []row {
	var out []row
	if q.isRows {
		pm := q.t.s.metas[parent]
		for _, tf := range pm.tableFields() {
			if tf.Options != q.m.Name {
				continue
			}
			for _, p := range q.t.all(parent) {
				for _, r := range p.Tables[tf.Name] {
					out = append(out, row{base: r})
				}
			}
		}
		return out
	}
	if len(q.joins) == 0 {
		out = make([]row, 0, len(docs))
		for _, d := range docs {
			if keep(d) {
				out = append(out, row{base: d})
			}
		}
		return out
	}
	for _, d := range docs {
		if !keep(d) {
			continue
		}
		combos := [][]*document{nil}
		for _, j := range q.joins {
			var next [][]*document
			children := d.Tables[j]
			for _, c := range combos {
				if len(children) == 0 {
					next = append(next, append(c[:len(c):len(c)], nil))
					continue
				}
				for _, ch := range children {
					next = append(next, append(c[:len(c):len(c)], ch))
				}
			}
			combos = next
		}
		for _, c := range combos {
			out = append(out, row{base: d, joined: c})
		}
	}
	return out
}
