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

// farPOBlockerDays is the earlier OTP's blocker threshold (v1 §2.11): a PO
// further out than this is reported as a blocker.
const farPOBlockerDays = 14

// maxExpediteOptions caps the expedite_po options, best saving first.
const maxExpediteOptions = 3

// Compute promises order at instant now (converted to rules.Location for
// "today" and the cutoff). It implements DESIGN.md §5: cumulative ATP with
// look-ahead per item and warehouse, the intake day and cutoff, processing
// and buffer working days, the lead-time fallback, confidence, and the
// desired-date modes. It is pure and deterministic: the same inputs give the
// same Plan.
//
// Errors wrap ErrInvalidInput (and ErrNoWorkingDay when the calendar has no
// working day within five years).
func Compute(now time.Time, order Order, supply Supply, cal Calendar, rules Rules) (Plan, error) {
	if err := validate(now, order, supply, cal, rules); err != nil {
		return Plan{}, err
	}
	e := &engine{
		order:    order,
		supply:   supply,
		rules:    rules,
		calendar: cal,
		cal:      cal.compile(rules.NoWeekends),
		local:    now.In(rules.Location),
	}
	if err := e.run(); err != nil {
		if errors.Is(err, ErrNoWorkingDay) {
			return Plan{}, fmt.Errorf("%w: %w", ErrInvalidInput, err)
		}
		return Plan{}, err
	}
	return e.plan, nil
}

type lineKind int

const (
	lineStock lineKind = iota
	lineNonStock
	lineDisabled
)

type gkey struct{ item, wh string }

type engine struct {
	order    Order
	supply   Supply
	rules    Rules
	calendar Calendar
	cal      workCal
	local    time.Time

	today, intake Date
	afterCutoff   bool
	overdueOn     Date // the day an overdue PO counts: first working day after today

	env        groupEnv
	groups     []group
	byItem     map[string]*itemGroups
	kinds      []lineKind
	lineGroup  []int     // group index per line, -1 when none
	outs       []outcome // per line, for stock lines
	recG, demG []int32   // group of each receipt and demand record, -1 for none
	recOff     []int32   // receipts by group, built on demand (see index)
	recIdx     []int32
	demOff     []int32 // demand by group, built on demand
	demIdx     []int32
	free0      []float64 // per group with lines: ATP today before this order
	free       []float64 // per group: ATP today after this order, NaN until computed
	changes    []change  // scratch space for atpToday
	chainFrom  []Date    // per line: the raw day its supply is there

	lines []LinePlan
	parts [][]string // per line: how it is covered, for reasons and the explanation
	plan  Plan
}

func (e *engine) run() error {
	if err := e.days(); err != nil {
		return err
	}
	e.classify()
	e.bucket()
	if err := e.planGroups(); err != nil {
		return err
	}
	if err := e.linePlans(); err != nil {
		return err
	}
	if err := e.orderDates(); err != nil {
		return err
	}
	e.confidence()
	return e.explain()
}

// days sets today, the intake day (DESIGN.md §5.3) and the overdue-PO day.
func (e *engine) days() error {
	e.today = DateOf(e.local)
	h, m, s := e.local.Clock()
	r := e.rules
	e.afterCutoff = h > r.CutoffHour ||
		(h == r.CutoffHour && (m > r.CutoffMinute ||
			(m == r.CutoffMinute && (s > 0 || e.local.Nanosecond() > 0))))
	var err error
	if e.cal.working(e.today) && !e.afterCutoff {
		e.intake = e.today
	} else if e.intake, err = e.cal.next(e.today + 1); err != nil {
		return err
	}
	e.overdueOn, err = e.cal.next(e.today + 1)
	return err
}

func (e *engine) classify() {
	n := len(e.order.Lines)
	e.kinds = make([]lineKind, n)
	e.env = groupEnv{
		cal:    &e.cal,
		today:  e.today,
		intake: e.intake,
		qty:    make([]float64, n),
		lead:   make([]int, n),
	}
	for i, l := range e.order.Lines {
		e.env.qty[i] = l.Qty
		item, known := e.supply.Items[l.ItemCode]
		switch {
		case known && item.Disabled:
			e.kinds[i] = lineDisabled
		case known && !item.IsStockItem:
			e.kinds[i] = lineNonStock
		default:
			e.kinds[i] = lineStock
			if item.LeadTimeDays > 0 {
				e.env.lead[i] = item.LeadTimeDays
			} else {
				e.env.lead[i] = e.rules.DefaultLeadTimeDays
			}
		}
	}
}

// bucket builds one group per item and warehouse for the items of the
// order's stock lines. A group with lines of the order gets its lots and
// competing demand; the others (other warehouses of the same items, only
// consulted for alternate_warehouse) keep their stock on hand, and their
// records are read later, if ever, by atpToday. Slices are carved from
// one array per kind, so 10,000 records cost few allocations.
func (e *engine) bucket() {
	e.byItem = make(map[string]*itemGroups)
	e.lineGroup = make([]int, len(e.order.Lines))
	for i, l := range e.order.Lines {
		e.lineGroup[i] = -1
		if e.kinds[i] != lineStock {
			continue
		}
		gi := e.groupFor(l.ItemCode, l.Warehouse)
		e.groups[gi].lines = append(e.groups[gi].lines, i)
		e.lineGroup[i] = gi
	}
	// lookup returns the group of a record, or -1 when its item is not ordered.
	lookup := func(item, wh string) int32 {
		ig := e.byItem[item]
		if ig == nil {
			return -1
		}
		for k, w := range ig.whs {
			if w == wh {
				return int32(ig.gis[k])
			}
		}
		return int32(e.groupFor(item, wh))
	}
	sup := e.supply
	for _, s := range sup.Stock {
		if gi := lookup(s.ItemCode, s.Warehouse); gi >= 0 {
			g := &e.groups[gi]
			g.onHand += s.ActualQty
			g.reserved += s.ReservedForProduction + s.ReservedForSubcontract
		}
	}
	e.recG = make([]int32, len(sup.Receipts))
	e.demG = make([]int32, len(sup.Demand))
	for k, r := range sup.Receipts {
		e.recG[k] = -1
		if r.Qty > eps {
			if e.recG[k] = lookup(r.ItemCode, r.Warehouse); e.recG[k] >= 0 {
				e.groups[e.recG[k]].nLots++
			}
		}
	}
	for k, d := range sup.Demand {
		e.demG[k] = -1
		if d.Qty > eps && (e.order.Name == "" || d.SalesOrder != e.order.Name) {
			if e.demG[k] = lookup(d.ItemCode, d.Warehouse); e.demG[k] >= 0 {
				e.groups[e.demG[k]].nNeeds++
			}
		}
	}
	nLots, nNeeds := 0, 0
	for gi := range e.groups {
		g := &e.groups[gi]
		if len(g.lines) > 0 {
			nLots += g.nLots + 1   // + the stock on hand
			nNeeds += g.nNeeds + 2 // + reserved, or negative stock
		}
	}
	lots, needs := make([]lot, nLots), make([]need, nNeeds)
	for gi := range e.groups {
		g := &e.groups[gi]
		if len(g.lines) > 0 {
			g.lots, lots = lots[:0:g.nLots+1], lots[g.nLots+1:]
			g.needs, needs = needs[:0:g.nNeeds+2], needs[g.nNeeds+2:]
		}
	}
	for k, r := range sup.Receipts {
		if gi := e.recG[k]; gi >= 0 && len(e.groups[gi].lines) > 0 {
			g := &e.groups[gi]
			g.lots = append(g.lots, e.lotOf(r))
		}
	}
	for k, d := range sup.Demand {
		if gi := e.demG[k]; gi >= 0 && len(e.groups[gi].lines) > 0 {
			g := &e.groups[gi]
			g.needs = append(g.needs, need{due: max(d.Due, e.today), qty: d.Qty, rank: rankCompeting, line: -1})
		}
	}
	for gi := range e.groups {
		g := &e.groups[gi]
		if len(g.lines) == 0 {
			continue
		}
		if g.reserved > eps {
			g.needs = append(g.needs, need{due: e.today, qty: g.reserved, rank: rankCompeting, line: -1})
		}
		switch oh := g.onHand; {
		case oh > eps:
			g.lots = append(g.lots, lot{eff: e.today, qty: oh, stock: true})
		case oh < -eps:
			// Negative stock (allowed by some sites) is owed before anything else.
			g.needs = append(g.needs, need{due: e.today, qty: -oh, rank: rankNegativeStock, line: -1})
		}
	}
}

// lotOf is the lot of a PO line: an overdue one counts on the first working
// day after today (DESIGN.md §5.1).
func (e *engine) lotOf(r Receipt) lot {
	l := lot{eff: r.Date, qty: r.Qty, po: r.PurchaseOrder, expected: r.Date}
	if r.Date < e.today {
		l.eff, l.overdue = e.overdueOn, true
	}
	return l
}

// groupFor returns the group of an ordered item in a warehouse, creating it.
// Groups are found by item (one hash) and then by warehouse among the
// item's few warehouses.
func (e *engine) groupFor(item, wh string) int {
	ig := e.byItem[item]
	if ig == nil {
		ig = &itemGroups{}
		e.byItem[item] = ig
	}
	for k, w := range ig.whs {
		if w == wh {
			return ig.gis[k]
		}
	}
	gi := len(e.groups)
	e.groups = append(e.groups, group{item: item, wh: wh})
	ig.whs = append(ig.whs, wh)
	ig.gis = append(ig.gis, gi)
	return gi
}

// itemGroups are the groups of one item, by warehouse.
type itemGroups struct {
	whs []string
	gis []int
}

func (e *engine) planGroups() error {
	e.outs = make([]outcome, len(e.order.Lines))
	e.free0 = make([]float64, len(e.groups))
	e.free = make([]float64, len(e.groups))
	t := &timeline{}
	for gi := range e.groups {
		g := &e.groups[gi]
		if len(g.lines) == 0 {
			e.free[gi] = math.NaN()
			continue
		}
		g.sort()
		t.reset(g.lots, g.needs)
		t.prepare()
		e.free0[gi] = t.atp(e.today)
		outs, err := planGroup(&e.env, g, g.lots, t)
		if err != nil {
			return err
		}
		e.free[gi] = t.atp(e.today)
		for k, li := range g.lines {
			e.outs[li] = outs[k]
		}
	}
	return nil
}

