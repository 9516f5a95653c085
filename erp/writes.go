package erp

import (
	"context"
	"fmt"
	"maps"
	"slices"
)

// UpdateSalesOrder saves fields on an order, and lineFields on its lines
// (keyed by Sales Order Item row name), in ONE PUT /api/resource/Sales Order/{name}.
// so must come from SalesOrder: PUT with "items" replaces the whole table
// (docs/erpnext.md#updating-a-document), so when lineFields is non-empty every row of
// so.Raw["items"] is sent complete as read, with its lineFields merged in.
// A submitted order accepts only fields with allow_on_submit=1 (else
// ErrValidation, UpdateAfterSubmitError). A "modified" in fields turns on
// Frappe's optimistic locking (ErrTimestampMismatch, docs/erpnext.md#updating-a-document). It is on
// whenever rows are sent: they are the table as read, and a save made since
// (a line added or changed) would otherwise be overwritten by them, so
// so.Modified goes with them and a changed order is refused with
// ErrTimestampMismatch, to be read again. Not retried. Returns the order as
// saved.
func (c *Client) UpdateSalesOrder(ctx context.Context, so *SalesOrder, fields map[string]any, lineFields map[string]map[string]any) (*SalesOrder, error) {
	if so == nil || so.Name == "" {
		return nil, fmt.Errorf("erp: update Sales Order: no order given")
	}
	body := maps.Clone(fields)
	if body == nil {
		body = map[string]any{}
	}
	if len(lineFields) > 0 {
		if _, ok := body["items"]; ok {
			return nil, fmt.Errorf("erp: update Sales Order %s: give line changes in lineFields, not fields[\"items\"]", so.Name)
		}
		rows, err := mergedItems(so, lineFields)
		if err != nil {
			return nil, err
		}
		body["items"] = rows
		if _, ok := body["modified"]; !ok && so.Modified != "" {
			body["modified"] = so.Modified
		}
	}
	if len(body) == 0 {
		return nil, fmt.Errorf("erp: update Sales Order %s: nothing to write", so.Name)
	}
	k := docCall("PUT", "Sales Order", so.Name)
	k.body = body
	resp, err := c.do(ctx, k)
	if err != nil {
		return nil, err
	}
	return decodeSalesOrder(k, resp)
}

// mergedItems copies every row of so.Raw["items"] as read and merges in
// lineFields by row name. Unknown row names are an error, not a silent drop.
func mergedItems(so *SalesOrder, lineFields map[string]map[string]any) ([]map[string]any, error) {
	rawItems, ok := so.Raw["items"].([]any)
	if !ok {
		return nil, fmt.Errorf("erp: update Sales Order %s: the order has no items as read (Raw not from SalesOrder?)", so.Name)
	}
	rows := make([]map[string]any, 0, len(rawItems))
	seen := make(map[string]bool, len(rawItems))
	for i, r := range rawItems {
		row, ok := r.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("erp: update Sales Order %s: item %d is %T, not an object", so.Name, i, r)
		}
		row = maps.Clone(row)
		name, _ := row["name"].(string)
		if lf, ok := lineFields[name]; ok && name != "" {
			maps.Copy(row, lf)
			seen[name] = true
		}
		rows = append(rows, row)
	}
	for _, name := range slices.Sorted(maps.Keys(lineFields)) {
		if !seen[name] {
			return nil, fmt.Errorf("erp: update Sales Order %s: no item row %q", so.Name, name)
		}
	}
	return rows, nil
}

// AddComment adds a Comment (comment_type Comment) to a document's timeline.
// Not retried.
func (c *Client) AddComment(ctx context.Context, doctype, name, content string) error {
	_, err := c.InsertDoc(ctx, "Comment", map[string]any{
		"comment_type":      "Comment",
		"reference_doctype": doctype,
		"reference_name":    name,
		"content":           content,
	})
	return err
}

// CreateMaterialRequest creates a draft Material Request and returns its
// name. Not retried.
func (c *Client) CreateMaterialRequest(ctx context.Context, mr MaterialRequest) (string, error) {
	if len(mr.Items) == 0 {
		return "", fmt.Errorf("erp: create Material Request: no items")
	}
	typ := mr.Type
	if typ == "" {
		typ = "Purchase"
	}
	doc := map[string]any{"material_request_type": typ}
	setIf := func(key, v string) {
		if v != "" {
			doc[key] = v
		}
	}
	setIf("company", mr.Company)
	setIf("transaction_date", mr.TransactionDate)
	setIf("schedule_date", mr.ScheduleDate)
	setIf("priority", mr.Priority)
	items := make([]map[string]any, 0, len(mr.Items))
	for _, it := range mr.Items {
		row := map[string]any{"item_code": it.ItemCode, "qty": it.Qty}
		if it.ScheduleDate != "" {
			row["schedule_date"] = it.ScheduleDate
		}
		if it.Warehouse != "" {
			row["warehouse"] = it.Warehouse
		}
		items = append(items, row)
	}
	doc["items"] = items
	saved, err := c.InsertDoc(ctx, "Material Request", doc)
	if err != nil {
		return "", err
	}
	name, _ := saved["name"].(string)
	if name == "" {
		return "", &Error{Kind: KindUnexpected, Status: 200, Method: "POST", Path: "Material Request", Message: "saved document has no name"}
	}
	return name, nil
}
