package planner

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/sync/errgroup"

	"github.com/erpnext-otp/otp/erp"
	"github.com/erpnext-otp/otp/promise"
)

// Warnings added to Supply when a read of other documents is refused: the
// promise is then LOW confidence and CANNOT_PROMISE_RELIABLY, as the earlier
// OTP did for Purchase Order permission errors (otp-v1-reference.md §2.5).
const (
	WarningPurchaseOrders = "Purchase Order: permission denied - incoming supply unknown"
	WarningSalesOrders    = "Sales Order: permission denied - competing demand unknown"
)

// qtyEpsilon absorbs float noise in stock-UOM conversions.
const qtyEpsilon = 1e-9

// Quote is a promise request that is not a saved Sales Order.
type Quote struct {
	Lines       []QuoteLine
	DesiredDate promise.Date
	Mode        promise.DesiredDateMode
	// Rules for this quote; the zero Rules (nil Location) means the configured rules.
	Rules promise.Rules
}

// QuoteLine is one requested line; Qty is in the item's stock UOM and an
// empty Warehouse means Config.DefaultWarehouse.
type QuoteLine struct {
	ItemCode  string
	Warehouse string
	Qty       float64
}

// ForOrder gathers the inputs for promising so. Each line asks for its stock
// quantity not yet delivered (stock_qty − delivered_qty × conversion_factor,
// both columns as ERPNext keeps them: erpnext-reference.md §3.2), from the
// line's warehouse, else the order's set_warehouse, else
// Config.DefaultWarehouse. Fully delivered lines are left out, and so are
// drop-ship lines (delivered_by_supplier): the supplier ships them, so our
// stock and purchase orders say nothing about their date. An order with no
// line left gives ErrNothingToPromise. The order's delivery_date is the
// customer's date, as latest acceptable: it reports lateness, never moves
// the promise.
func (p *Planner) ForOrder(ctx context.Context, so *erp.SalesOrder) (Inputs, error) {
	order := promise.Order{Name: so.Name}
	if d, err := promise.ParseDate(so.DeliveryDate); err == nil {
		order.DesiredDate = d
		order.DesiredDateMode = promise.LatestAcceptable
	}
	for _, it := range so.Items {
		qty := remainingStockQty(it)
		if qty <= qtyEpsilon || it.DeliveredBySupplier {
			continue
		}
		order.Lines = append(order.Lines, promise.Line{
			ID:        it.Name,
			ItemCode:  it.ItemCode,
			Warehouse: firstNonEmpty(it.Warehouse, so.SetWarehouse, p.cfg.DefaultWarehouse),
			Qty:       qty,
		})
	}
	if len(order.Lines) == 0 {
		return Inputs{}, fmt.Errorf("planner: %s: %w", so.Name, ErrNothingToPromise)
	}
	company := firstNonEmpty(p.cfg.Company, so.Company)
	in, _, err := p.gather(ctx, company, order, p.cfg.Rules)
	if err != nil {
		return Inputs{}, fmt.Errorf("planner: inputs for %s: %w", so.Name, err)
	}
	return in, nil
}

// ForQuote gathers the inputs for a quote. Item codes and warehouses are
// resolved to the names ERPNext keeps, without case as its database compares
// names ("sku-001" is the item "SKU-001"), and the returned Inputs (and so the
// plan) carry those canonical names. An item code or warehouse that ERPNext
// does not have gives a *NotFoundError naming it as the quote typed it.
func (p *Planner) ForQuote(ctx context.Context, q Quote) (Inputs, error) {
	order := promise.Order{DesiredDate: q.DesiredDate}
	if !q.DesiredDate.IsZero() {
		order.DesiredDateMode = q.Mode
	}
	for i, l := range q.Lines {
		order.Lines = append(order.Lines, promise.Line{
			ID:        strconv.Itoa(i + 1),
			ItemCode:  l.ItemCode,
			Warehouse: firstNonEmpty(l.Warehouse, p.cfg.DefaultWarehouse),
			Qty:       l.Qty,
		})
	}
	if len(order.Lines) == 0 {
		return Inputs{}, fmt.Errorf("planner: quote: %w", ErrNothingToPromise)
	}
	rules := q.Rules
	if rules.Location == nil {
		rules = p.cfg.Rules
	}
	typed := slices.Clone(order.Lines)
	in, s, err := p.gather(ctx, p.cfg.Company, order, rules)
	if err != nil {
		return Inputs{}, fmt.Errorf("planner: quote: %w", err)
	}
	for i, l := range in.Order.Lines {
		if _, ok := in.Supply.Items[l.ItemCode]; !ok {
			return Inputs{}, &NotFoundError{Kind: kindItem, Name: typed[i].ItemCode}
		}
		if s.known != nil && !s.known[l.Warehouse] {
			return Inputs{}, &NotFoundError{Kind: kindWarehouse, Name: typed[i].Warehouse}
		}
	}
	return in, nil
}

