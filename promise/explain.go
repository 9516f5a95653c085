package promise

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// explain fills the plan's reasons, blockers, options, procurement
// suggestions and explanation. Everything it says is read off the plan.
func (e *engine) explain() error {
	p := &e.plan
	var err error
	if p.Procurement, err = e.procurement(); err != nil {
		return err
	}
	if e.brief {
		// The explanation names what procurement suggests, nothing else
		// of a quote's.
		p.Explanation = e.explanation()
		return nil
	}
	p.Reasons = e.reasons()
	p.Blockers = e.blockers()
	alt := e.alternateWarehouses()
	exp, err := e.expedite()
	if err != nil {
		return err
	}
	p.Options = append(append(alt, exp...), e.split()...)
	p.Explanation = e.explanation()
	return nil
}

// FormatQty writes a quantity as a person does: "6", "2.5", "0.125", never
// "6.0" (v1 printed Python floats, docs/quote-api.md). It rounds to six decimals.
func FormatQty(q float64) string {
	r := math.Round(q*1e6) / 1e6
	if r == 0 {
		r = 0 // no "-0"
	}
	return strconv.FormatFloat(r, 'f', -1, 64)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// sourcePhrase names one source: "6 from stock at Stores - WH",
// "4 from PO-00012 due 2026-12-03".
func (e *engine) sourcePhrase(i int, s Source) string {
	q := e.qtyPhrase(i, s.Qty, false)
	switch s.Kind {
	case SourceStock:
		return q + " from stock at " + s.Warehouse
	case SourcePurchaseOrder:
		po := s.PurchaseOrder
		if po == "" {
			po = "a purchase order"
		}
		if s.Overdue {
			return q + " from " + po + " due " + s.ExpectedDate.String() + " (overdue, counted on " + e.overdueOn.String() + ")"
		}
		return q + " from " + po + " due " + s.ExpectedDate.String()
	case SourceLeadTime:
		return q + " by replenishment lead time (" + plural(int(e.ls[i].lead), "day", "days") + ") on " + s.AvailableDate.String()
	}
	return q
}

// lineParts describes how a line is covered, source by source.
func (e *engine) lineParts(i int) []string {
	if e.parts == nil {
		e.parts = make([][]string, len(e.lines))
	}
	if e.parts[i] == nil {
		e.parts[i] = e.describeLine(i)
	}
	return e.parts[i]
}

func (e *engine) describeLine(i int) []string {
	lp := e.lines[i]
	switch e.ls[i].kind {
	case lineDisabled:
		return []string{"item is disabled"}
	case lineNonStock:
		return []string{"not a stock item"}
	}
	parts := make([]string, 0, len(lp.Sources)+1)
	for _, s := range lp.Sources {
		parts = append(parts, e.sourcePhrase(i, s))
	}
	if lp.Shortage > eps {
		parts = append(parts, e.shortagePhrase(i))
	}
	return parts
}

// qtyPhrase writes a quantity of line i's item in the unit it was sold in,
// with the stock quantity when that unit is another: "2 Box (24 Nos)". With
// unit set, a quantity in the stock UOM names it: "5 Nos".
func (e *engine) qtyPhrase(i int, q float64, unit bool) string {
	l := e.order.Lines[i]
	stock := FormatQty(q)
	if su := e.supply.Items[l.ItemCode].StockUOM; unit && su != "" {
		stock += " " + su
	}
	if l.UOM == "" || l.UOMFactor <= 0 || l.UOM == e.supply.Items[l.ItemCode].StockUOM {
		return stock
	}
	if su := e.supply.Items[l.ItemCode].StockUOM; !unit && su != "" {
		stock += " " + su
	}
	return FormatQty(q/l.UOMFactor) + " " + l.UOM + " (" + stock + ")"
}

// shortagePhrase says what line i is missing and what would fix it:
// "short 5 Nos — no purchase order covers it; a Material Request by
// 2026-12-07 would".
func (e *engine) shortagePhrase(i int) string {
	lp := e.lines[i]
	what := "short " + e.qtyPhrase(i, lp.Shortage, true)
	if len(e.lines) == 1 {
		what += " of " + lp.ItemCode
	}
	cover := " — no purchase order covers it"
	if len(lp.Sources) > 0 {
		cover = " — no purchase order covers the rest"
	}
	for _, sg := range e.plan.Procurement {
		if sg.ItemCode == lp.ItemCode && sg.Warehouse == lp.Warehouse {
			return what + cover + "; a Material Request by " + sg.RequiredBy.String() + " would"
		}
	}
	return what + cover
}

func (e *engine) stockQty(i int) float64 {
	s := 0.0
	for _, src := range e.lines[i].Sources {
		if src.Kind == SourceStock {
			s += src.Qty
		}
	}
	return s
}

func (e *engine) reasons() []string {
	var rs []string
	seen := make(map[int]bool)
	for i, lp := range e.lines {
		rs = append(rs, "Item "+lp.ItemCode+": "+strings.Join(e.lineParts(i), ", "))
		if e.ls[i].kind != lineStock {
			continue
		}
		gi := int(e.ls[i].group)
		g := &e.groups[gi]
		if seen[gi] || e.stockQty(i) >= lp.QtyRequired-eps || g.onHand <= eps {
			continue
		}
		seen[gi] = true
		if committed := g.onHand - clamp(e.ls[i].free0, 0, g.onHand); committed > eps {
			rs = append(rs, fmt.Sprintf("Item %s: %s of the %s on hand at %s %s committed to other orders",
				lp.ItemCode, FormatQty(committed), FormatQty(g.onHand), g.wh, isAre(committed)))
		}
	}
	if e.intake != e.today {
		if why := e.calendar.NonWorkingReason(e.today, e.rules.NoWeekends); why != "" {
			rs = append(rs, fmt.Sprintf("Today (%s) is not a working day (%s): intake on %s", e.today, why, e.intake))
		} else {
			rs = append(rs, fmt.Sprintf("Received at %s %s, after the %s cutoff: intake on %s",
				e.local.Format("15:04"), e.rules.Location, e.cutoff(), e.intake))
		}
	}
	if n := e.rules.ProcessingDays; n > 0 {
		rs = append(rs, "Added "+plural(n, "processing day", "processing days"))
	}
	if n := e.rules.BufferDays; n > 0 {
		rs = append(rs, "Added "+plural(n, "buffer day", "buffer days"))
	}
	if skipped := e.skipped(); len(skipped) > 0 {
		const show = 10
		words := make([]string, 0, show+1)
		for k, d := range skipped {
			if k == show {
				words = append(words, fmt.Sprintf("and %d more", len(skipped)-show))
				break
			}
			why := "weekend"
			if e.cal.kind(d) == dayHoliday {
				why = "holiday"
				if desc := e.calendar.Holidays[d]; desc != "" {
					why += ": " + desc
				}
			}
			words = append(words, d.String()+" ("+why+")")
		}
		rs = append(rs, "Skipped non-working days: "+strings.Join(words, ", "))
	}
	if r := e.desiredReason(); r != "" {
		rs = append(rs, r)
	}
	return rs
}

func isAre(q float64) string {
	if math.Abs(q-1) <= eps {
		return "is"
	}
	return "are"
}

func (e *engine) cutoff() string {
	return fmt.Sprintf("%02d:%02d", e.rules.CutoffHour, e.rules.CutoffMinute)
}

// skipped lists the non-working days the promise was rolled over: from the
// day the critical line's supply is there to the raw promise, and from the
// desired date to the promise when NoEarlyDelivery moved it.
func (e *engine) skipped() []Date {
	c := e.critical()
	if c < 0 {
		return nil
	}
	var ds []Date
	for d := e.ls[c].chainFrom; d < e.plan.PromiseDateRaw; d++ {
		if !e.cal.working(d) {
			ds = append(ds, d)
		}
	}
	if e.plan.Adjusted {
		for d := max(e.plan.DesiredDate, e.plan.PromiseDateRaw); d < e.plan.PromiseDate; d++ {
			if !e.cal.working(d) {
				ds = append(ds, d)
			}
		}
	}
	return ds
}

// confirmation says how a Confirm order's promise meets the date the
// customer asked for: "could ship from 2026-12-04" when the requested date
// is later than the earliest, "3 working days later than requested
// (2026-12-05)" when the order is late.
func (e *engine) confirmation() string {
	p := e.plan
	if !e.order.Confirm || !p.CanFulfill || p.DesiredDate.IsZero() || p.OnTime == nil {
		return ""
	}
	if !*p.OnTime {
		return plural(p.WorkingDaysLate, "working day", "working days") + " later than requested (" + p.DesiredDate.String() + ")"
	}
	if p.PromiseDateRaw < p.PromiseDate {
		return "could ship from " + p.PromiseDateRaw.String()
	}
	return ""
}

func (e *engine) desiredReason() string {
	p := e.plan
	d := p.DesiredDate
	if d.IsZero() {
		return ""
	}
	if e.order.Confirm {
		switch {
		case !p.CanFulfill:
			return fmt.Sprintf("Requested delivery: %s. Not promised: the order cannot be fulfilled.", d)
		case *p.OnTime:
			return fmt.Sprintf("Requested delivery: %s. Confirmed; the order could ship from %s.", d, p.PromiseDateRaw)
		}
		return fmt.Sprintf("Requested delivery: %s. Earliest possible: %s, %s later.", d, p.PromiseDate,
			plural(p.WorkingDaysLate, "working day", "working days"))
	}
	if !p.CanFulfill {
		if p.DesiredDateMode == StrictFail {
			return fmt.Sprintf("Cannot meet desired delivery date %s: the order cannot be fulfilled.", d)
		}
		return fmt.Sprintf("Desired delivery: %s. Not promised: the order cannot be fulfilled.", d)
	}
	switch p.DesiredDateMode {
	case StrictFail:
		if p.MissedStrict {
			return fmt.Sprintf("Cannot meet desired delivery date %s. Earliest possible promise: %s (%s late).",
				d, p.PromiseDate, plural(d.DaysUntil(p.PromiseDate), "day", "days"))
		}
		return fmt.Sprintf("Desired delivery: %s. Promise meets constraint.", d)
	case NoEarlyDelivery:
		if p.Adjusted {
			return fmt.Sprintf("Can deliver earlier on %s, but adjusted to %s (no early delivery before %s).",
				p.PromiseDateRaw, p.PromiseDate, d)
		}
		if *p.OnTime {
			return fmt.Sprintf("Desired delivery: %s. On time.", d)
		}
		first, _ := e.cal.next(d) // cannot fail: orderDates computed it
		return fmt.Sprintf("Desired delivery: %s. Late by %s.", d,
			plural(first.DaysUntil(p.PromiseDate), "day", "days"))
	}
	if *p.OnTime {
		return fmt.Sprintf("Desired delivery: %s. On time.", d)
	}
	return fmt.Sprintf("Desired delivery: %s. Late by %s.", d, plural(d.DaysUntil(p.PromiseDate), "day", "days"))
}

func (e *engine) blockers() []string {
	var bs []string
	for i, lp := range e.lines {
		switch e.ls[i].kind {
		case lineDisabled:
			bs = append(bs, fmt.Sprintf("Item %s is disabled", lp.ItemCode))
			continue
		case lineNonStock:
			continue
		}
		if lp.Shortage > eps {
			bs = append(bs, fmt.Sprintf("Item %s: shortage of %s at %s", lp.ItemCode, FormatQty(lp.Shortage), lp.Warehouse))
		}
		for _, s := range lp.Sources {
			if s.Kind != SourcePurchaseOrder {
				continue
			}
			if s.Overdue {
				bs = append(bs, fmt.Sprintf("Item %s: PO %s was due %s and is overdue", lp.ItemCode, s.PurchaseOrder, s.ExpectedDate))
			} else if days := e.today.DaysUntil(s.ExpectedDate); days > farPOBlockerDays {
				bs = append(bs, fmt.Sprintf("Item %s: PO %s arrives in %d days (%s)", lp.ItemCode, s.PurchaseOrder, days, s.ExpectedDate))
			}
		}
	}
	for _, w := range e.supply.Warnings {
		bs = append(bs, fmt.Sprintf("Supply data could not be read (%s): the supply timeline is uncertain", w))
	}
	return bs
}

// alternateWarehouses offers, for each line not covered from stock on hand,
// the other shipping warehouses that have free stock of the item today:
// on hand and not needed by any order there (ATP today, after this order).
func (e *engine) alternateWarehouses() []Option {
	ships := func(gi int) bool {
		g := &e.groups[gi]
		return g.onHand > eps && (e.supply.ShippingWarehouses == nil || e.supply.ShippingWarehouses[g.wh])
	}
	byItem := make(map[string][]int)
	var opts []Option
	for i, lp := range e.lines {
		if e.ls[i].kind != lineStock {
			continue
		}
		missing := lp.QtyRequired - e.stockQty(i)
		if missing <= eps {
			continue
		}
		gis, ok := byItem[lp.ItemCode]
		if !ok {
			id, _ := e.byItem.find(lp.ItemCode, e.itemKey) // a stock line's item is there
			for gi := e.items[id].first; gi >= 0; gi = e.groups[gi].next {
				if ships(gi) {
					gis = append(gis, gi)
				}
			}
			slices.SortFunc(gis, func(a, b int) int { return cmp.Compare(e.groups[a].wh, e.groups[b].wh) })
			byItem[lp.ItemCode] = gis
		}
		for _, gi := range gis {
			g := &e.groups[gi]
			if g.wh == lp.Warehouse {
				continue
			}
			free := math.Min(g.onHand, e.freeAt(gi))
			if free <= eps {
				continue
			}
			covers := math.Min(free, missing)
			impact := fmt.Sprintf("Could cover the %s not in stock at %s", FormatQty(missing), lp.Warehouse)
			if covers < missing-eps {
				impact = fmt.Sprintf("Could cover %s of the %s not in stock at %s", FormatQty(covers), FormatQty(missing), lp.Warehouse)
			}
			opts = append(opts, Option{
				Type:        "alternate_warehouse",
				Description: fmt.Sprintf("Ship %s from %s: %s free in stock there", lp.ItemCode, g.wh, FormatQty(free)),
				Impact:      impact + " (transfer time not included)",
			})
		}
	}
	return opts
}

// freeAt is ATP today of a group: on hand and needed by no order of the book.
func (e *engine) freeAt(gi int) float64 {
	g := &e.groups[gi]
	if g.prepared {
		return g.tree.atp(e.today)
	}
	// No order has a line here, so nothing is booked: ATP today from the
	// records alone, without sorting them into a residual.
	type change struct {
		d Date
		v float64
	}
	ev := make([]change, 0, len(g.lots)+len(g.claims)+1)
	ev = append(ev, change{e.today, g.onHand - g.reserved})
	for _, l := range g.lots {
		ev = append(ev, change{l.eff, l.qty})
	}
	for _, c := range g.claims {
		ev = append(ev, change{c.need, -c.qty})
	}
	slices.SortFunc(ev, func(a, b change) int { return cmp.Compare(a.d, b.d) })
	atp, s := math.Inf(1), 0.0
	for i, c := range ev {
		s += c.v
		if i+1 < len(ev) && ev[i+1].d == c.d {
			continue // a day counts once all its changes are in
		}
		atp = math.Min(atp, s)
	}
	return atp
}

// expedite offers the purchase orders whose arrival today would bring the
// order's promise forward, best saving first, with the saving computed by
// re-planning the item and warehouse with that PO arriving today.
func (e *engine) expedite() ([]Option, error) {
	p := e.plan
	c := e.critical()
	if !p.CanFulfill || c < 0 {
		return nil, nil
	}
	latest := e.lines[c].ShipReadyDate
	// A PO moves only its own item and warehouse: if the latest ship-ready
	// date is a non-stock line's, or is shared by a line of another group,
	// no single PO can bring the order forward.
	gi := e.ls[c].group
	if gi < 0 {
		return nil, nil
	}
	rest, err := e.cal.add(e.intake, e.rules.ProcessingDays)
	if err != nil {
		return nil, err
	}
	for i, lp := range e.lines {
		switch {
		case lp.AvailableDate.IsZero() || e.ls[i].group == gi:
		case lp.ShipReadyDate == latest:
			return nil, nil
		default:
			rest = max(rest, lp.ShipReadyDate)
		}
	}
	g := &e.groups[gi]
	type cand struct {
		opt    Option
		saving int
		due    Date
	}
	var cands []cand
	seen := make(map[string]bool)
	for _, l := range g.lots {
		if l.stock || l.po == "" || l.eff <= e.today || seen[l.po] {
			continue
		}
		seen[l.po] = true
		newRaw, qty, err := e.ifArrivedToday(g, l.po, rest)
		if err != nil {
			return nil, err
		}
		saving := newRaw.DaysUntil(p.PromiseDateRaw)
		if newRaw.IsZero() || saving <= 0 {
			continue
		}
		cands = append(cands, cand{saving: saving, due: l.expected, opt: Option{
			Type:          "expedite_po",
			PurchaseOrder: l.po,
			Description: fmt.Sprintf("Expedite %s for %s (%s due %s into %s)",
				l.po, g.item, FormatQty(qty), l.expected, g.wh),
			Impact: fmt.Sprintf("If it arrived today, the promise would move from %s to %s (%s earlier)",
				p.PromiseDateRaw, newRaw, plural(saving, "day", "days")),
		}})
	}
	slices.SortStableFunc(cands, func(a, b cand) int {
		return cmp.Or(cmp.Compare(b.saving, a.saving), cmp.Compare(a.due, b.due),
			strings.Compare(a.opt.PurchaseOrder, b.opt.PurchaseOrder))
	})
	var opts []Option
	for _, c := range cands[:min(len(cands), maxExpediteOptions)] {
		opts = append(opts, c.opt)
	}
	return opts, nil
}

// ifArrivedToday re-plans the order's lines on group g with every line of
// purchase order po arriving today, against the claims of the orders ahead
// of it, and returns the order's raw promise then (zero if a line of g would
// be short), given rest, the latest ship-ready date of the other lines; and
// the quantity the PO brings.
func (e *engine) ifArrivedToday(g *group, po string, rest Date) (Date, float64, error) {
	lots := slices.Clone(g.lots)
	qty := 0.0
	for k := range lots {
		if lots[k].po == po && !lots[k].stock {
			lots[k].eff, lots[k].overdue = e.today, false
			qty += lots[k].qty
		}
	}
	slices.SortFunc(lots, lotLess)
	ahead := make([]claim, 0, len(g.claims))
	for _, c := range g.claims {
		if c.line < 0 || (e.booked && c.seq < e.rank) || (!e.booked && !e.ownLine(int(c.line))) {
			ahead = append(ahead, c)
		}
	}
	slices.SortFunc(ahead, claimLess)
	t := &e.scratch
	t.reset(g.baseline(e.today, lots, ahead, t.coords, nil))
	latest := rest
	for i := range e.ls {
		l := &e.ls[i]
		if l.kind != lineStock || &e.groups[l.group] != g {
			continue
		}
		out, on, err := e.evaluate(l, t)
		if err != nil {
			return 0, 0, err
		}
		if out.kind == shortOfSupply {
			return 0, qty, nil
		}
		if out.take > eps {
			t.claim(on, out.take)
		}
		sr, err := e.cal.add(out.avail, e.rules.ProcessingDays)
		if err != nil {
			return 0, 0, err
		}
		latest = max(latest, sr)
	}
	raw, err := e.cal.add(latest, e.rules.BufferDays)
	return raw, qty, err
}

// ownLine reports whether line k of the book is one of the order's.
func (e *engine) ownLine(k int) bool {
	return k >= e.from && k < e.to
}

// split offers shipping the lines that are ready earlier on their own when
// the order misses its desired date or cannot be fulfilled as a whole.
func (e *engine) split() []Option {
	p := e.plan
	missed := !p.CanFulfill || (p.OnTime != nil && !*p.OnTime)
	c := e.critical()
	if !missed || c < 0 {
		return nil
	}
	latest := e.lines[c].ShipReadyDate
	var early []string
	var by Date
	for _, lp := range e.lines {
		if lp.PromiseDate.IsZero() || (p.CanFulfill && lp.ShipReadyDate >= latest) {
			continue
		}
		early = append(early, lp.ItemCode)
		by = max(by, lp.PromiseDate)
	}
	if len(early) == 0 || len(early) == len(e.lines) {
		return nil
	}
	names := early
	if len(names) > 5 {
		names = append(slices.Clone(names[:5]), fmt.Sprintf("and %d more", len(early)-5))
	}
	rest := "the rest by " + p.PromiseDateRaw.String()
	if !p.CanFulfill {
		rest = "the rest cannot be promised yet (shortage)"
	}
	return []Option{{
		Type:        "split_shipment",
		Description: fmt.Sprintf("Ship %d of %d lines first (%s)", len(early), len(e.lines), strings.Join(names, ", ")),
		Impact:      fmt.Sprintf("Partial delivery by %s; %s", by, rest),
	}}
}

// procurement suggests buying, per item and warehouse, every shortage and
// every quantity the promise expects from the replenishment lead time.
//
// Required-by rule: a lead-time quantity is required by the line's
// availability date (the promise assumes it). A shortage is required by the
// last working day that still meets the desired date after processing and
// buffer days; without a desired date, by the day the rest of the order is
// available (so the shortage does not delay it further); never before the
// intake day. Disabled items cannot be bought and get no suggestion.
func (e *engine) procurement() ([]Suggestion, error) {
	var shortBy Date
	if d := e.order.DesiredDate; !d.IsZero() {
		last, err := e.cal.prev(d)
		if err != nil {
			return nil, err
		}
		if shortBy, err = e.cal.sub(last, e.rules.ProcessingDays+e.rules.BufferDays); err != nil {
			return nil, err
		}
	} else {
		for _, lp := range e.lines {
			shortBy = max(shortBy, lp.AvailableDate)
		}
	}
	shortBy = max(shortBy, e.intake)
	var out []Suggestion
	at := make(map[gkey]int)
	add := func(lp LinePlan, qty float64, by Date) {
		k := gkey{lp.ItemCode, lp.Warehouse}
		if j, ok := at[k]; ok {
			out[j].Qty += qty
			out[j].RequiredBy = min(out[j].RequiredBy, by)
			return
		}
		at[k] = len(out)
		out = append(out, Suggestion{ItemCode: lp.ItemCode, Warehouse: lp.Warehouse, Qty: qty, RequiredBy: by})
	}
	for i, lp := range e.lines {
		if e.ls[i].kind != lineStock {
			continue
		}
		if lp.Shortage > eps {
			add(lp, lp.Shortage, shortBy)
		}
		for _, s := range lp.Sources {
			if s.Kind == SourceLeadTime {
				add(lp, s.Qty, lp.AvailableDate)
			}
		}
	}
	return out, nil
}

// explanation is the one-line summary of docs/promise.md: "6 from stock at
// Stores - WH; 4 from PO-00012 due 2026-12-03; +1 processing day; +1 buffer
// day; 2026-12-08 is a holiday".
func (e *engine) explanation() string {
	var parts []string
	if len(e.lines) == 1 {
		parts = append(parts, e.lineParts(0)...)
	} else {
		for i, lp := range e.lines {
			parts = append(parts, lp.ItemCode+": "+strings.Join(e.lineParts(i), ", "))
		}
	}
	parts = append(parts, e.history...)
	if !e.plan.CanFulfill {
		// No promise date: no processing days added to a date that does
		// not exist; what is missing and what would fix it is said above.
		if w := e.supply.Warnings; len(w) > 0 {
			parts = append(parts, "supply data incomplete ("+strings.Join(w, "; ")+")")
		}
		return strings.Join(parts, "; ")
	}
	c := e.critical()
	if c >= 0 && e.intake != e.today && e.afterCutoff && e.cal.working(e.today) && e.ls[c].chainFrom <= e.today {
		parts = append(parts, "after the "+e.cutoff()+" cutoff")
	}
	if n := e.rules.ProcessingDays; n > 0 {
		parts = append(parts, "+"+plural(n, "processing day", "processing days"))
	}
	if n := e.rules.BufferDays; n > 0 {
		parts = append(parts, "+"+plural(n, "buffer day", "buffer days"))
	}
	const showHolidays = 3
	var weekend []Date
	holidays := 0
	for _, d := range e.skipped() {
		if e.cal.kind(d) != dayHoliday {
			weekend = append(weekend, d)
			continue
		}
		if holidays++; holidays > showHolidays {
			continue
		}
		s := d.String() + " is a holiday"
		if desc := e.calendar.Holidays[d]; desc != "" {
			s += " (" + desc + ")"
		}
		parts = append(parts, s)
	}
	if more := holidays - showHolidays; more > 0 {
		parts = append(parts, "and "+plural(more, "more holiday", "more holidays"))
	}
	switch len(weekend) {
	case 0:
	case 1:
		parts = append(parts, weekend[0].String()+" is a weekend day")
	case 2:
		parts = append(parts, weekend[0].String()+" and "+weekend[1].String()+" are weekend days")
	default:
		parts = append(parts, fmt.Sprintf("%d weekend days", len(weekend)))
	}
	if e.plan.Adjusted {
		parts = append(parts, fmt.Sprintf("held to %s: no delivery before %s", e.plan.PromiseDate, e.plan.DesiredDate))
	}
	if c := e.confirmation(); c != "" {
		parts = append(parts, c)
	}
	if w := e.supply.Warnings; len(w) > 0 {
		parts = append(parts, "supply data incomplete ("+strings.Join(w, "; ")+")")
	}
	return strings.Join(parts, "; ")
}
