package promise

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
)

// ErrInvalidInput is returned, wrapped with the details, when Compute's
// inputs cannot be promised: a quantity that is not a finite positive number,
// an empty item code, a nil Location, negative days, an unknown
// desired-date mode, a calendar without working days, ...
var ErrInvalidInput = errors.New("promise: invalid input")

// maxDays bounds every day count in the inputs (lead times, processing and
// buffer days): ten years is far beyond any real rule.
const maxDays = 3660

// farPOBlockerDays is the earlier OTP's blocker threshold (docs/quote-api.md): a PO
// further out than this is reported as a blocker.
const farPOBlockerDays = 14

// maxExpediteOptions caps the expedite_po options, best saving first.
const maxExpediteOptions = 3

type lineKind uint8

const (
	lineStock lineKind = iota
	lineNonStock
	lineDisabled
)

type gkey struct{ item, wh string }

// engine builds the Plan of one order of an allocated book: its lines'
// sources, its dates, confidence and explanation.
type engine struct {
	*book
	order    Order
	ls       []bookLine // the order's lines in the book
	from, to int        // and where they are
	rank     int32      // its position in the sequence
	booked   bool
	brief    bool // the explanation only: no reasons, blockers, procurement or options (Summary)

	lines []LinePlan
	parts [][]string // per line: how it is covered, for reasons and the explanation
	plan  Plan
	// history says, per line graded by supplier history, the figure it
	// was graded by, for the explanation.
	history []string
}

func (b *book) plan(oi int, brief bool) (Plan, error) {
	o := &b.orders[oi]
	e := &engine{book: b, order: *b.source(o), ls: b.lines[o.from:o.to], from: o.from, to: o.to,
		rank: o.rank, booked: o.booked, brief: brief}
	if err := e.linePlans(); err != nil {
		return Plan{}, err
	}
	e.orderPlan(o.dates)
	e.confidence()
	if err := e.explain(); err != nil {
		return Plan{}, err
	}
	return e.plan, nil
}

// linePlans turns the allocation's lines into LinePlans with sources.
func (e *engine) linePlans() error {
	e.lines = make([]LinePlan, len(e.order.Lines))
	for i, l := range e.order.Lines {
		bl := &e.ls[i]
		d := bl.dates
		lp := LinePlan{LineID: l.ID, ItemCode: l.ItemCode, Warehouse: l.Warehouse, QtyRequired: l.Qty,
			Shortage: d.shortage, AvailableDate: d.avail, ShipReadyDate: d.shipReady, PromiseDate: d.promise}
		if bl.kind == lineStock {
			g := &e.groups[bl.group]
			got := 0.0
			for _, p := range e.book.parts[bl.partFrom:bl.partTo] {
				lt := g.lots[p.lot]
				avail, err := e.availOf(lt.eff)
				if err != nil {
					return err
				}
				src := Source{Kind: lt.kind(), Qty: p.qty, AvailableDate: avail, Warehouse: g.wh,
					PurchaseOrder: lt.po, Overdue: lt.overdue}
				if !lt.stock {
					src.ExpectedDate = lt.expected
				}
				lp.Sources = append(lp.Sources, src)
				got += p.qty
			}
			if bl.out.kind == coveredByLeadTime {
				if rest := l.Qty - got; rest > eps {
					lp.Sources = append(lp.Sources, Source{Kind: SourceLeadTime, Qty: rest,
						AvailableDate: bl.out.avail, Warehouse: g.wh})
				}
			}
			if e.order.Confirm && !d.promise.IsZero() && bl.out.take > eps {
				lp.NeedDate = bl.need
			}
		}
		for k := range lp.Sources {
			sr, err := e.cal.add(lp.Sources[k].AvailableDate, e.rules.ProcessingDays)
			if err != nil {
				return err
			}
			lp.Sources[k].ShipReadyDate = sr
		}
		e.lines[i] = lp
	}
	return nil
}

// critical returns the fulfillable line with the latest ship-ready date
// (the first such line), or -1.
func (e *engine) critical() int {
	c := -1
	for i, lp := range e.lines {
		if lp.AvailableDate.IsZero() {
			continue
		}
		if c < 0 || lp.ShipReadyDate > e.lines[c].ShipReadyDate {
			c = i
		}
	}
	return c
}

// orderPlan copies the order's dates into the plan.
func (e *engine) orderPlan(d orderDates) {
	p := &e.plan
	p.Lines = e.lines
	p.CanFulfill = d.canFulfill
	p.PromiseDateRaw = d.raw
	p.PromiseDate = d.promise
	p.DesiredDate = d.desired
	p.DesiredDateMode = modeNames[d.mode]
	if d.dated {
		p.OnTime = ptr(d.onTime)
	}
	p.WorkingDaysLate = d.late
	p.Adjusted = d.adjusted
	p.MissedStrict = d.missedStrict
}