// gather reads supply, demand, items and the company's calendar for order,
// all at once: one request each, plus the cached site reads.
func (p *Planner) gather(ctx context.Context, company string, order promise.Order, rules promise.Rules) (Inputs, *site, error) {
	now := p.now()
	today := promise.DateOf(now.In(rules.Location))
	items := distinctItems(order.Lines)

	var (
		bins    []erp.Bin
		poLines []erp.PurchaseOrderLine
		soLines []erp.SalesOrderLine
		masters []erp.Item
		st      *site
		warn    [2]string
	)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() (err error) {
		// All warehouses: the engine offers truthful alternate warehouses.
		bins, err = p.r.Bins(gctx, items, nil)
		return wrap(err, "bins")
	})
	g.Go(func() (err error) {
		poLines, err = p.r.OpenPurchaseOrderLines(gctx, items)
		if isPermission(err) {
			p.warnOnce(ctx, "purchase-orders", "planner: purchase orders not readable; promises are LOW", "err", err)
			warn[0] = WarningPurchaseOrders
			return nil
		}
		return wrap(err, "open purchase order lines")
	})
	g.Go(func() (err error) {
		soLines, err = p.r.OpenSalesOrderLines(gctx, items)
		if isPermission(err) {
			p.warnOnce(ctx, "sales-orders", "planner: sales orders not readable; promises are LOW", "err", err)
			warn[1] = WarningSalesOrders
			return nil
		}
		return wrap(err, "open sales order lines")
	})
	g.Go(func() (err error) {
		masters, err = p.r.Items(gctx, items)
		return wrap(err, "items")
	})
	g.Go(func() (err error) {
		st, err = p.site(gctx, company)
		return err
	})
	if err := g.Wait(); err != nil {
		return Inputs{}, nil, err
	}

	supply := promise.Supply{Items: make(map[string]promise.Item, len(masters))}
	for _, b := range bins {
		supply.Stock = append(supply.Stock, promise.Stock{
			ItemCode:               b.ItemCode,
			Warehouse:              b.Warehouse,
			ActualQty:              b.ActualQty,
			ReservedForProduction:  b.ReservedQtyForProduction,
			ReservedForSubcontract: b.ReservedQtyForSubContract,
		})
	}
	for _, l := range poLines {
		if r, ok := receipt(l); ok {
			supply.Receipts = append(supply.Receipts, r)
		}
	}
	for _, l := range soLines {
		if d, ok := demand(l, order.Name, today); ok {
			supply.Demand = append(supply.Demand, d)
		}
	}
	for _, it := range masters {
		supply.Items[it.Code] = promise.Item{
			Code:         it.Code,
			IsStockItem:  it.IsStockItem,
			LeadTimeDays: it.LeadTimeDays,
			Disabled:     it.Disabled,
		}
	}
	for _, w := range warn {
		if w != "" {
			supply.Warnings = append(supply.Warnings, w)
		}
	}
	supply.ShippingWarehouses = st.shipping
	sortSupply(&supply)
	order.Lines = canonicalLines(order.Lines, supply, st)

	return Inputs{
		Now:      now,
		Order:    order,
		Supply:   supply,
		Calendar: st.calendar,
		Rules:    rules,
	}, st, nil
}

// canonicalLines returns lines with their item codes and warehouses as
// ERPNext names them. ERPNext's MariaDB collation compares names without
// case, so the "in" reads already matched "sku-001" to the item "SKU-001"
// and answered with "SKU-001"; the engine matches names exactly, so the lines
// must use the same spelling. Items resolve through the Item masters read;
// warehouses through the company's warehouses, or, when those could not be
// read, through the warehouses of the supply rows read. A name that resolves
// to nothing is left as given. lines is not modified.
func canonicalLines(lines []promise.Line, supply promise.Supply, st *site) []promise.Line {
	items := foldedNames{}
	for code := range supply.Items {
		items.add(code)
	}
	whs := foldedNames{}
	if st.known != nil {
		for w := range st.known {
			whs.add(w)
		}
	} else {
		for _, r := range supply.Stock {
			whs.add(r.Warehouse)
		}
		for _, r := range supply.Receipts {
			whs.add(r.Warehouse)
		}
		for _, r := range supply.Demand {
			whs.add(r.Warehouse)
		}
	}
	out := slices.Clone(lines)
	for i := range out {
		out[i].ItemCode = items.resolve(out[i].ItemCode)
		out[i].Warehouse = whs.resolve(out[i].Warehouse)
	}
	return out
}

