package planner

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/erpnext-otp/otp/accuracy"
	"github.com/erpnext-otp/otp/erp"
	"github.com/erpnext-otp/otp/promise"
)

// HistoryReader is the part of the ERPNext client that reads what happened:
// deliveries, receipts and OTP's own comments (docs/accuracy.md). It is
// satisfied by *erp.Client.
type HistoryReader interface {
	DeliveredLines(ctx context.Context, from, to, company string, pageSize int) ([]erp.DeliveryLine, error)
	PromisedLines(ctx context.Context, orders []string, pageSize int) ([]erp.PromisedLine, error)
	ReceivedLines(ctx context.Context, from, to, company string, pageSize int) ([]erp.ReceiptLine, error)
	PurchaseOrderLinesOf(ctx context.Context, orders []string, pageSize int) ([]erp.OrderedLine, error)
	PromiseCommentCounts(ctx context.Context, orders []string, owner string, pageSize int) (map[string]int, error)
	LoggedUser(ctx context.Context) (string, error)
}

// WithHistory sets the reader of deliveries and receipts: the accuracy
// report needs it, and so does ConfidenceRules.History (the supplier
// records are read with it, at most once per CalendarTTL).
func WithHistory(h HistoryReader) Option { return func(p *Planner) { p.hist = h } }

// AccuracyInput reads the lines delivered in [from, to] (of company, else
// the configured one, else every company), what OTP promised for them, how
// often it re-promised, and the Purchase Receipts of the supplier window
// ending on to, into the accuracy report's input. The requests are the
// pages of each read (docs/accuracy.md); none grows with single rows.
func (p *Planner) AccuracyInput(ctx context.Context, from, to promise.Date, company string, supplierWindowDays int) (accuracy.Input, error) {
	if p.hist == nil {
		return accuracy.Input{}, fmt.Errorf("planner: accuracy report: no history reader")
	}
	company = cmp.Or(company, p.cfg.Company)
	window := cmp.Or(max(supplierWindowDays, 0), accuracy.DefaultSupplierWindowDays)
	in := accuracy.Input{From: from, To: to, NoWeekends: p.cfg.Rules.NoWeekends, SupplierWindowDays: window}
	dels, err := p.hist.DeliveredLines(ctx, from.String(), to.String(), company, p.cfg.BookPage)
	if err != nil {
		return in, err
	}
	var orders []string
	for _, d := range dels {
		orders = append(orders, d.SalesOrder)
	}
	slices.Sort(orders)
	orders = slices.Compact(orders)

	var (
		promised []erp.PromisedLine
		comments map[string]int
		receipts []accuracy.Receipt
	)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() (err error) {
		promised, err = p.hist.PromisedLines(gctx, orders, p.cfg.BookPage)
		return err
	})
	g.Go(func() error {
		user, err := p.hist.LoggedUser(gctx)
		if err != nil {
			return fmt.Errorf("planner: who OTP is in ERPNext: %w", err)
		}
		comments, err = p.hist.PromiseCommentCounts(gctx, orders, user, p.cfg.BookPage)
		return err
	})
	g.Go(func() (err error) {
		receipts, err = p.receipts(gctx, to.AddDays(-window+1), to, company)
		return err
	})
	g.Go(func() error {
		st, err := p.site(gctx, company)
		if err != nil {
			return err
		}
		in.Calendar = st.calendar
		return nil
	})
	if err := g.Wait(); err != nil {
		return in, err
	}
	in.Receipts = receipts
	in.Lines = accuracyLines(dels, promised, comments)
	return in, nil
}

// accuracyLines joins the delivered rows to their promised lines. A
// delivered row whose line is gone (the order was deleted) is left out.
func accuracyLines(dels []erp.DeliveryLine, promised []erp.PromisedLine, comments map[string]int) []accuracy.Line {
	byLine := map[string][]accuracy.Delivery{}
	for _, d := range dels {
		date, err := promise.ParseDate(d.PostingDate)
		if err != nil {
			continue
		}
		byLine[d.SOLine] = append(byLine[d.SOLine], accuracy.Delivery{Note: d.DeliveryNote, Date: date,
			Qty: math.Abs(d.StockQty), Return: d.IsReturn})
	}
	var out []accuracy.Line
	for _, l := range promised {
		ds, ok := byLine[l.Name]
		if !ok {
			continue
		}
		first, _ := promise.ParseDate(l.FirstPromiseDate)
		latest, _ := promise.ParseDate(cmp.Or(l.LinePromiseDate, l.PromiseDate))
		out = append(out, accuracy.Line{
			SalesOrder:    l.SalesOrder,
			LineID:        l.Name,
			ItemCode:      l.ItemCode,
			ItemGroup:     l.ItemGroup,
			Warehouse:     cmp.Or(l.Warehouse, l.SetWarehouse),
			Qty:           l.StockQty,
			FirstPromise:  first,
			LatestPromise: latest,
			Confidence:    promise.Confidence(cmp.Or(l.LineConfidence, l.Confidence)),
			Source:        sourceOf(l.Explanation, l.ItemCode),
			Repromises:    max(comments[l.SalesOrder]-1, 0),
			Deliveries:    ds,
		})
	}
	return out
}