// confidence sets each line's and the order's confidence (docs/promise.md)
// and the status (the earlier OTP, docs/quote-api.md).
func (e *engine) confidence() {
	warned := len(e.supply.Warnings) > 0
	var tot shares
	anyLow, byHistory := false, false
	for i := range e.lines {
		lp := &e.lines[i]
		s := e.sharesOf(i)
		tot.total += s.total
		tot.stock += s.stock
		tot.near += s.near
		tot.far += s.far
		tot.shortage += s.shortage
		lp.Confidence = e.rules.Confidence.grade(s)
		if c, note, ok := e.byHistory(i, s); ok {
			lp.Confidence = c
			e.history = append(e.history, note)
			byHistory = true
		}
		if warned || s.risky {
			lp.Confidence = ConfidenceLow
		}
		if lp.Confidence == ConfidenceLow {
			anyLow = true
		}
	}
	p := &e.plan
	p.Confidence = e.rules.Confidence.grade(tot)
	if byHistory {
		// A line graded by history may be above or below what the
		// totals' rules say: the order takes the lowest of its lines.
		p.Confidence = ConfidenceHigh
		for _, lp := range e.lines {
			p.Confidence = lowest(p.Confidence, lp.Confidence)
		}
	}
	if anyLow || warned {
		p.Confidence = ConfidenceLow
	}
	switch {
	case !p.CanFulfill && warned:
		p.Status = StatusCannotPromiseReliably
	case !p.CanFulfill:
		p.Status = StatusCannotFulfill
	default:
		p.Status = StatusOK
	}
}

// shares are the quantities the confidence rules weigh (the earlier OTP, docs/quote-api.md).
type shares struct {
	total, stock, near, far, shortage float64
	risky                             bool // lead-time fallback or overdue PO
}

func (e *engine) sharesOf(i int) shares {
	lp := e.lines[i]
	s := shares{total: lp.QtyRequired, shortage: lp.Shortage}
	if e.ls[i].kind == lineNonStock {
		s.stock = lp.QtyRequired // always available: as good as stock on hand
	}
	for _, src := range lp.Sources {
		switch src.Kind {
		case SourceStock:
			s.stock += src.Qty
		case SourcePurchaseOrder:
			if e.today.DaysUntil(src.ExpectedDate) > e.rules.Confidence.FarPODays {
				s.far += src.Qty
			} else {
				s.near += src.Qty
			}
			s.risky = s.risky || src.Overdue
		case SourceLeadTime:
			s.risky = true
		}
	}
	return s
}

// grade applies the earlier OTP's thresholds: HIGH when (nearly) all from
// stock with (nearly) no shortage; LOW with a shortage over LowShortageShare
// or when far POs outweigh stock plus near POs; MEDIUM otherwise.
func (c ConfidenceRules) grade(s shares) Confidence {
	if s.total <= 0 {
		return ConfidenceLow
	}
	switch {
	case s.stock/s.total >= c.HighStockShare-eps && (s.shortage <= eps || s.shortage/s.total < c.HighShortageShare):
		return ConfidenceHigh
	case s.shortage/s.total > c.LowShortageShare+eps || s.far > s.near+s.stock+eps:
		return ConfidenceLow
	}
	return ConfidenceMedium
}

// byHistory grades line i by its purchase orders' suppliers' records
// (ConfidenceRules.History): the lowest probability that one of its POs
// arrives by the day the line needs it (its NeedDate, else the PO's own
// availability) decides. ok is false when the rules' answer stands: the mode
// is off, the line has no PO, an overdue PO, the lead time, a shortage over
// LowShortageShare, or a PO whose supplier has too little history.
func (e *engine) byHistory(i int, s shares) (Confidence, string, bool) {
	c := e.rules.Confidence
	if !c.History || s.risky || s.near+s.far <= eps || s.shortage/s.total > c.LowShortageShare+eps {
		return "", "", false
	}
	lp := e.lines[i]
	worst, note, found := 2.0, "", false
	for _, src := range lp.Sources {
		if src.Kind != SourcePurchaseOrder {
			continue
		}
		r := e.receiptOf(src.PurchaseOrder)
		if r == nil || r.History == nil || len(r.History.LateDays) < max(c.MinReceipts, 1) {
			return "", "", false
		}
		need := lp.NeedDate
		if need.IsZero() {
			need = src.AvailableDate
		}
		slack := max(src.ExpectedDate.DaysUntil(need), 0)
		p := r.History.ByDays(slack)
		if p < worst {
			rate, _ := r.History.OnTime()
			worst, found = p, true
			from := ""
			if r.Supplier != "" {
				from = " from " + r.Supplier
			}
			note = fmt.Sprintf("%s%s: on time %.0f %% in %d days, %s of slack", src.PurchaseOrder, from,
				rate*100, r.History.WindowDays, plural(slack, "day", "days"))
		}
	}
	if !found {
		return "", "", false
	}
	switch {
	case worst >= c.HighProbability-eps:
		return ConfidenceHigh, note, true
	case worst >= c.MediumProbability-eps:
		return ConfidenceMedium, note, true
	}
	return ConfidenceLow, note, true
}

