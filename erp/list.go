package erp

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/url"
	"strconv"
)

// Limits past which a list read is sent as POST /api/method/frappe.client.get_list
// with a JSON body instead of a GET with the filters in the query string
// (docs/erpnext.md#lists-and-filters): proxies commonly refuse URLs over a few KB.
const (
	maxGetURLBytes = 2000
	maxGetInNames  = 50
)

// ListQuery is a Frappe list read (docs/erpnext.md#lists-and-filters). Filters and
// OrFilters are Frappe's filter lists, e.g.
// []any{[]any{"item_code", "in", codes}, []any{"docstatus", "=", 1}}, or a
// 4-element form naming a child DocType.
type ListQuery struct {
	Fields    []string // Frappe's default is ["name"]; "items.item_code as item_code" reads a child column
	Filters   []any
	OrFilters []any
	OrderBy   string // an SQL fragment, e.g. "modified asc"
	Limit     int    // 0 = all rows (limit_page_length=0); Frappe's own default would be 20
	Start     int    // offset
	Parent    string // the parent DocType, required when listing a child table (docs/erpnext.md#child-tables)
}

// List reads the rows of a DocType matching q, in ONE request.
func (c *Client) List(ctx context.Context, doctype string, q ListQuery) ([]map[string]any, error) {
	var rows []map[string]any
	if err := c.list(ctx, doctype, q, &rows); err != nil {
		return nil, err
	}
	return rows, nil
}

// list reads rows of doctype into dst, a pointer to a slice, with one GET, or
// one POST to frappe.client.get_list when the in-lists or the URL are long.
func (c *Client) list(ctx context.Context, doctype string, q ListQuery, dst any) error {
	params := map[string]any{"limit_page_length": q.Limit}
	if q.Limit < 0 {
		return fmt.Errorf("erp: list %s: negative limit %d", doctype, q.Limit)
	}
	if len(q.Fields) > 0 {
		params["fields"] = q.Fields
	}
	if len(q.Filters) > 0 {
		params["filters"] = q.Filters
	}
	if len(q.OrFilters) > 0 {
		params["or_filters"] = q.OrFilters
	}
	if q.OrderBy != "" {
		params["order_by"] = q.OrderBy
	}
	if q.Start > 0 {
		params["limit_start"] = q.Start
	}
	if q.Parent != "" {
		params["parent"] = q.Parent
	}

	k := resourceCall("GET", doctype)
	k.read = true
	k.query = url.Values{}
	for name, v := range params {
		switch v := v.(type) {
		case string:
			k.query.Set(name, v)
		case int:
			k.query.Set(name, strconv.Itoa(v))
		default:
			b, err := json.Marshal(v)
			if err != nil {
				return fmt.Errorf("erp: list %s: encode %s: %w", doctype, name, err)
			}
			k.query.Set(name, string(b))
		}
	}
	key := "data"
	if longestList(q.Filters, q.OrFilters) > maxGetInNames || len(k.url(c.base)) > maxGetURLBytes {
		params["doctype"] = doctype
		k = methodCall("POST", "frappe.client.get_list")
		k.target = doctype + " (frappe.client.get_list)"
		k.read = true
		k.body = params
		key = "message"
	}
	body, err := c.do(ctx, k)
	if err != nil {
		return err
	}
	return decode(k, body, key, dst)
}

// longestList is the length of the longest list of plain values nested in
// the filters: the longest "in" list.
func longestList(filters ...[]any) int {
	longest := 0
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case []string:
			longest = max(longest, len(v))
		case []any:
			plain := true
			for _, e := range v {
				switch e.(type) {
				case []any, []string, map[string]any:
					plain = false
					walk(e)
				}
			}
			if plain {
				longest = max(longest, len(v))
			}
		case map[string]any:
			for _, e := range v {
				walk(e)
			}
		}
	}
	for _, f := range filters {
		walk(f)
	}
	return longest
}

// GetDoc reads one document as a map (GET /api/resource/{doctype}/{name}).
// Null fields are absent, as Frappe omits them (docs/erpnext.md#reading-one-document).
func (c *Client) GetDoc(ctx context.Context, doctype, name string) (map[string]any, error) {
	k := docCall("GET", doctype, name)
	k.read = true
	return c.docRequest(ctx, k)
}

// InsertDoc creates a document (POST /api/resource/{doctype}) and returns it
// as saved. It is not retried.
func (c *Client) InsertDoc(ctx context.Context, doctype string, doc map[string]any) (map[string]any, error) {
	k := resourceCall("POST", doctype)
	k.body = doc
	return c.docRequest(ctx, k)
}

// UpdateDoc sets fields on a document (PUT /api/resource/{doctype}/{name}, a
// partial update; a child-table key replaces the whole table, docs/erpnext.md#updating-a-document) and
// returns it as saved. It is not retried.
func (c *Client) UpdateDoc(ctx context.Context, doctype, name string, fields map[string]any) (map[string]any, error) {
	k := docCall("PUT", doctype, name)
	k.body = fields
	return c.docRequest(ctx, k)
}

// DeleteDoc deletes a document (DELETE /api/resource/{doctype}/{name}). It is
// not retried.
func (c *Client) DeleteDoc(ctx context.Context, doctype, name string) error {
	_, err := c.do(ctx, docCall("DELETE", doctype, name))
	return err
}

func (c *Client) docRequest(ctx context.Context, k call) (map[string]any, error) {
	body, err := c.do(ctx, k)
	if err != nil {
		return nil, err
	}
	var doc map[string]any
	if err := decode(k, body, "data", &doc); err != nil {
		return nil, err
	}
	if doc == nil {
		return nil, unexpected(k, "response data is null", nil)
	}
	return doc, nil
}

// num is a Float, Int or Check value as Frappe or a proxy may spell it:
// a JSON number, a numeric string, a bool or null (0).
type num float64

func (n *num) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch string(b) {
	case "null", "false", `""`:
		*n = 0
		return nil
	case "true":
		*n = 1
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		s, err := strconv.Unquote(string(b))
		if err != nil {
			return fmt.Errorf("erp: number %s: %w", b, err)
		}
		b = bytes.TrimSpace([]byte(s))
	}
	f, err := strconv.ParseFloat(string(b), 64) // no copy: ParseFloat keeps nothing of it
	if err != nil {
		return fmt.Errorf("erp: number %s: %w", b, err)
	}
	*n = num(f)
	return nil
}

func (n num) float() float64 { return float64(n) }
func (n num) int() int       { return int(math.Round(float64(n))) }
func (n num) bool() bool     { return n != 0 }