// linePlans turns outcomes into LinePlans with sources and dates.
func (e *engine) linePlans() error {
	e.lines = make([]LinePlan, len(e.order.Lines))
	e.chainFrom = make([]Date, len(e.order.Lines))
	for i, l := range e.order.Lines {
		lp := LinePlan{LineID: l.ID, ItemCode: l.ItemCode, Warehouse: l.Warehouse, QtyRequired: l.Qty}
		switch e.kinds[i] {
		case lineDisabled:
			lp.Shortage = l.Qty
		case lineNonStock:
			lp.AvailableDate = e.intake
			e.chainFrom[i] = e.today
		case lineStock:
			o := e.outs[i]
			g := &e.groups[e.lineGroup[i]]
			got := 0.0
			for _, p := range o.alloc {
				lt := g.lots[p.lot]
				avail, err := e.env.availOf(lt.eff)
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
			switch o.kind {
			case coveredBySupply:
				lp.AvailableDate = o.avail
			case coveredByLeadTime:
				lp.AvailableDate = o.avail
				if rest := l.Qty - got; rest > eps {
					lp.Sources = append(lp.Sources, Source{Kind: SourceLeadTime, Qty: rest,
						AvailableDate: o.avail, Warehouse: g.wh})
				}
			case shortOfSupply:
				lp.Shortage = math.Max(0, l.Qty-o.take)
			}
			e.chainFrom[i] = o.start
		}
		for k := range lp.Sources {
			sr, err := e.cal.add(lp.Sources[k].AvailableDate, e.rules.ProcessingDays)
			if err != nil {
				return err
			}
			lp.Sources[k].ShipReadyDate = sr
		}
		if !lp.AvailableDate.IsZero() {
			var err error
			if lp.ShipReadyDate, err = e.cal.add(lp.AvailableDate, e.rules.ProcessingDays); err != nil {
				return err
			}
			if lp.PromiseDate, err = e.cal.add(lp.ShipReadyDate, e.rules.BufferDays); err != nil {
				return err
			}
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

// orderDates sets the raw and final promise and the desired-date fields.
func (e *engine) orderDates() error {
	p := &e.plan
	p.Lines = e.lines
	p.CanFulfill = true
	for _, lp := range e.lines {
		if lp.Shortage > eps {
			p.CanFulfill = false
		}
	}
	// With no line fulfillable the raw date is what a line on hand would
	// get: the intake day's ship-ready date plus the buffer (v1 keeps
	// promise_date_raw set, §1.1).
	latest, err := e.cal.add(e.intake, e.rules.ProcessingDays)
	if err != nil {
		return err
	}
	if c := e.critical(); c >= 0 {
		latest = max(latest, e.lines[c].ShipReadyDate)
	}
	if p.PromiseDateRaw, err = e.cal.add(latest, e.rules.BufferDays); err != nil {
		return err
	}
	if p.CanFulfill {
		p.PromiseDate = p.PromiseDateRaw
	}
	if e.order.DesiredDate.IsZero() {
		return nil
	}
	desired := e.order.DesiredDate
	p.DesiredDate = desired
	p.DesiredDateMode = e.mode()
	switch p.DesiredDateMode {
	case LatestAcceptable:
		if p.CanFulfill {
			p.OnTime = ptr(p.PromiseDate <= desired)
		}
	case StrictFail:
		p.MissedStrict = !p.CanFulfill || p.PromiseDateRaw > desired
		if p.CanFulfill {
			p.OnTime = ptr(p.PromiseDate <= desired)
		}
	case NoEarlyDelivery:
		// The customer takes nothing before the desired date. When that
		// is not a working day, the earliest acceptable delivery is the
		// first working day after it, and a promise on that day is on time.
		first, err := e.cal.next(desired)
		if err != nil {
			return err
		}
		if p.CanFulfill {
			if p.PromiseDate < desired {
				p.PromiseDate, p.Adjusted = first, true
			}
			p.OnTime = ptr(p.PromiseDate <= first)
		}
	}
	return nil
}

func (e *engine) mode() DesiredDateMode {
	if e.order.DesiredDateMode == "" {
		return LatestAcceptable
	}
	return e.order.DesiredDateMode
}

// confidence sets each line's and the order's confidence (DESIGN.md §5.4)
// and the status (v1 §2.1 step 7).
func (e *engine) confidence() {
	warned := len(e.supply.Warnings) > 0
	var tot shares
	anyLow := false
	for i := range e.lines {
		lp := &e.lines[i]
		s := e.sharesOf(i)
		tot.total += s.total
		tot.stock += s.stock
		tot.near += s.near
		tot.far += s.far
		tot.shortage += s.shortage
		lp.Confidence = e.rules.Confidence.grade(s)
		if warned || s.risky {
			lp.Confidence = ConfidenceLow
		}
		if lp.Confidence == ConfidenceLow {
			anyLow = true
		}
	}
	p := &e.plan
	p.Confidence = e.rules.Confidence.grade(tot)
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

// shares are the quantities the confidence rules weigh (v1 §2.9).
type shares struct {
	total, stock, near, far, shortage float64
	risky                             bool // lead-time fallback or overdue PO
}

func (e *engine) sharesOf(i int) shares {
	lp := e.lines[i]
	s := shares{total: lp.QtyRequired, shortage: lp.Shortage}
	if e.kinds[i] == lineNonStock {
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

func ptr[T any](v T) *T { return &v }

// validate checks every input Compute relies on.
func validate(now time.Time, order Order, supply Supply, cal Calendar, rules Rules) error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{ErrInvalidInput}, args...)...)
	}
	if now.IsZero() {
		return bad("zero time")
	}
	if rules.Location == nil {
		return bad("nil Location in rules")
	}
	if rules.CutoffHour < 0 || rules.CutoffHour > 23 || rules.CutoffMinute < 0 || rules.CutoffMinute > 59 {
		return bad("cutoff %02d:%02d is not a time of day", rules.CutoffHour, rules.CutoffMinute)
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
	for _, s := range []float64{c.HighStockShare, c.HighShortageShare, c.LowShortageShare} {
		if math.IsNaN(s) || s < 0 || s > 1 {
			return bad("confidence share %v out of range 0..1", s)
		}
	}
	if len(order.Lines) == 0 {
		return bad("order has no lines")
	}
	switch order.DesiredDateMode {
	case "", LatestAcceptable, StrictFail, NoEarlyDelivery:
	default:
		return bad("unknown desired date mode %q", order.DesiredDateMode)
	}
	for i, l := range order.Lines {
		if strings.TrimSpace(l.ItemCode) == "" {
			return bad("line %d (%q): empty item code", i+1, l.ID)
		}
		if !finite(l.Qty) || l.Qty <= 0 {
			return bad("line %d (%q): quantity %v is not a positive number", i+1, l.ID, l.Qty)
		}
		item, known := supply.Items[l.ItemCode]
		if l.Warehouse == "" && (!known || item.IsStockItem) {
			return bad("line %d (%q): empty warehouse for stock item %q", i+1, l.ID, l.ItemCode)
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
		if !finite(s.ActualQty) || !finite(s.ReservedForProduction) || !finite(s.ReservedForSubcontract) {
			return bad("stock of %q at %q is not a finite number", s.ItemCode, s.Warehouse)
		}
	}
	for _, r := range supply.Receipts {
		if !finite(r.Qty) {
			return bad("receipt %q of %q: quantity %v", r.PurchaseOrder, r.ItemCode, r.Qty)
		}
		if r.Date.IsZero() {
			return bad("receipt %q of %q has no date", r.PurchaseOrder, r.ItemCode)
		}
	}
	for _, d := range supply.Demand {
		if !finite(d.Qty) {
			return bad("demand %q of %q: quantity %v", d.SalesOrder, d.ItemCode, d.Qty)
		}
	}
	return cal.validate()
}

func finite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }
