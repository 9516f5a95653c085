package erp

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/sync/errgroup"
)

// SalesOrder reads one Sales Order with its lines (GET /api/resource/Sales Order/{name}).
// Raw keeps the document exactly as returned, for UpdateSalesOrder.
func (c *Client) SalesOrder(ctx context.Context, name string) (*SalesOrder, error) {
	k := docCall("GET", "Sales Order", name)
	k.read = true
	body, err := c.do(ctx, k)
	if err != nil {
		return nil, err
	}
	return decodeSalesOrder(k, body)
}

// decodeSalesOrder decodes a Sales Order body (as GET and PUT return it,
// docs/erpnext.md#reading-one-document, #sales-order, #sales-order-item) once, into the map kept as Raw, and reads the typed
// fields from that map: decoding it a second time into a struct cost as much
// again (a third of a 100-line promise's CPU).
func decodeSalesOrder(k call, body []byte) (*SalesOrder, error) {
	// Data is `any`, not a map: encoding/json decodes an untyped object
	// without reflection, which allocates less.
	var env struct {
		Data any `json:"data"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		return nil, unexpected(k, fmt.Sprintf("cannot decode a Sales Order from %q", snippet(body)), err)
	}
	raw, ok := env.Data.(map[string]any)
	if !ok && env.Data != nil {
		return nil, unexpected(k, fmt.Sprintf("\"data\" is %T, not a Sales Order", env.Data), nil)
	}
	r := docReader{m: raw}
	so := &SalesOrder{
		Name:             r.str("name"),
		Customer:         r.str("customer"),
		CustomerName:     r.str("customer_name"),
		Company:          r.str("company"),
		Status:           r.str("status"),
		DocStatus:        r.num("docstatus").int(),
		TransactionDate:  r.str("transaction_date"),
		DeliveryDate:     r.str("delivery_date"),
		Creation:         r.str("creation"),
		SetWarehouse:     r.str("set_warehouse"),
		PerDelivered:     r.num("per_delivered").float(),
		GrandTotal:       r.num("grand_total").float(),
		Modified:         r.str("modified"),
		ModifiedBy:       r.str("modified_by"),
		PromiseDate:      r.str(FieldPromiseDate),
		Confidence:       r.str(FieldConfidence),
		PromiseStatus:    r.str(FieldPromiseStatus),
		FirstPromiseDate: r.str(FieldFirstPromiseDate),
		PromisedAt:       r.str(FieldPromisedAt),
		Explanation:      r.str(FieldExplanation),
		Fingerprint:      r.str(FieldFingerprint),
		Commented:        r.str(FieldCommented),
		Raw:              raw,
	}
	rows := r.rows("items")
	so.Items = make([]SalesOrderItem, 0, len(rows))
	for _, row := range rows {
		ir := docReader{m: row, field: "items."}
		so.Items = append(so.Items, SalesOrderItem{
			Name:                ir.str("name"),
			Idx:                 ir.num("idx").int(),
			ItemCode:            ir.str("item_code"),
			ItemName:            ir.str("item_name"),
			Warehouse:           ir.str("warehouse"),
			Qty:                 ir.num("qty").float(),
			UOM:                 ir.str("uom"),
			StockUOM:            ir.str("stock_uom"),
			ConversionFactor:    ir.num("conversion_factor").float(),
			StockQty:            ir.num("stock_qty").float(),
			DeliveredQty:        ir.num("delivered_qty").float(),
			DeliveryDate:        ir.str("delivery_date"),
			DeliveredBySupplier: ir.num("delivered_by_supplier").bool(),
			LinePromiseDate:     ir.str(FieldLinePromiseDate),
			LineConfidence:      ir.str(FieldLineConfidence),
		})
		if ir.err != nil && r.err == nil {
			r.err = ir.err
		}
	}
	if r.err != nil {
		return nil, unexpected(k, "cannot decode \"data\"", r.err)
	}
	if raw == nil || so.Name == "" {
		return nil, unexpected(k, "response has no Sales Order", nil)
	}
	slices.SortStableFunc(so.Items, func(a, b SalesOrderItem) int { return cmp.Compare(a.Idx, b.Idx) })
	return so, nil
}

// docReader reads typed fields from a document decoded as a map, with the
// leniency of num for numbers; the first field of the wrong type is kept in
// err. A missing or null field is the zero value (Frappe omits nulls, docs/erpnext.md#reading-one-document).
type docReader struct {
	m     map[string]any
	field string // prefix for error messages, e.g. "items."
	err   error
}

func (r *docReader) fail(key string, v any, want string) {
	if r.err == nil {
		r.err = fmt.Errorf("erp: field %s%s is %T, not %s", r.field, key, v, want)
	}
}

func (r *docReader) str(key string) string {
	switch v := r.m[key].(type) {
	case nil:
		return ""
	case string:
		return v
	default:
		r.fail(key, v, "a string")
		return ""
	}
}

func (r *docReader) num(key string) num {
	switch v := r.m[key].(type) {
	case nil:
		return 0
	case float64:
		return num(v)
	case bool:
		if v {
			return 1
		}
		return 0
	case string:
		s := strings.TrimSpace(v)
		if s == "" {
			return 0
		}
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			if r.err == nil {
				r.err = fmt.Errorf("erp: field %s%s: number %q: %w", r.field, key, v, err)
			}
			return 0
		}
		return num(f)
	default:
		r.fail(key, v, "a number")
		return 0
	}
}

func (r *docReader) rows(key string) []map[string]any {
	switch v := r.m[key].(type) {
	case nil:
		return nil
	case []any:
		rows := make([]map[string]any, 0, len(v))
		for i, e := range v {
			row, ok := e.(map[string]any)
			if !ok {
				r.fail(fmt.Sprintf("%s[%d]", key, i), e, "an object")
				return nil
			}
			rows = append(rows, row)
		}
		return rows
	default:
		r.fail(key, v, "a list")
		return nil
	}
}

// binFields are the Bin columns of docs/erpnext.md#bin, as docs/erpnext.md#the-rest-calls-of-one-promise lists them.
var binFields = []string{
	"item_code", "warehouse", "actual_qty", "reserved_qty", "ordered_qty", "indented_qty", "planned_qty",
	"projected_qty", "reserved_qty_for_production", "reserved_qty_for_sub_contract",
	"reserved_qty_for_production_plan", "reserved_stock",
}

type wireBin struct {
	ItemCode                     string `json:"item_code"`
	Warehouse                    string `json:"warehouse"`
	ActualQty                    num    `json:"actual_qty"`
	ReservedQty                  num    `json:"reserved_qty"`
	OrderedQty                   num    `json:"ordered_qty"`
	IndentedQty                  num    `json:"indented_qty"`
	PlannedQty                   num    `json:"planned_qty"`
	ProjectedQty                 num    `json:"projected_qty"`
	ReservedQtyForProduction     num    `json:"reserved_qty_for_production"`
	ReservedQtyForSubContract    num    `json:"reserved_qty_for_sub_contract"`
	ReservedQtyForProductionPlan num    `json:"reserved_qty_for_production_plan"`
	ReservedStock                num    `json:"reserved_stock"`
}

// Bins reads the Bins of items in warehouses (nil = every warehouse), in one
// request, ordered by item then warehouse. Items without a Bin in a
// warehouse have no row: they have never had stock there (docs/erpnext.md#bin).
func (c *Client) Bins(ctx context.Context, items, warehouses []string) ([]Bin, error) {
	if len(items) == 0 {
		return nil, nil
	}
	filters := []any{[]any{"item_code", "in", items}}
	if warehouses != nil {
		if len(warehouses) == 0 {
			return nil, nil
		}
		filters = append(filters, []any{"warehouse", "in", warehouses})
	}
	var rows []wireBin
	if err := c.list(ctx, "Bin", ListQuery{Fields: binFields, Filters: filters}, &rows); err != nil {
		return nil, err
	}
	bins := make([]Bin, 0, len(rows))
	for _, r := range rows {
		bins = append(bins, Bin{
			ItemCode:                     r.ItemCode,
			Warehouse:                    r.Warehouse,
			ActualQty:                    r.ActualQty.float(),
			ReservedQty:                  r.ReservedQty.float(),
			OrderedQty:                   r.OrderedQty.float(),
			IndentedQty:                  r.IndentedQty.float(),
			PlannedQty:                   r.PlannedQty.float(),
			ProjectedQty:                 r.ProjectedQty.float(),
			ReservedQtyForProduction:     r.ReservedQtyForProduction.float(),
			ReservedQtyForSubContract:    r.ReservedQtyForSubContract.float(),
			ReservedQtyForProductionPlan: r.ReservedQtyForProductionPlan.float(),
			ReservedStock:                r.ReservedStock.float(),
		})
	}
	slices.SortFunc(bins, func(a, b Bin) int {
		return cmp.Or(cmp.Compare(a.ItemCode, b.ItemCode), cmp.Compare(a.Warehouse, b.Warehouse))
	})
	return bins, nil
}

type wirePOLine struct {
	PurchaseOrder        string `json:"name"`
	Status               string `json:"status"`
	Supplier             string `json:"supplier"`
	Line                 string `json:"po_detail"`
	Idx                  num    `json:"idx"`
	ItemCode             string `json:"item_code"`
	Warehouse            string `json:"warehouse"`
	Qty                  num    `json:"qty"`
	ReceivedQty          num    `json:"received_qty"`
	ConversionFactor     num    `json:"conversion_factor"`
	ScheduleDate         string `json:"schedule_date"`
	ExpectedDeliveryDate string `json:"expected_delivery_date"`
	DeliveredBySupplier  num    `json:"delivered_by_supplier"`
}

// OpenPurchaseOrderLines reads the lines for items of submitted Purchase
// Orders whose status is not Closed, Completed or Delivered (docs/promise.md;
// On Hold counts, as in ordered_qty, docs/erpnext.md#bin), with each parent's status, in one
// request: a parent-side list with child columns (docs/erpnext.md#child-tables). Fully received and
// drop-ship lines are included; the caller weighs them. Ordered by
// Purchase Order, then line.
func (c *Client) OpenPurchaseOrderLines(ctx context.Context, items []string) ([]PurchaseOrderLine, error) {
	if len(items) == 0 {
		return nil, nil
	}
	q := ListQuery{
		Fields: []string{
			"name", "status", "supplier",
			"items.name as po_detail", "items.idx as idx", "items.item_code as item_code",
			"items.warehouse as warehouse", "items.qty as qty", "items.received_qty as received_qty",
			"items.conversion_factor as conversion_factor", "items.schedule_date as schedule_date",
			"items.expected_delivery_date as expected_delivery_date",
			"items.delivered_by_supplier as delivered_by_supplier",
		},
		Filters: []any{
			[]any{"Purchase Order Item", "item_code", "in", items},
			[]any{"docstatus", "=", 1},
			[]any{"status", "not in", closedPurchaseOrderStatuses},
		},
	}
	var rows []wirePOLine
	if err := c.list(ctx, "Purchase Order", q, &rows); err != nil {
		return nil, err
	}
	slices.SortStableFunc(rows, func(a, b wirePOLine) int {
		return cmp.Or(cmp.Compare(a.PurchaseOrder, b.PurchaseOrder), cmp.Compare(a.Idx, b.Idx))
	})
	lines := make([]PurchaseOrderLine, 0, len(rows))
	for _, r := range rows {
		lines = append(lines, PurchaseOrderLine{
			PurchaseOrder:        r.PurchaseOrder,
			Status:               r.Status,
			Supplier:             r.Supplier,
			Name:                 r.Line,
			ItemCode:             r.ItemCode,
			Warehouse:            r.Warehouse,
			Qty:                  r.Qty.float(),
			ReceivedQty:          r.ReceivedQty.float(),
			ConversionFactor:     r.ConversionFactor.float(),
			ScheduleDate:         r.ScheduleDate,
			ExpectedDeliveryDate: r.ExpectedDeliveryDate,
			DeliveredBySupplier:  r.DeliveredBySupplier.bool(),
		})
	}
	return lines, nil
}

type wireSOLine struct {
	SalesOrder          string `json:"name"`
	Status              string `json:"status"`
	DocStatus           num    `json:"docstatus"`
	Creation            string `json:"creation"`
	Customer            string `json:"customer"`
	Company             string `json:"company"`
	OrderDeliveryDate   string `json:"order_delivery_date"`
	SetWarehouse        string `json:"set_warehouse"`
	Modified            string `json:"modified"`
	PromiseDate         string `json:"custom_otp_promise_date"`
	Confidence          string `json:"custom_otp_confidence"`
	PromiseStatus       string `json:"custom_otp_status"`
	Explanation         string `json:"custom_otp_explanation"`
	FirstPromiseDate    string `json:"custom_otp_first_promise_date"`
	Commented           string `json:"custom_otp_commented"`
	Line                string `json:"so_detail"`
	Idx                 num    `json:"idx"`
	ItemCode            string `json:"item_code"`
	Warehouse           string `json:"warehouse"`
	UOM                 string `json:"uom"`
	Qty                 num    `json:"qty"`
	StockQty            num    `json:"stock_qty"`
	ConversionFactor    num    `json:"conversion_factor"`
	DeliveredQty        num    `json:"delivered_qty"`
	DeliveryDate        string `json:"delivery_date"`
	DeliveredBySupplier num    `json:"delivered_by_supplier"`
	LinePromiseDate     string `json:"line_promise_date"`
	LineConfidence      string `json:"line_confidence"`
}

// DefaultBookPage is how many order lines one request of OpenOrderBook reads.
const DefaultBookPage = 5000

// OpenOrderBook reads every line of the open Sales Orders: drafts and
// submitted orders (docstatus 0 or 1) whose status is not Closed, On Hold or
// Completed, with the fields of each order the allocation needs and OTP's
// fields as they are now. It is a parent-side list with child columns,
// ordered by order and line, read in pages of pageSize rows (≤ 0 means
// DefaultBookPage): the number of requests grows only with the pages. A
// save between two pages can shift a row across the boundary; rows are
// de-duplicated by line, and the save's own webhook re-allocates anyway.
func (c *Client) OpenOrderBook(ctx context.Context, pageSize int) ([]SalesOrderLine, error) {
	if pageSize <= 0 {
		pageSize = DefaultBookPage
	}
	q := bookQuery(
		[]any{"docstatus", "in", []int{0, 1}},
		[]any{"status", "not in", closedSalesOrderStatuses},
	)
	rows, err := pages[wireSOLine](ctx, c, "Sales Order", q, pageSize, func(r wireSOLine) string { return r.Line })
	if err != nil {
		return nil, err
	}
	return bookLines(rows), nil
}

// OrderBookChanges reads, as OpenOrderBook does, the lines of every Sales
// Order modified at or after since (a `modified` as ERPNext writes it; ""
// for none) and of every order named in names, whatever their status now:
// a cancelled, closed or completed order is how the caller learns that it
// left the book (SalesOrderLine.InBook). The two lists, the first without
// the orders the second names, are read at once, each one request of at
// most limit rows; complete is false when either filled its limit, and the
// caller then reads the whole book instead.
func (c *Client) OrderBookChanges(ctx context.Context, since string, names []string, limit int) (lines []SalesOrderLine, complete bool, err error) {
	if limit <= 0 {
		limit = DefaultBookPage
	}
	var byModified, byName []wireSOLine
	g, gctx := errgroup.WithContext(ctx)
	read := func(dst *[]wireSOLine, filters ...[]any) {
		g.Go(func() error {
			q := bookQuery(filters...)
			q.Limit = limit
			return c.list(gctx, "Sales Order", q, dst)
		})
	}
	if since != "" {
		filters := [][]any{{"modified", ">=", since}}
		if len(names) > 0 {
			filters = append(filters, []any{"name", "not in", names})
		}
		read(&byModified, filters...)
	}
	if len(names) > 0 {
		read(&byName, []any{"name", "in", names})
	}
	if err := g.Wait(); err != nil {
		return nil, false, err
	}
	if len(byModified) >= limit || len(byName) >= limit {
		return nil, false, nil
	}
	return bookLines(append(byModified, byName...)), true, nil
}

// InBook reports whether the line's order is in the order book: a draft
// or a submitted order that still ships. OpenOrderBook asks ERPNext for
// these.
func (l SalesOrderLine) InBook() bool {
	return (l.DocStatus == 0 || l.DocStatus == 1) && SalesOrderOpen(l.Status)
}

// bookQuery is the order book's list with filters.
func bookQuery(filters ...[]any) ListQuery {
	q := ListQuery{
		Fields: []string{
			"name", "status", "docstatus", "creation", "customer", "company", "delivery_date as order_delivery_date",
			"set_warehouse", "modified",
			FieldPromiseDate, FieldConfidence, FieldPromiseStatus, FieldExplanation, FieldFirstPromiseDate,
			FieldCommented,
			"items.name as so_detail", "items.idx as idx", "items.item_code as item_code",
			"items.warehouse as warehouse", "items.uom as uom", "items.qty as qty", "items.stock_qty as stock_qty",
			"items.conversion_factor as conversion_factor", "items.delivered_qty as delivered_qty",
			"items.delivery_date as delivery_date", "items.delivered_by_supplier as delivered_by_supplier",
			"items." + FieldLinePromiseDate + " as line_promise_date",
			"items." + FieldLineConfidence + " as line_confidence",
		},
		OrderBy: "`tabSales Order`.name asc, `tabSales Order Item`.idx asc",
	}
	for _, f := range filters {
		q.Filters = append(q.Filters, f)
	}
	return q
}

// bookLines converts the book's rows, ordered by order and line.
func bookLines(rows []wireSOLine) []SalesOrderLine {
	lines := make([]SalesOrderLine, 0, len(rows))
	for _, r := range rows {
		lines = append(lines, SalesOrderLine{
			SalesOrder:          r.SalesOrder,
			Status:              r.Status,
			DocStatus:           r.DocStatus.int(),
			Creation:            r.Creation,
			Customer:            r.Customer,
			Company:             r.Company,
			OrderDeliveryDate:   r.OrderDeliveryDate,
			SetWarehouse:        r.SetWarehouse,
			Modified:            r.Modified,
			PromiseDate:         r.PromiseDate,
			Confidence:          r.Confidence,
			PromiseStatus:       r.PromiseStatus,
			Explanation:         r.Explanation,
			FirstPromiseDate:    r.FirstPromiseDate,
			Commented:           r.Commented,
			Name:                r.Line,
			Idx:                 r.Idx.int(),
			ItemCode:            r.ItemCode,
			Warehouse:           r.Warehouse,
			UOM:                 r.UOM,
			Qty:                 r.Qty.float(),
			StockQty:            r.StockQty.float(),
			ConversionFactor:    r.ConversionFactor.float(),
			DeliveredQty:        r.DeliveredQty.float(),
			DeliveryDate:        r.DeliveryDate,
			DeliveredBySupplier: r.DeliveredBySupplier.bool(),
			LinePromiseDate:     r.LinePromiseDate,
			LineConfidence:      r.LineConfidence,
		})
	}
	slices.SortStableFunc(lines, func(a, b SalesOrderLine) int {
		return cmp.Or(cmp.Compare(a.SalesOrder, b.SalesOrder), cmp.Compare(a.Idx, b.Idx))
	})
	return lines
}

type wireItem struct {
	Name         string `json:"name"`
	ItemName     string `json:"item_name"`
	StockUOM     string `json:"stock_uom"`
	IsStockItem  num    `json:"is_stock_item"`
	Disabled     num    `json:"disabled"`
	LeadTimeDays num    `json:"lead_time_days"`
}

// Items reads the Item masters of codes in one request, ordered by code.
// Unknown codes have no row.
func (c *Client) Items(ctx context.Context, codes []string) ([]Item, error) {
	if len(codes) == 0 {
		return nil, nil
	}
	q := ListQuery{
		Fields:  []string{"name", "item_name", "stock_uom", "is_stock_item", "disabled", "lead_time_days"},
		Filters: []any{[]any{"name", "in", codes}},
	}
	var rows []wireItem
	if err := c.list(ctx, "Item", q, &rows); err != nil {
		return nil, err
	}
	items := make([]Item, 0, len(rows))
	for _, r := range rows {
		items = append(items, Item{
			Code:         r.Name,
			Name:         r.ItemName,
			StockUOM:     r.StockUOM,
			IsStockItem:  r.IsStockItem.bool(),
			Disabled:     r.Disabled.bool(),
			LeadTimeDays: r.LeadTimeDays.int(),
		})
	}
	slices.SortFunc(items, func(a, b Item) int { return cmp.Compare(a.Code, b.Code) })
	return items, nil
}

type wireWarehouse struct {
	Name            string `json:"name"`
	Company         string `json:"company"`
	ParentWarehouse string `json:"parent_warehouse"`
	WarehouseType   string `json:"warehouse_type"`
	IsGroup         num    `json:"is_group"`
	Disabled        num    `json:"disabled"`
	IsRejected      num    `json:"is_rejected_warehouse"`
}

// Warehouses reads the warehouses of company ("" = every company), group,
// disabled and rejected-goods ones included, ordered by name.
func (c *Client) Warehouses(ctx context.Context, company string) ([]Warehouse, error) {
	q := ListQuery{Fields: []string{"name", "company", "parent_warehouse", "warehouse_type", "is_group", "disabled", "is_rejected_warehouse"}}
	if company != "" {
		q.Filters = []any{[]any{"company", "=", company}}
	}
	var rows []wireWarehouse
	if err := c.list(ctx, "Warehouse", q, &rows); err != nil {
		return nil, err
	}
	whs := make([]Warehouse, 0, len(rows))
	for _, r := range rows {
		whs = append(whs, Warehouse{
			Name:                r.Name,
			Company:             r.Company,
			ParentWarehouse:     r.ParentWarehouse,
			WarehouseType:       r.WarehouseType,
			IsGroup:             r.IsGroup.bool(),
			Disabled:            r.Disabled.bool(),
			IsRejectedWarehouse: r.IsRejected.bool(),
		})
	}
	slices.SortFunc(whs, func(a, b Warehouse) int { return cmp.Compare(a.Name, b.Name) })
	return whs, nil
}

// Companies reads the names of all companies, sorted.
func (c *Client) Companies(ctx context.Context) ([]string, error) {
	var rows []struct {
		Name string `json:"name"`
	}
	if err := c.list(ctx, "Company", ListQuery{Fields: []string{"name"}}, &rows); err != nil {
		return nil, err
	}
	names := make([]string, 0, len(rows))
	for _, r := range rows {
		names = append(names, r.Name)
	}
	slices.Sort(names)
	return names, nil
}

// CompanyHolidayList reads a company's default_holiday_list with
// frappe.client.get_value (docs/erpnext.md#updating-a-document, #item-warehouse-company-holiday-list): "" when unset, ErrNotFound when the
// company does not exist.
func (c *Client) CompanyHolidayList(ctx context.Context, company string) (string, error) {
	k := methodCall("GET", "frappe.client.get_value")
	k.target += " Company " + company
	k.read = true
	filters, _ := json.Marshal(map[string]string{"name": company})
	k.query = url.Values{
		"doctype":   {"Company"},
		"fieldname": {`["default_holiday_list"]`},
		"filters":   {string(filters)},
	}
	body, err := c.do(ctx, k)
	if err != nil {
		return "", err
	}
	var env struct {
		Message map[string]*string `json:"message"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		return "", unexpected(k, "cannot decode", err)
	}
	hl, ok := env.Message["default_holiday_list"]
	if !ok {
		// get_value answers {"message": {}} when no document matched (and
		// Frappe leaves out a null message altogether).
		return "", &Error{Kind: KindNotFound, Status: http.StatusOK, Method: k.method, Path: k.target,
			Message: "Company " + company + " not found"}
	}
	if hl == nil {
		return "", nil
	}
	return *hl, nil
}