var confidenceRank = map[Confidence]int{ConfidenceLow: 0, ConfidenceMedium: 1, ConfidenceHigh: 2}

func lowest(a, b Confidence) Confidence {
	if confidenceRank[b] < confidenceRank[a] {
		return b
	}
	return a
}

// receiptOf returns the first receipt of purchase order po, or nil.
func (e *engine) receiptOf(po string) *Receipt {
	k, ok := e.poReceipt[po]
	if !ok {
		return nil
	}
	return &e.supply.Receipts[k]
}

func ptr[T any](v T) *T { return &v }

func badInput(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalidInput}, args...)...)
}

// validateCommon checks the rules, supply and calendar.
func validateCommon(now time.Time, supply Supply, cal Calendar, rules Rules) error {
	bad := badInput
	if now.IsZero() {
		return bad("zero time")
	}
	if rules.Location == nil {
		return bad("nil Location in rules")
	}
	if rules.CutoffHour < 0 || rules.CutoffHour > 23 || rules.CutoffMinute < 0 || rules.CutoffMinute > 59 {
		return bad("cutoff %02d:%02d is not a time of day", rules.CutoffHour, rules.CutoffMinute)
	}
	switch rules.Sequence {
	case "", FirstComeFirstServed, EarliestDeliveryFirst:
	default:
		return bad("unknown sequence %q", rules.Sequence)
	}
	for _, d := range []struct {
		name string
		v    int
	}{
		{"processing days", rules.ProcessingDays},
		{"buffer days", rules.BufferDays},
		{"default lead time days", rules.DefaultLeadTimeDays},
		{"far PO days", rules.Confidence.FarPODays},
	} {
		if d.v < 0 || d.v > maxDays {
			return bad("%s %d out of range 0..%d", d.name, d.v, maxDays)
		}
	}
	c := rules.Confidence
	if c.MinReceipts < 0 {
		return bad("confidence min receipts %d is negative", c.MinReceipts)
	}
	for _, s := range []float64{c.HighStockShare, c.HighShortageShare, c.LowShortageShare, c.HighProbability, c.MediumProbability} {
		if math.IsNaN(s) || s < 0 || s > 1 {
			return bad("confidence share %v out of range 0..1", s)
		}
	}
	badItem := ""
	for code, it := range supply.Items {
		if (it.LeadTimeDays < 0 || it.LeadTimeDays > maxDays) && (badItem == "" || code < badItem) {
			badItem = code // the first in code order, so the message does not depend on map order
		}
	}
	if badItem != "" {
		return bad("item %q: lead time %d days out of range 0..%d", badItem, supply.Items[badItem].LeadTimeDays, maxDays)
	}
	for _, s := range supply.Stock {
		if strings.TrimSpace(s.ItemCode) == "" {
			return bad("stock at %q has no item code", s.Warehouse)
		}
		if !finite(s.ActualQty) || !finite(s.ReservedForProduction) || !finite(s.ReservedForSubcontract) {
			return bad("stock of %q at %q is not a finite number", s.ItemCode, s.Warehouse)
		}
	}
	for _, r := range supply.Receipts {
		if strings.TrimSpace(r.ItemCode) == "" {
			return bad("receipt %q has no item code", r.PurchaseOrder)
		}
		if !finite(r.Qty) {
			return bad("receipt %q of %q: quantity %v", r.PurchaseOrder, r.ItemCode, r.Qty)
		}
		if r.Date.IsZero() {
			return bad("receipt %q of %q has no date", r.PurchaseOrder, r.ItemCode)
		}
	}
	for _, d := range supply.Demand {
		if strings.TrimSpace(d.ItemCode) == "" {
			return bad("demand %q has no item code", d.SalesOrder)
		}
		if !finite(d.Qty) {
			return bad("demand %q of %q: quantity %v", d.SalesOrder, d.ItemCode, d.Qty)
		}
	}
	return cal.validate()
}

func finite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }
