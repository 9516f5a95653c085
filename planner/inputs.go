package planner

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/erpnext-otp/otp/erp"
	"github.com/erpnext-otp/otp/promise"
)

// Warnings added to Supply when a read of other documents is refused: the
// promise is then LOW confidence and CANNOT_PROMISE_RELIABLY, as the earlier
// OTP did for Purchase Order permission errors (docs/quote-api.md).
const (
	WarningPurchaseOrders = "Purchase Order: permission denied - incoming supply unknown"
	WarningSalesOrders    = "Sales Order: permission denied - the order book is unknown"
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

// ForOrder gathers the inputs for promising so within its company's order
// book. Each line asks for its stock quantity not yet delivered
// (stock_qty − delivered_qty × conversion_factor, both columns as ERPNext
// keeps them: docs/erpnext.md), from the line's warehouse, else the order's
// set_warehouse, else Config.DefaultWarehouse. Fully delivered lines are
// left out, and so are drop-ship lines (delivered_by_supplier): the supplier
// ships them, so our stock and purchase orders say nothing about their date.
// An order with no line left gives ErrNothingToPromise. The order as just
// read replaces its row in the book, so the promise is of this version.
func (p *Planner) ForOrder(ctx context.Context, so *erp.SalesOrder) (Inputs, error) {
	order := p.orderOf(so)
	if len(order.Lines) == 0 {
		return Inputs{}, fmt.Errorf("planner: %s: %w", so.Name, ErrNothingToPromise)
	}
	company := cmp.Or(p.cfg.Company, so.Company)
	in, _, err := p.gather(ctx, company, order, p.cfg.Rules)
	if err != nil {
		return Inputs{}, fmt.Errorf("planner: inputs for %s: %w", so.Name, err)
	}
	return in, nil
}

// HasLines reports whether so has anything left for our stock to ship: a
// line not fully delivered and not drop-shipped. An order without one is
// not in the book.
func (p *Planner) HasLines(so *erp.SalesOrder) bool { return len(p.orderOf(so).Lines) > 0 }

// orderOf turns a Sales Order into the engine's order.
func (p *Planner) orderOf(so *erp.SalesOrder) promise.Order {
	lines := make([]erp.SalesOrderLine, 0, len(so.Items))
	for _, it := range so.Items {
		lines = append(lines, erp.SalesOrderLine{
			SalesOrder: so.Name, Status: so.Status, DocStatus: so.DocStatus, Creation: so.Creation,
			Company: so.Company, OrderDeliveryDate: so.DeliveryDate, SetWarehouse: so.SetWarehouse,
			Name: it.Name, Idx: it.Idx, ItemCode: it.ItemCode, Warehouse: it.Warehouse, UOM: it.UOM, Qty: it.Qty,
			StockQty: it.StockQty, ConversionFactor: it.ConversionFactor, DeliveredQty: it.DeliveredQty,
			DeliveryDate: it.DeliveryDate, DeliveredBySupplier: it.DeliveredBySupplier,
		})
	}
	if len(lines) == 0 {
		return promise.Order{Name: so.Name, Confirm: true, Submitted: so.DocStatus == 1}
	}
	return p.orderOfLines(lines)
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
			Warehouse: cmp.Or(l.Warehouse, p.cfg.DefaultWarehouse),
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

// gather reads the company's order book, then the supply and items of
// every item in it and in order, and the company's calendar: the book (one
// request a page) and the open purchase orders and site first, then the
// bins and item masters of the book's items, at once. Once a book has been
// read, the supply of its items (and order's) is read at the same time as
// the book, and only items new to it wait for the book (see prefetch).
func (p *Planner) gather(ctx context.Context, company string, order promise.Order, rules promise.Rules) (Inputs, *site, error) {
	book, pre, err := p.readBookAndGuess(ctx, map[string][]promise.Line{company: order.Lines}, p.openOrderBook)
	if err != nil {
		return Inputs{}, nil, err
	}
	in, st, err := p.supplyFor(ctx, company, book.orders[company], rules, order.Lines, pre[company])
	if err != nil {
		return Inputs{}, nil, err
	}
	if book.warning != "" {
		in.Supply.Warnings = append(in.Supply.Warnings, book.warning)
		slices.Sort(in.Supply.Warnings)
	}
	order.Lines = canonicalLines(order.Lines, in.Supply, st)
	in.Order = order
	if order.Name != "" {
		in.Book = slices.DeleteFunc(in.Book, func(o promise.Order) bool { return o.Name == order.Name })
		if order.Confirm {
			in.Book = append(in.Book, order)
		}
	}
	return in, st, nil
}

// readBookAndGuess reads the book and, at the same time, the supply of the
// items the last book read held for each company (with extra's): the
// guess a pass needs no second round trip for. It notes the items of the
// book it read for the next guess. A company with no book read yet gets
// no guess, and neither does any while the ERPNext client's breaker is
// not closed: half-open, it lets only a few probes through, and the book's
// read is the one that must go.
func (p *Planner) readBookAndGuess(ctx context.Context, extra map[string][]promise.Line, read func(context.Context) ([]*bookEntry, error)) (openBook, map[string]*supplyRows, error) {
	p.mu.Lock()
	guess := map[string][]string{}
	closed := p.breakerClosed()
	for c, items := range p.bookItems {
		if !closed {
			break
		}
		if _, ok := extra[c]; ok || extra == nil {
			guess[c] = items
		}
	}
	p.mu.Unlock()
	var (
		book openBook
		mu   sync.Mutex
		pre  = map[string]*supplyRows{}
	)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() (err error) {
		book, err = p.readBook(gctx, read)
		return err
	})
	for c, items := range guess {
		lines := extra[c]
		g.Go(func() error {
			r, err := p.readSupply(gctx, distinctItems(lines, items...))
			mu.Lock()
			pre[c] = r
			mu.Unlock()
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return openBook{}, nil, err
	}
	if book.warning == "" {
		items := make(map[string][]string, len(book.orders))
		for c, orders := range book.orders {
			var lines []promise.Line
			for _, o := range orders {
				lines = append(lines, o.Lines...)
			}
			items[c] = distinctItems(lines)
		}
		p.mu.Lock()
		p.bookItems = items
		p.mu.Unlock()
	}
	return book, pre, nil
}

// openBook is the order book as read: each company's open orders, and what
// is written on them now.
type openBook struct {
	orders  map[string][]promise.Order
	written map[string]Written
	warning string // the book could not be read
}

// Book is one company's order book, ready to allocate, with what OTP's
// fields on each of its orders say now.
type Book struct {
	Company string
	Inputs  Inputs
	Written map[string]Written // by order name
}

// Books reads the whole order book and the supply of its items: one Book
// per company (OTP_COMPANY, when set, takes every order). The requests are
// the book's pages, then bins, purchase orders and items at once, plus the
// cached calendar: they do not grow with the number of orders. The book is
// kept for the next call, which reads only the orders changed since and
// those in saved (the orders the caller was told were saved; see
// bookLines).
func (p *Planner) Books(ctx context.Context, saved []string) ([]Book, error) {
	ob, pre, err := p.readBookAndGuess(ctx, nil, func(ctx context.Context) ([]*bookEntry, error) {
		return p.bookEntries(ctx, saved)
	})
	if err != nil {
		return nil, err
	}
	if ob.warning != "" {
		return nil, fmt.Errorf("planner: %s: %w", ob.warning, erp.ErrPermission)
	}
	companies := make([]string, 0, len(ob.orders))
	for c := range ob.orders {
		companies = append(companies, c)
	}
	slices.Sort(companies)
	books := make([]Book, 0, len(companies))
	for _, c := range companies {
		in, _, err := p.supplyFor(ctx, c, ob.orders[c], p.cfg.Rules, nil, pre[c])
		if err != nil {
			return nil, fmt.Errorf("planner: the order book of %q: %w", c, err)
		}
		books = append(books, Book{Company: c, Inputs: in, Written: ob.written})
	}
	return books, nil
}

// openOrderBook reads every open Sales Order line, paged.
func (p *Planner) openOrderBook(ctx context.Context) ([]*bookEntry, error) {
	lines, err := p.r.OpenOrderBook(ctx, p.cfg.BookPage)
	return p.entries(lines), err
}

// readBook reads the open orders with read and groups them by company. A
// refused read is a warning, not an error.
func (p *Planner) readBook(ctx context.Context, read func(context.Context) ([]*bookEntry, error)) (openBook, error) {
	entries, err := read(ctx)
	if isPermission(err) {
		p.warnOnce(ctx, "sales-orders", "planner: sales orders not readable; promises are LOW", "err", err)
		return openBook{warning: WarningSalesOrders}, nil
	}
	if err != nil {
		return openBook{}, wrap(err, "open sales order lines")
	}
	b := openBook{orders: map[string][]promise.Order{}, written: make(map[string]Written, len(entries))}
	for _, e := range entries {
		b.written[e.order.Name] = e.written
		if len(e.order.Lines) > 0 {
			b.orders[e.company] = append(b.orders[e.company], e.order)
		}
	}
	return b, nil
}

// bookEntry is one order of the book as the allocation and the write-back
// see it: its company, the engine's order (no lines when none is left to
// ship) and what OTP's fields on it hold. A kept book shares its entries
// with every pass that reads it, so nothing changes one once made (the
// engine copies what it sorts, and canonicalLines clones).
type bookEntry struct {
	company string
	order   promise.Order
	written Written
}

// entries turns open order lines (sorted by order, then line) into the
// book's entries, in the same order.
func (p *Planner) entries(lines []erp.SalesOrderLine) []*bookEntry {
	var out []*bookEntry
	for rows := range byOrder(lines) {
		out = append(out, p.entryOf(rows))
	}
	return out
}

// entryOf is the entry of one order's lines.
func (p *Planner) entryOf(rows []erp.SalesOrderLine) *bookEntry {
	first := rows[0]
	w := Written{Modified: first.Modified, Customer: first.Customer, PromiseDate: first.PromiseDate, Confidence: first.Confidence,
		Status: first.PromiseStatus, Explanation: first.Explanation, FirstPromiseDate: first.FirstPromiseDate,
		Commented: first.Commented, Lines: make(map[string]WrittenLine, len(rows))}
	for _, l := range rows {
		w.Lines[l.Name] = WrittenLine{PromiseDate: l.LinePromiseDate, Confidence: l.LineConfidence}
	}
	return &bookEntry{company: cmp.Or(p.cfg.Company, first.Company), order: p.orderOfLines(rows), written: w}
}

// Written is what OTP's fields on an order say now.
type Written struct {
	Modified, Customer                           string
	PromiseDate, Confidence, Status, Explanation string
	FirstPromiseDate                             string
	// Commented is the key of the last promise commented on the order's
	// timeline (erp.FieldCommented).
	Commented string
	Lines     map[string]WrittenLine // by row name
}

// WrittenLine is what OTP's fields on an order line say now.
type WrittenLine struct{ PromiseDate, Confidence string }

// breakerState is what *erp.Client tells of its circuit breaker.
type breakerState interface{ BreakerState() erp.BreakerState }

// supplyRows are the supply reads of a set of items: their bins (every
// warehouse: the engine offers truthful alternate warehouses), open
// purchase order lines and item masters.
type supplyRows struct {
	asked   map[string]bool // the item codes read, folded to lower case (ERPNext's collation)
	bins    []erp.Bin
	poLines []erp.PurchaseOrderLine
	masters []erp.Item
	warn    string // purchase orders not readable
}

// readSupply reads the supply of items: three requests at once.
func (p *Planner) readSupply(ctx context.Context, items []string) (*supplyRows, error) {
	r := &supplyRows{asked: make(map[string]bool, len(items))}
	for _, it := range items {
		r.asked[strings.ToLower(it)] = true
	}
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() (err error) {
		r.bins, err = p.r.Bins(gctx, items, nil)
		return wrap(err, "bins")
	})
	g.Go(func() (err error) {
		r.poLines, err = p.r.OpenPurchaseOrderLines(gctx, items)
		if isPermission(err) {
			p.warnOnce(ctx, "purchase-orders", "planner: purchase orders not readable; promises are LOW", "err", err)
			r.warn = WarningPurchaseOrders
			return nil
		}
		return wrap(err, "open purchase order lines")
	})
	g.Go(func() (err error) {
		r.masters, err = p.r.Items(gctx, items)
		return wrap(err, "items")
	})
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return r, nil
}

// missing returns the items r did not read.
func (r *supplyRows) missing(items []string) []string {
	var out []string
	for _, it := range items {
		if !r.asked[strings.ToLower(it)] {
			out = append(out, it)
		}
	}
	return out
}

// only returns r's rows of items and more's, as if items alone had been
// read in one go: a guess that read items the book no longer holds gives
// the engine the same inputs as a read after the book.
func (r *supplyRows) only(items []string, more *supplyRows) *supplyRows {
	want := make(map[string]bool, len(items))
	for _, it := range items {
		want[strings.ToLower(it)] = true
	}
	keep := func(code string) bool { return want[strings.ToLower(code)] }
	out := &supplyRows{asked: want, warn: r.warn}
	for _, src := range []*supplyRows{r, more} {
		if src == nil {
			continue
		}
		out.warn = cmp.Or(out.warn, src.warn)
		for _, b := range src.bins {
			if keep(b.ItemCode) {
				out.bins = append(out.bins, b)
			}
		}
		for _, l := range src.poLines {
			if keep(l.ItemCode) {
				out.poLines = append(out.poLines, l)
			}
		}
		for _, m := range src.masters {
			if keep(m.Code) {
				out.masters = append(out.masters, m)
			}
		}
	}
	return out
}

// supplyFor reads the supply of the book's items (and extra's) and the
// company's calendar, and returns the inputs without an order. pre, when
// not nil, is a read made alongside the book's: only the items it lacks
// are read now.
func (p *Planner) supplyFor(ctx context.Context, company string, book []promise.Order, rules promise.Rules, extra []promise.Line, pre *supplyRows) (Inputs, *site, error) {
	now := p.now()
	var lines []promise.Line
	for _, o := range book {
		lines = append(lines, o.Lines...)
	}
	items := distinctItems(append(lines, extra...))

	var (
		rows *supplyRows
		st   *site
	)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() (err error) {
		if pre == nil {
			rows, err = p.readSupply(gctx, items)
			return err
		}
		var more *supplyRows
		if miss := pre.missing(items); len(miss) > 0 {
			if more, err = p.readSupply(gctx, miss); err != nil {
				return err
			}
		}
		rows = pre.only(items, more)
		return nil
	})
	g.Go(func() (err error) {
		st, err = p.site(gctx, company)
		return err
	})
	if err := g.Wait(); err != nil {
		return Inputs{}, nil, err
	}
	bins, poLines, masters, warn := rows.bins, rows.poLines, rows.masters, rows.warn

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
	var records map[string]*promise.SupplierHistory
	if rules.Confidence.History {
		records = p.supplierHistory(ctx, company)
	}
	for _, l := range poLines {
		if r, ok := receipt(l); ok {
			r.Supplier, r.History = l.Supplier, records[l.Supplier]
			supply.Receipts = append(supply.Receipts, r)
		}
	}
	for _, it := range masters {
		supply.Items[it.Code] = promise.Item{
			Code:         it.Code,
			StockUOM:     it.StockUOM,
			IsStockItem:  it.IsStockItem,
			LeadTimeDays: it.LeadTimeDays,
			Disabled:     it.Disabled,
		}
	}
	if warn != "" {
		supply.Warnings = append(supply.Warnings, warn)
	}
	supply.ShippingWarehouses = st.shipping
	sortSupply(&supply)

	return Inputs{
		Now:      now,
		Book:     book,
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

// receipt turns an open Purchase Order line into an expected arrival. It
// skips drop-ship lines (they never enter our stock), lines with nothing left
// to receive, and lines with no date. An overdue date is passed through: the
// engine counts it as arriving after today, at LOW confidence.
func receipt(l erp.PurchaseOrderLine) (promise.Receipt, bool) {
	if l.DeliveredBySupplier || !erp.PurchaseOrderOpen(l.Status) {
		return promise.Receipt{}, false
	}
	qty := roundQty((l.Qty - l.ReceivedQty) * factor(l.ConversionFactor))
	if qty <= qtyEpsilon {
		return promise.Receipt{}, false
	}
	date, err := promise.ParseDate(cmp.Or(l.ExpectedDeliveryDate, l.ScheduleDate))
	if err != nil {
		return promise.Receipt{}, false
	}
	return promise.Receipt{ItemCode: l.ItemCode, Warehouse: l.Warehouse, Qty: qty, Date: date, PurchaseOrder: l.PurchaseOrder}, true
}

// orderOfLines is the engine's order of one order's lines (sorted by line):
// each line asks for its stock quantity not yet delivered, from its
// warehouse, else the order's set_warehouse, else the configured default;
// drop-ship and fully delivered lines are left out. Every order confirms
// its delivery_date (and each line its own); submitted orders book, drafts
// do not.
func (p *Planner) orderOfLines(rows []erp.SalesOrderLine) promise.Order {
	first := rows[0]
	o := promise.Order{Name: first.SalesOrder, Confirm: true, Submitted: first.DocStatus == 1,
		Created: parseCreation(first.Creation)}
	if d, err := promise.ParseDate(first.OrderDeliveryDate); err == nil {
		o.DesiredDate = d
	}
	for _, l := range rows {
		qty := remainingStockQty(erp.SalesOrderItem{Qty: l.Qty, StockQty: l.StockQty,
			ConversionFactor: l.ConversionFactor, DeliveredQty: l.DeliveredQty})
		if qty <= qtyEpsilon || l.DeliveredBySupplier {
			continue
		}
		line := promise.Line{ID: l.Name, ItemCode: l.ItemCode, Qty: qty,
			Warehouse: cmp.Or(l.Warehouse, l.SetWarehouse, p.cfg.DefaultWarehouse)}
		if d, err := promise.ParseDate(l.DeliveryDate); err == nil {
			line.RequestedDate = d
		}
		if l.UOM != "" && l.ConversionFactor > 0 && math.Abs(l.ConversionFactor-1) > qtyEpsilon {
			line.UOM, line.UOMFactor = l.UOM, l.ConversionFactor
		}
		o.Lines = append(o.Lines, line)
	}
	return o
}

// parseCreation reads ERPNext's creation Datetime; only the order of two
// creations matters, so the site's timezone does not.
func parseCreation(s string) time.Time {
	t, _ := parseDatetime(s)
	return t
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

// distinctItems returns the item codes of lines, after those of also, once each.
func distinctItems(lines []promise.Line, also ...string) []string {
	seen := map[string]bool{}
	var out []string
	for _, it := range also {
		if !seen[it] {
			seen[it] = true
			out = append(out, it)
		}
	}
	for _, l := range lines {
		if !seen[l.ItemCode] {
			seen[l.ItemCode] = true
			out = append(out, l.ItemCode)
		}
	}
	return out
}

func wrap(err error, what string) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("read %s: %w", what, err)
}