type wireHolidayList struct {
	Name     string `json:"name"`
	FromDate string `json:"from_date"`
	ToDate   string `json:"to_date"`
	Holidays []struct {
		Date        string `json:"holiday_date"`
		Description string `json:"description"`
		WeeklyOff   num    `json:"weekly_off"`
	} `json:"holidays"`
}

// HolidayList reads a Holiday List with its rows, ordered by date. Its read
// permission is HR Manager only on a stock site (docs/erpnext.md#child-tables): expect ErrPermission
// when the API user lacks it.
func (c *Client) HolidayList(ctx context.Context, name string) (*HolidayList, error) {
	k := docCall("GET", "Holiday List", name)
	k.read = true
	body, err := c.do(ctx, k)
	if err != nil {
		return nil, err
	}
	var w wireHolidayList
	if err := decode(k, body, "data", &w); err != nil {
		return nil, err
	}
	hl := &HolidayList{Name: w.Name, FromDate: w.FromDate, ToDate: w.ToDate, Holidays: make([]Holiday, 0, len(w.Holidays))}
	for _, h := range w.Holidays {
		hl.Holidays = append(hl.Holidays, Holiday{Date: h.Date, Description: h.Description, WeeklyOff: h.WeeklyOff.bool()})
	}
	slices.SortStableFunc(hl.Holidays, func(a, b Holiday) int { return cmp.Compare(a.Date, b.Date) })
	return hl, nil
}

// SalesOrderQuery selects Sales Orders for GET /otp/sales-orders
// (docs/quote-api.md#the-earlier-otp).
type SalesOrderQuery struct {
	Limit    int // <= 0 means 20, the earlier OTP's default
	Offset   int
	Customer string
	Status   string
	FromDate string // transaction_date >= FromDate
	ToDate   string // transaction_date <= ToDate
	Search   string // name or customer contains Search
}

// SalesOrderSummary is one row of a Sales Order list.
type SalesOrderSummary struct {
	Name            string
	Customer        string
	CustomerName    string
	TransactionDate string
	DeliveryDate    string
	Status          string
	Modified        string
	// ModifiedBy is the user of the order's last save (modified_by): the
	// reconcile sweep skips orders whose last save was OTP's own write-back.
	ModifiedBy string
	DocStatus  int
	GrandTotal float64
}

var summaryFields = []string{
	"name", "customer", "customer_name", "transaction_date", "delivery_date", "status", "modified", "modified_by", "docstatus", "grand_total",
}

type wireSummary struct {
	Name            string `json:"name"`
	Customer        string `json:"customer"`
	CustomerName    string `json:"customer_name"`
	TransactionDate string `json:"transaction_date"`
	DeliveryDate    string `json:"delivery_date"`
	Status          string `json:"status"`
	Modified        string `json:"modified"`
	ModifiedBy      string `json:"modified_by"`
	DocStatus       num    `json:"docstatus"`
	GrandTotal      num    `json:"grand_total"`
}

