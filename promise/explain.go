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
	p.Reasons = e.reasons()
	p.Blockers = e.blockers()
	alt := e.alternateWarehouses()
	exp, err := e.expedite()
	if err != nil {
		return err
	}
	p.Options = append(append(alt, exp...), e.split()...)
	if p.Procurement, err = e.procurement(); err != nil {
		return err
	}
	p.Explanation, err = e.explanation()
	return err
}

// FormatQty writes a quantity as a person does: "6", "2.5", "0.125", never
// "6.0" (v1 printed Python floats, §6.15). It rounds to six decimals.
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
	q := FormatQty(s.Qty)
	switch s.Kind {
	case SourceStock:
		return q + " from stock at " + s.Warehouse
	case SourcePurchaseOrder:
		po := s.PurchaseOrder
		if po == "" {
			po = "a purchase order"
		}
		if s.Overdue {
			return fmt.Sprintf("%s from %s due %s (overdue, counted on %s)", q, po, s.ExpectedDate, e.overdueOn)
		}
		return fmt.Sprintf("%s from %s due %s", q, po, s.ExpectedDate)
	case SourceLeadTime:
		return fmt.Sprintf("%s by replenishment lead time (%s) on %s", q,
			plural(e.env.lead[i], "day", "days"), s.AvailableDate)
	}
	return q
}