// foldedNames maps names folded to lower case to the name ERPNext keeps. Two
// names that fold alike cannot both exist: the collation makes them one key.
type foldedNames map[string]string

func (f foldedNames) add(name string) {
	if name != "" {
		f[strings.ToLower(name)] = name
	}
}

// resolve returns ERPNext's spelling of name, or name when there is none.
func (f foldedNames) resolve(name string) string {
	if c, ok := f[strings.ToLower(name)]; ok {
		return c
	}
	return name
}

// closedPurchaseOrder are the Purchase Order statuses with nothing more to
// receive (DESIGN.md §5.1; stock_balance.py counts the same as ordered_qty).
var closedPurchaseOrder = map[string]bool{"Closed": true, "Completed": true, "Delivered": true, "Cancelled": true, "Draft": true}

// receipt turns an open Purchase Order line into an expected arrival. It
// skips drop-ship lines (they never enter our stock), lines with nothing left
// to receive, and lines with no date. An overdue date is passed through: the
// engine counts it as arriving after today, at LOW confidence.
func receipt(l erp.PurchaseOrderLine) (promise.Receipt, bool) {
	if l.DeliveredBySupplier || closedPurchaseOrder[l.Status] {
		return promise.Receipt{}, false
	}
	qty := roundQty((l.Qty - l.ReceivedQty) * factor(l.ConversionFactor))
	if qty <= qtyEpsilon {
		return promise.Receipt{}, false
	}
	date, err := promise.ParseDate(firstNonEmpty(l.ExpectedDeliveryDate, l.ScheduleDate))
	if err != nil {
		return promise.Receipt{}, false
	}
	return promise.Receipt{ItemCode: l.ItemCode, Warehouse: l.Warehouse, Qty: qty, Date: date, PurchaseOrder: l.PurchaseOrder}, true
}

// closedSalesOrder are the statuses of orders that reserve nothing
// (DESIGN.md §5.1; stock_balance.py's reserved_qty also skips On Hold and Closed).
var closedSalesOrder = map[string]bool{"Closed": true, "On Hold": true, "Completed": true, "Cancelled": true, "Draft": true}

// demand turns another order's open line into competing demand due on its
// delivery date (today when it has none). The order being promised and
// drop-ship lines never compete.
func demand(l erp.SalesOrderLine, self string, today promise.Date) (promise.Demand, bool) {
	if l.SalesOrder == self || l.DeliveredBySupplier || closedSalesOrder[l.Status] {
		return promise.Demand{}, false
	}
	qty := roundQty((l.Qty - l.DeliveredQty) * factor(l.ConversionFactor))
	if qty <= qtyEpsilon {
		return promise.Demand{}, false
	}
	due, err := promise.ParseDate(l.DeliveryDate)
	if err != nil {
		due = today
	}
	return promise.Demand{ItemCode: l.ItemCode, Warehouse: l.Warehouse, Qty: qty, Due: due, SalesOrder: l.SalesOrder}, true
}

// remainingStockQty is a line's stock quantity not yet delivered, ≥ 0.
func remainingStockQty(it erp.SalesOrderItem) float64 {
	cf := it.ConversionFactor
	if cf <= 0 && it.Qty > 0 {
		cf = it.StockQty / it.Qty
	}
	return max(0, roundQty(it.StockQty-it.DeliveredQty*factor(cf)))
}

// factor is a conversion factor, 1 when ERPNext left it unset.
func factor(cf float64) float64 {
	if cf <= 0 {
		return 1
	}
	return cf
}

// roundQty drops float noise below ERPNext's float precision (9 digits).
func roundQty(q float64) float64 { return math.Round(q*1e9) / 1e9 }

func distinctItems(lines []promise.Line) []string {
	seen := map[string]bool{}
	var out []string
	for _, l := range lines {
		if !seen[l.ItemCode] {
			seen[l.ItemCode] = true
			out = append(out, l.ItemCode)
		}
	}
	return out
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

func wrap(err error, what string) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("read %s: %w", what, err)
}