func (c *Client) summaries(ctx context.Context, q ListQuery) ([]SalesOrderSummary, error) {
	q.Fields = summaryFields
	var rows []wireSummary
	if err := c.list(ctx, "Sales Order", q, &rows); err != nil {
		return nil, err
	}
	out := make([]SalesOrderSummary, 0, len(rows))
	for _, r := range rows {
		out = append(out, SalesOrderSummary{
			Name:            r.Name,
			Customer:        r.Customer,
			CustomerName:    r.CustomerName,
			TransactionDate: r.TransactionDate,
			DeliveryDate:    r.DeliveryDate,
			Status:          r.Status,
			Modified:        r.Modified,
			ModifiedBy:      r.ModifiedBy,
			DocStatus:       r.DocStatus.int(),
			GrandTotal:      r.GrandTotal.float(),
		})
	}
	return out, nil
}

// SalesOrders lists draft and submitted Sales Orders, newest transaction
// date first, as the earlier OTP's GET /otp/sales-orders did (docs/erpnext.md#queueing-and-deduplication), with a
// name tiebreak so that pages do not overlap.
func (c *Client) SalesOrders(ctx context.Context, q SalesOrderQuery) ([]SalesOrderSummary, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = 20
	}
	filters := []any{[]any{"docstatus", "in", []int{0, 1}}}
	if q.Status != "" {
		filters = append(filters, []any{"status", "=", q.Status})
	}
	if q.Customer != "" {
		filters = append(filters, []any{"customer", "=", q.Customer})
	}
	if q.FromDate != "" {
		filters = append(filters, []any{"transaction_date", ">=", q.FromDate})
	}
	if q.ToDate != "" {
		filters = append(filters, []any{"transaction_date", "<=", q.ToDate})
	}
	lq := ListQuery{Filters: filters, OrderBy: "transaction_date desc, name desc", Limit: limit, Start: max(q.Offset, 0)}
	if q.Search != "" {
		like := "%" + q.Search + "%"
		lq.OrFilters = []any{[]any{"name", "like", like}, []any{"customer", "like", like}}
	}
	return c.summaries(ctx, lq)
}