// sourceOf reads how the latest promise served an item from the order's
// explanation (docs/promise.md, The explanation): the item's part ("SKU-1:
// 6 from stock at …, 4 from PO-1 due …" on a multi-line order, the first
// part on a single-line one) names the lead time, a purchase order ("due")
// or stock; the riskiest named wins.
func sourceOf(explanation, item string) accuracy.Source {
	part := explanation
	for _, p := range strings.Split(explanation, "; ") {
		if strings.HasPrefix(p, item+": ") {
			part = p
			break
		}
	}
	if i := strings.Index(part, "; "); i >= 0 {
		part = part[:i]
	}
	switch {
	case part == "":
		return accuracy.SourceUnknown
	case strings.Contains(part, "by replenishment lead time"):
		return accuracy.SourceLeadTime
	case strings.Contains(part, " due "):
		return accuracy.SourcePurchaseOrder
	case strings.Contains(part, "from stock"), strings.Contains(part, "not a stock item"):
		return accuracy.SourceStock
	}
	return accuracy.SourceUnknown
}

// receipts reads the Purchase Receipt rows posted in [from, to] and the
// dates of the Purchase Order lines they received.
func (p *Planner) receipts(ctx context.Context, from, to promise.Date, company string) ([]accuracy.Receipt, error) {
	rows, err := p.hist.ReceivedLines(ctx, from.String(), to.String(), company, p.cfg.BookPage)
	if err != nil {
		return nil, err
	}
	var pos []string
	for _, r := range rows {
		pos = append(pos, r.PurchaseOrder)
	}
	slices.Sort(pos)
	lines, err := p.hist.PurchaseOrderLinesOf(ctx, slices.Compact(pos), p.cfg.BookPage)
	if err != nil {
		return nil, err
	}
	due := make(map[string]promise.Date, len(lines))
	for _, l := range lines {
		if d, err := promise.ParseDate(cmp.Or(l.ExpectedDeliveryDate, l.ScheduleDate)); err == nil {
			due[l.Name] = d
		}
	}
	out := make([]accuracy.Receipt, 0, len(rows))
	for _, r := range rows {
		got, err := promise.ParseDate(r.PostingDate)
		if err != nil || due[r.POLine].IsZero() {
			continue
		}
		out = append(out, accuracy.Receipt{Supplier: r.Supplier, PurchaseOrder: r.PurchaseOrder, Due: due[r.POLine], Received: got})
	}
	return out, nil
}

// supplierRecords are the suppliers' records of history mode, cached.
type supplierRecords struct {
	by      map[string]*promise.SupplierHistory
	expires time.Time
}

// supplierHistory returns each supplier's record over the trailing window
// ending today, read at most once per CalendarTTL. A read that fails leaves
// the promises to the rules (logged once): history mode never fails a promise.
func (p *Planner) supplierHistory(ctx context.Context, company string) map[string]*promise.SupplierHistory {
	if p.hist == nil {
		return nil
	}
	p.mu.Lock()
	rec, ok := p.records[company]
	p.mu.Unlock()
	if ok && p.now().Before(rec.expires) {
		return rec.by
	}
	window := cmp.Or(p.cfg.SupplierWindowDays, accuracy.DefaultSupplierWindowDays)
	today := promise.DateOf(p.now().In(p.cfg.Rules.Location))
	v, err, _ := p.loads.Do("supplier-history:"+company, func() (any, error) {
		rs, err := p.receipts(ctx, today.AddDays(-window+1), today, company)
		if err != nil {
			return nil, err
		}
		by := map[string]*promise.SupplierHistory{}
		for _, r := range rs {
			h := by[r.Supplier]
			if h == nil {
				h = &promise.SupplierHistory{WindowDays: window}
				by[r.Supplier] = h
			}
			h.LateDays = append(h.LateDays, max(r.Due.DaysUntil(r.Received), 0))
		}
		p.mu.Lock()
		p.records[company] = supplierRecords{by: by, expires: p.now().Add(p.cfg.CalendarTTL)}
		p.mu.Unlock()
		return by, nil
	})
	if err != nil {
		p.warnOnce(ctx, "supplier-history:"+company, "planner: supplier history not readable; confidence by the rules", "err", err)
		return nil
	}
	return v.(map[string]*promise.SupplierHistory)
}

// MaxReportDays bounds a report's window: a year and a day.
const MaxReportDays = 367

// AccuracyReport reads the window's history and computes the report;
// probabilities are those of the Brier score (nil: each tier's hit rate).
func (p *Planner) AccuracyReport(ctx context.Context, from, to promise.Date, company string, probabilities map[promise.Confidence]float64) (*accuracy.Report, error) {
	if from.IsZero() || to.IsZero() || from > to || from.DaysUntil(to) >= MaxReportDays {
		return nil, fmt.Errorf("%w: window %s..%s must run forwards, at most %d days", accuracy.ErrInvalidInput, from, to, MaxReportDays)
	}
	in, err := p.AccuracyInput(ctx, from, to, company, p.cfg.SupplierWindowDays)
	if err != nil {
		return nil, err
	}
	in.Probabilities = probabilities
	return accuracy.Compute(in)
}