// lineParts describes how a line is covered, source by source.
func (e *engine) lineParts(i int) []string {
	lp := e.lines[i]
	switch e.kinds[i] {
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
		if len(lp.Sources) == 0 {
			parts = append(parts, fmt.Sprintf("short %s (no free stock or incoming supply at %s)",
				FormatQty(lp.Shortage), lp.Warehouse))
		} else {
			parts = append(parts, "short "+FormatQty(lp.Shortage))
		}
	}
	return parts
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
		rs = append(rs, fmt.Sprintf("Item %s: %s", lp.ItemCode, strings.Join(e.lineParts(i), ", ")))
		if e.kinds[i] != lineStock {
			continue
		}
		gi := e.lineGroup[i]
		g := e.groups[gi]
		if seen[gi] || e.stockQty(i) >= lp.QtyRequired-eps || g.onHand <= eps {
			continue
		}
		seen[gi] = true
		if committed := g.onHand - clamp(e.free0[gi], 0, g.onHand); committed > eps {
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
			words = append(words, fmt.Sprintf("%s (%s)", d, e.calendar.NonWorkingReason(d, e.rules.NoWeekends)))
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
	for d := e.chainFrom[c]; d < e.plan.PromiseDateRaw; d++ {
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

func (e *engine) desiredReason() string {
	p := e.plan
	d := p.DesiredDate
	if d.IsZero() {
		return ""
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
		switch e.kinds[i] {
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
	byItem := make(map[string][]int)
	for gi, g := range e.groups {
		if g.onHand > eps && (e.supply.ShippingWarehouses == nil || e.supply.ShippingWarehouses[g.wh]) {
			byItem[g.item] = append(byItem[g.item], gi)
		}
	}
	for _, gis := range byItem {
		slices.SortFunc(gis, func(a, b int) int { return cmp.Compare(e.groups[a].wh, e.groups[b].wh) })
	}
	var opts []Option
	for i, lp := range e.lines {
		if e.kinds[i] != lineStock {
			continue
		}
		missing := lp.QtyRequired - e.stockQty(i)
		if missing <= eps {
			continue
		}
		for _, gi := range byItem[lp.ItemCode] {
			g := e.groups[gi]
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

// freeAt is ATP today of a group, after this order's lines on it.
func (e *engine) freeAt(gi int) float64 {
	if t := e.final[gi]; t != nil {
		return t.atp(e.today)
	}
	g := e.groups[gi]
	t := newTimeline(g.lots, g.needs)
	t.prepare()
	return t.atp(e.today)
}

// expedite offers the purchase orders whose arrival today would bring the
// order's promise forward, with the saving computed by re-planning the
// item and warehouse with that PO arriving today.
func (e *engine) expedite() ([]Option, error) {
	p := e.plan
	c := e.critical()
	if !p.CanFulfill || c < 0 {
		return nil, nil
	}
	latest := e.lines[c].ShipReadyDate
	floor, err := e.cal.add(e.intake, e.rules.ProcessingDays)
	if err != nil {
		return nil, err
	}
	type cand struct {
		opt    Option
		saving int
		due    Date
	}
	var cands []cand
	done := make(map[int]bool)
	for i, lp := range e.lines {
		gi := e.lineGroup[i]
		if gi < 0 || done[gi] || lp.ShipReadyDate != latest {
			continue
		}
		done[gi] = true
		g := e.groups[gi]
		pos := make(map[string]Date)
		var names []string
		for _, l := range g.lots {
			if l.kind != SourcePurchaseOrder || l.po == "" || l.eff <= e.today {
				continue
			}
			if _, ok := pos[l.po]; !ok {
				names = append(names, l.po)
				pos[l.po] = l.expected
			}
		}
		for _, po := range names {
			lots := slices.Clone(g.lots)
			qty := 0.0
			for k := range lots {
				if lots[k].po == po && lots[k].kind == SourcePurchaseOrder {
					lots[k].eff, lots[k].overdue = e.today, false
					qty += lots[k].qty
				}
			}
			slices.SortStableFunc(lots, lotLess)
			outs, _, err := planGroup(&e.env, g, lots)
			if err != nil {
				return nil, err
			}
			newLatest := floor
			for j, other := range e.lines {
				if e.lineGroup[j] != gi && !other.AvailableDate.IsZero() {
					newLatest = max(newLatest, other.ShipReadyDate)
				}
			}
			ok := true
			for k := range g.lines {
				if outs[k].kind == shortOfSupply {
					ok = false
					break
				}
				sr, err := e.cal.add(outs[k].avail, e.rules.ProcessingDays)
				if err != nil {
					return nil, err
				}
				newLatest = max(newLatest, sr)
			}
			if !ok {
				continue
			}
			newRaw, err := e.cal.add(newLatest, e.rules.BufferDays)
			if err != nil {
				return nil, err
			}
			saving := newRaw.DaysUntil(p.PromiseDateRaw)
			if saving <= 0 {
				continue
			}
			cands = append(cands, cand{saving: saving, due: pos[po], opt: Option{
				Type:          "expedite_po",
				PurchaseOrder: po,
				Description: fmt.Sprintf("Expedite %s for %s (%s due %s into %s)",
					po, g.item, FormatQty(qty), pos[po], g.wh),
				Impact: fmt.Sprintf("If it arrived today, the promise would move from %s to %s (%s earlier)",
					p.PromiseDateRaw, newRaw, plural(saving, "day", "days")),
			}})
		}
	}
	slices.SortStableFunc(cands, func(a, b cand) int {
		return cmp.Or(cmp.Compare(b.saving, a.saving), cmp.Compare(a.due, b.due),
			cmp.Compare(a.opt.PurchaseOrder, b.opt.PurchaseOrder))
	})
	var opts []Option
	for k, c := range cands {
		if k == maxExpediteOptions {
			break
		}
		opts = append(opts, c.opt)
	}
	return opts, nil
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
		if e.kinds[i] != lineStock {
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

// explanation is the one-line summary of DESIGN.md §5.4: "6 from stock at
// Stores - WH; 4 from PO-00012 due 2026-12-03; +1 processing day; +1 buffer
// day; 2026-12-08 is a holiday".
func (e *engine) explanation() (string, error) {
	var parts []string
	if len(e.lines) == 1 {
		parts = append(parts, e.lineParts(0)...)
	} else {
		for i, lp := range e.lines {
			parts = append(parts, lp.ItemCode+": "+strings.Join(e.lineParts(i), ", "))
		}
	}
	c := e.critical()
	if c >= 0 && e.intake != e.today && e.afterCutoff && e.cal.working(e.today) && e.chainFrom[c] <= e.today {
		parts = append(parts, "after the "+e.cutoff()+" cutoff")
	}
	if n := e.rules.ProcessingDays; n > 0 {
		parts = append(parts, "+"+plural(n, "processing day", "processing days"))
	}
	if n := e.rules.BufferDays; n > 0 {
		parts = append(parts, "+"+plural(n, "buffer day", "buffer days"))
	}
	var weekend []Date
	for _, d := range e.skipped() {
		if e.cal.kind(d) == dayHoliday {
			s := d.String() + " is a holiday"
			if desc := e.calendar.Holidays[d]; desc != "" {
				s += " (" + desc + ")"
			}
			parts = append(parts, s)
		} else {
			weekend = append(weekend, d)
		}
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
	if w := e.supply.Warnings; len(w) > 0 {
		parts = append(parts, "supply data incomplete ("+strings.Join(w, "; ")+")")
	}
	return strings.Join(parts, "; "), nil
}