// SalesOrdersModifiedSince lists Sales Orders still worth promising (draft or
// submitted, status not Closed, Completed, Cancelled or On Hold) that come
// after the keyset cursor (since, afterName) in the order (modified, name):
// modified after since, or modified exactly at since with a name after
// afterName. since "" means any time; afterName "" with a since means every
// order modified at since or later. Oldest modification first, then by name,
// at most limit (0 = all). For the reconcile sweep: pass the last row's
// Modified and Name as the next cursor. A strict "modified > since" would
// skip for ever the orders sharing the boundary's exact `modified` that did
// not fit in the page; the keyset resumes inside them.
//
// It is one request: Frappe ANDs filters with the OR of or_filters
// (docs/erpnext.md#lists-and-filters), so "modified >= since AND (modified > since
// OR name > afterName)" is the keyset condition. Names compare in the
// database's collation, the same one that orders them.
func (c *Client) SalesOrdersModifiedSince(ctx context.Context, since, afterName string, limit int) ([]SalesOrderSummary, error) {
	q := ListQuery{
		Filters: []any{
			[]any{"docstatus", "in", []int{0, 1}},
			[]any{"status", "not in", unsweptSalesOrderStatuses},
		},
		OrderBy: "modified asc, name asc",
		Limit:   max(limit, 0),
	}
	if since != "" {
		q.Filters = append(q.Filters, []any{"modified", ">=", since})
		if afterName != "" {
			q.OrFilters = []any{[]any{"modified", ">", since}, []any{"name", ">", afterName}}
		}
	}
	return c.summaries(ctx, q)
}

// LoggedUser returns the API user's name (frappe.auth.get_logged_user): a
// credentials check that fails with ErrAuth on a wrong key or secret.
func (c *Client) LoggedUser(ctx context.Context) (string, error) {
	k := methodCall("GET", "frappe.auth.get_logged_user")
	k.read = true
	body, err := c.do(ctx, k)
	if err != nil {
		return "", err
	}
	var user string
	if err := decode(k, body, "message", &user); err != nil {
		return "", err
	}
	return user, nil
}

// Ping checks that ERPNext answers (GET /api/method/ping, guest allowed). It
// makes a single attempt, not retried, for health checks.
func (c *Client) Ping(ctx context.Context) error {
	k := methodCall("GET", "ping")
	body, err := c.do(ctx, k)
	if err != nil {
		return err
	}
	var pong string
	if err := decode(k, body, "message", &pong); err != nil {
		return err
	}
	if pong != "pong" {
		return unexpected(k, "ping answered "+strconv.Quote(pong), nil)
	}
	return nil
}
