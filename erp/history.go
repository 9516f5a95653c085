package erp

import (
	"cmp"
	"context"
	"fmt"
	"slices"
)

// The reads of this file look back at what happened: Delivery Notes against
// Sales Order lines, Purchase Receipts against Purchase Order lines, and
// OTP's own timeline comments, for the accuracy report (docs/accuracy.md)
// and supplier history. Each is a list read in pages of pageSize rows
// (≤ 0 means DefaultHistoryPage): the number of requests grows only with
// the pages.

// DefaultHistoryPage is how many rows one request of a history read reads.
const DefaultHistoryPage = 1000

// DeliveryLine is one row of a submitted Delivery Note against a Sales Order line.
type DeliveryLine struct {
	DeliveryNote string
	PostingDate  string
	IsReturn     bool
	Company      string
	Row          string // the Delivery Note Item row name
	SalesOrder   string // against_sales_order
	SOLine       string // so_detail
	ItemCode     string
	Warehouse    string
	StockQty     float64 // negative on a return, as ERPNext stores it
}

// DeliveredLines reads the rows of submitted Delivery Notes posted in
// [from, to] (ERPNext dates) against a Sales Order line, of company when
// set, ordered by note and row.
func (c *Client) DeliveredLines(ctx context.Context, from, to, company string, pageSize int) ([]DeliveryLine, error) {
	filters := []any{
		[]any{"docstatus", "=", 1},
		[]any{"posting_date", "between", []string{from, to}},
		[]any{"Delivery Note Item", "so_detail", "is", "set"},
	}
	if company != "" {
		filters = append(filters, []any{"company", "=", company})
	}
	q := ListQuery{
		Fields: []string{"name", "posting_date", "is_return", "company",
			"items.name as row", "items.idx as idx", "items.against_sales_order as against_sales_order",
			"items.so_detail as so_detail", "items.item_code as item_code", "items.warehouse as warehouse",
			"items.stock_qty as stock_qty"},
		Filters: filters,
		OrderBy: "`tabDelivery Note`.name asc, `tabDelivery Note Item`.idx asc",
	}
	rows, err := pages[wireDeliveryLine](ctx, c, "Delivery Note", q, pageSize, func(r wireDeliveryLine) string { return r.Row })
	if err != nil {
		return nil, fmt.Errorf("erp: delivered lines: %w", err)
	}
	out := make([]DeliveryLine, 0, len(rows))
	for _, r := range rows {
		out = append(out, DeliveryLine{DeliveryNote: r.Name, PostingDate: r.PostingDate, IsReturn: r.IsReturn.bool(),
			Company: r.Company, Row: r.Row, SalesOrder: r.SalesOrder, SOLine: r.SOLine, ItemCode: r.ItemCode,
			Warehouse: r.Warehouse, StockQty: r.StockQty.float()})
	}
	return out, nil
}

type wireDeliveryLine struct {
	Name        string `json:"name"`
	PostingDate string `json:"posting_date"`
	IsReturn    num    `json:"is_return"`
	Company     string `json:"company"`
	Row         string `json:"row"`
	Idx         num    `json:"idx"`
	SalesOrder  string `json:"against_sales_order"`
	SOLine      string `json:"so_detail"`
	ItemCode    string `json:"item_code"`
	Warehouse   string `json:"warehouse"`
	StockQty    num    `json:"stock_qty"`
}

// PromisedLine is a Sales Order line with what OTP promised for it.
type PromisedLine struct {
	SalesOrder       string
	Company          string
	SetWarehouse     string
	PromiseDate      string // the order's latest
	FirstPromiseDate string
	Confidence       string // the order's
	Explanation      string
	Name             string // row name
	Idx              int
	ItemCode         string
	ItemGroup        string
	Warehouse        string
	StockQty         float64
	LinePromiseDate  string
	LineConfidence   string
}

// PromisedLines reads every line of the named Sales Orders, whatever their
// status, with OTP's fields, ordered by order and line.
func (c *Client) PromisedLines(ctx context.Context, orders []string, pageSize int) ([]PromisedLine, error) {
	if len(orders) == 0 {
		return nil, nil
	}
	q := ListQuery{
		Fields: []string{"name", "company", "set_warehouse",
			FieldPromiseDate, FieldFirstPromiseDate, FieldConfidence, FieldExplanation,
			"items.name as so_detail", "items.idx as idx", "items.item_code as item_code",
			"items.item_group as item_group", "items.warehouse as warehouse", "items.stock_qty as stock_qty",
			"items." + FieldLinePromiseDate + " as line_promise_date",
			"items." + FieldLineConfidence + " as line_confidence"},
		Filters: []any{[]any{"name", "in", orders}},
		OrderBy: "`tabSales Order`.name asc, `tabSales Order Item`.idx asc",
	}
	rows, err := pages[wirePromisedLine](ctx, c, "Sales Order", q, pageSize, func(r wirePromisedLine) string { return r.Line })
	if err != nil {
		return nil, fmt.Errorf("erp: promised lines: %w", err)
	}
	out := make([]PromisedLine, 0, len(rows))
	for _, r := range rows {
		out = append(out, PromisedLine{SalesOrder: r.Name, Company: r.Company, SetWarehouse: r.SetWarehouse,
			PromiseDate: r.PromiseDate, FirstPromiseDate: r.FirstPromiseDate, Confidence: r.Confidence,
			Explanation: r.Explanation, Name: r.Line, Idx: r.Idx.int(), ItemCode: r.ItemCode, ItemGroup: r.ItemGroup,
			Warehouse: r.Warehouse, StockQty: r.StockQty.float(), LinePromiseDate: r.LinePromiseDate,
			LineConfidence: r.LineConfidence})
	}
	slices.SortStableFunc(out, func(a, b PromisedLine) int {
		return cmp.Or(cmp.Compare(a.SalesOrder, b.SalesOrder), cmp.Compare(a.Idx, b.Idx))
	})
	return out, nil
}

type wirePromisedLine struct {
	Name             string `json:"name"`
	Company          string `json:"company"`
	SetWarehouse     string `json:"set_warehouse"`
	PromiseDate      string `json:"custom_otp_promise_date"`
	FirstPromiseDate string `json:"custom_otp_first_promise_date"`
	Confidence       string `json:"custom_otp_confidence"`
	Explanation      string `json:"custom_otp_explanation"`
	Line             string `json:"so_detail"`
	Idx              num    `json:"idx"`
	ItemCode         string `json:"item_code"`
	ItemGroup        string `json:"item_group"`
	Warehouse        string `json:"warehouse"`
	StockQty         num    `json:"stock_qty"`
	LinePromiseDate  string `json:"line_promise_date"`
	LineConfidence   string `json:"line_confidence"`
}

// ReceiptLine is one row of a submitted Purchase Receipt against a
// Purchase Order line.
type ReceiptLine struct {
	PurchaseReceipt string
	Supplier        string
	PostingDate     string
	Row             string
	PurchaseOrder   string
	POLine          string // purchase_order_item
	ItemCode        string
}

// ReceivedLines reads the rows of submitted Purchase Receipts (returns left
// out) posted in [from, to] against a Purchase Order line, of company when
// set, ordered by receipt and row.
func (c *Client) ReceivedLines(ctx context.Context, from, to, company string, pageSize int) ([]ReceiptLine, error) {
	filters := []any{
		[]any{"docstatus", "=", 1},
		[]any{"is_return", "=", 0},
		[]any{"posting_date", "between", []string{from, to}},
		[]any{"Purchase Receipt Item", "purchase_order_item", "is", "set"},
	}
	if company != "" {
		filters = append(filters, []any{"company", "=", company})
	}
	q := ListQuery{
		Fields: []string{"name", "supplier", "posting_date", "items.name as row", "items.idx as idx",
			"items.purchase_order as purchase_order", "items.purchase_order_item as purchase_order_item",
			"items.item_code as item_code"},
		Filters: filters,
		OrderBy: "`tabPurchase Receipt`.name asc, `tabPurchase Receipt Item`.idx asc",
	}
	rows, err := pages[wireReceiptLine](ctx, c, "Purchase Receipt", q, pageSize, func(r wireReceiptLine) string { return r.Row })
	if err != nil {
		return nil, fmt.Errorf("erp: received lines: %w", err)
	}
	out := make([]ReceiptLine, 0, len(rows))
	for _, r := range rows {
		out = append(out, ReceiptLine{PurchaseReceipt: r.Name, Supplier: r.Supplier, PostingDate: r.PostingDate,
			Row: r.Row, PurchaseOrder: r.PurchaseOrder, POLine: r.POLine, ItemCode: r.ItemCode})
	}
	return out, nil
}

type wireReceiptLine struct {
	Name          string `json:"name"`
	Supplier      string `json:"supplier"`
	PostingDate   string `json:"posting_date"`
	Row           string `json:"row"`
	Idx           num    `json:"idx"`
	PurchaseOrder string `json:"purchase_order"`
	POLine        string `json:"purchase_order_item"`
	ItemCode      string `json:"item_code"`
}

// OrderedLine is a Purchase Order line's dates, whatever the order's status.
type OrderedLine struct {
	PurchaseOrder        string
	Supplier             string
	TransactionDate      string
	Name                 string // row name
	ScheduleDate         string
	ExpectedDeliveryDate string
}

// PurchaseOrderLinesOf reads every line of the named submitted Purchase
// Orders with its dates.
func (c *Client) PurchaseOrderLinesOf(ctx context.Context, orders []string, pageSize int) ([]OrderedLine, error) {
	if len(orders) == 0 {
		return nil, nil
	}
	q := ListQuery{
		Fields: []string{"name", "supplier", "transaction_date", "items.name as po_detail", "items.idx as idx",
			"items.schedule_date as schedule_date", "items.expected_delivery_date as expected_delivery_date"},
		Filters: []any{[]any{"name", "in", orders}, []any{"docstatus", "=", 1}},
		OrderBy: "`tabPurchase Order`.name asc, `tabPurchase Order Item`.idx asc",
	}
	rows, err := pages[wireOrderedLine](ctx, c, "Purchase Order", q, pageSize, func(r wireOrderedLine) string { return r.Line })
	if err != nil {
		return nil, fmt.Errorf("erp: purchase order lines: %w", err)
	}
	out := make([]OrderedLine, 0, len(rows))
	for _, r := range rows {
		out = append(out, OrderedLine{PurchaseOrder: r.Name, Supplier: r.Supplier, TransactionDate: r.TransactionDate,
			Name: r.Line, ScheduleDate: r.ScheduleDate, ExpectedDeliveryDate: r.ExpectedDeliveryDate})
	}
	return out, nil
}

type wireOrderedLine struct {
	Name                 string `json:"name"`
	Supplier             string `json:"supplier"`
	TransactionDate      string `json:"transaction_date"`
	Line                 string `json:"po_detail"`
	Idx                  num    `json:"idx"`
	ScheduleDate         string `json:"schedule_date"`
	ExpectedDeliveryDate string `json:"expected_delivery_date"`
}

// PromiseCommentCounts counts, per named Sales Order, the timeline comments
// owner (OTP's API user) added with a promise: OTP adds one each time an
// order's promise date or confidence changes, the first promise included
// (docs/promise.md, Propagation).
func (c *Client) PromiseCommentCounts(ctx context.Context, orders []string, owner string, pageSize int) (map[string]int, error) {
	counts := map[string]int{}
	if len(orders) == 0 {
		return counts, nil
	}
	q := ListQuery{
		Fields: []string{"name", "reference_name"},
		Filters: []any{
			[]any{"reference_doctype", "=", "Sales Order"},
			[]any{"reference_name", "in", orders},
			[]any{"comment_type", "=", "Comment"},
			[]any{"owner", "=", owner},
			[]any{"content", "like", "Promise:%"},
		},
		OrderBy: "name asc",
	}
	rows, err := pages[wireCommentRef](ctx, c, "Comment", q, pageSize, func(r wireCommentRef) string { return r.Name })
	if err != nil {
		return nil, fmt.Errorf("erp: promise comments: %w", err)
	}
	for _, r := range rows {
		counts[r.ReferenceName]++
	}
	return counts, nil
}

type wireCommentRef struct {
	Name          string `json:"name"`
	ReferenceName string `json:"reference_name"`
}

// pages reads q in pages of pageSize rows until a short page, dropping a
// row whose key was seen already (a write between two pages can shift a
// row across the boundary).
func pages[T any](ctx context.Context, c *Client, doctype string, q ListQuery, pageSize int, key func(T) string) ([]T, error) {
	if pageSize <= 0 {
		pageSize = DefaultHistoryPage
	}
	q.Limit, q.Start = pageSize, 0
	var out []T
	seen := map[string]bool{}
	for {
		var rows []T
		if err := c.list(ctx, doctype, q, &rows); err != nil {
			return nil, err
		}
		for _, r := range rows {
			k := key(r)
			if k == "" || seen[k] {
				continue
			}
			seen[k] = true
			out = append(out, r)
		}
		if len(rows) < pageSize {
			return out, nil
		}
		q.Start += pageSize
	}
}
