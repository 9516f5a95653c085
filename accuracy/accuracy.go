// Package accuracy measures how often OTP's promises were kept: OTIF
// against the first and the latest promise, lateness in working days,
// re-promises, hit rate and Brier score per confidence tier, and supplier
// reliability (docs/accuracy.md). It is pure: the lines, deliveries and
// receipts come in as data, read by the caller.
package accuracy

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/erpnext-otp/otp/promise"
)

// ErrInvalidInput is returned, wrapped with the details, for a window that
// is empty or inverted or a probability outside 0..1.
var ErrInvalidInput = errors.New("accuracy: invalid input")

// DefaultSupplierWindowDays is the trailing window of supplier reliability.
const DefaultSupplierWindowDays = 180

// maxNamed caps the names each limit lists; the count is always complete.
const maxNamed = 20

// eps absorbs float noise in quantities.
const eps = 1e-9

// Source is how a line's latest promise was to be served.
type Source string

const (
	SourceStock         Source = "stock"
	SourcePurchaseOrder Source = "purchase_order"
	SourceLeadTime      Source = "lead_time"
	SourceUnknown       Source = "unknown"
)

// Line is one delivered Sales Order line with what OTP promised for it.
type Line struct {
	SalesOrder string
	LineID     string // Sales Order Item row name
	ItemCode   string
	ItemGroup  string
	Warehouse  string
	Qty        float64 // ordered, stock UOM
	// FirstPromise is the order's first promised date (set once); zero for
	// an order promised before that field existed, or never promised.
	FirstPromise promise.Date
	// LatestPromise is the line's promised date now (the order's when the
	// line has none); zero when OTP never promised it.
	LatestPromise promise.Date
	Confidence    promise.Confidence // the line's (else the order's) latest
	Source        Source
	// Repromises is how many times the promise changed after the first.
	Repromises int
	Deliveries []Delivery
}

// Delivery is one Delivery Note row against the line.
type Delivery struct {
	Note   string
	Date   promise.Date // posting_date
	Qty    float64      // stock UOM, positive also for a return
	Return bool         // is_return: goods came back
}

// Receipt is one Purchase Receipt row against a Purchase Order line.
type Receipt struct {
	Supplier      string
	PurchaseOrder string
	Due           promise.Date // expected_delivery_date, else schedule_date
	Received      promise.Date // posting_date
}

// Input is what a report is computed from.
type Input struct {
	From, To   promise.Date // the delivery window, both days included
	Lines      []Line
	Receipts   []Receipt
	Calendar   promise.Calendar
	NoWeekends bool // as promise.Rules: weekly offs are not working days
	// SupplierWindowDays is the receipts' trailing window ending on To;
	// 0 means DefaultSupplierWindowDays.
	SupplierWindowDays int
	// Probabilities maps each tier to the probability its promises are
	// kept, for the Brier score; nil means each tier's hit rate here.
	Probabilities map[promise.Confidence]float64
}

// Report is the accuracy of the promises of lines delivered in a window.
type Report struct {
	From          promise.Date `json:"from"`
	To            promise.Date `json:"to"`
	DeliveredLine int          `json:"delivered_lines"` // lines with a delivery in the window
	Figures
	Breakdowns         map[string][]Group `json:"breakdowns"` // by item_group, warehouse, source
	Suppliers          []Supplier         `json:"suppliers"`
	SupplierWindowDays int                `json:"supplier_window_days"`
	Limits             Limits             `json:"limits"`
}

// Figures are the measures of a set of lines.
type Figures struct {
	Measured int `json:"measured_lines"` // lines the figures count
	// First is OTIF against the first promise, Latest against the latest.
	First  Basis `json:"first_promise"`
	Latest Basis `json:"latest_promise"`
	// Repromised counts lines whose promise changed after the first.
	Repromised      int     `json:"repromised_lines"`
	RepromisedShare float64 `json:"repromised_share"`
	Repromises      int     `json:"repromises"`     // changes in all
	MaxRepromises   int     `json:"max_repromises"` // on one line
	Tiers           []Tier  `json:"tiers"`          // HIGH, MEDIUM, LOW
	Brier           float64 `json:"brier_score"`    // 0 perfect, 1 always wrong
	BrierLines      int     `json:"brier_lines"`    // lines with a tier
	Probabilities   string  `json:"probability_of"` // "hit rate" or "configured"
}

// Basis is OTIF and lateness against one promise.
type Basis struct {
	Lines int     `json:"lines"` // lines that had this promise
	OTIF  int     `json:"otif"`  // delivered in full on or before it
	Ratio float64 `json:"ratio"` // OTIF / Lines; 0 without lines
	Late  int     `json:"late"`  // delivered in full after it
	// P50 and P90 are working days late of the lines delivered in full,
	// on-time lines counting 0 (nearest rank).
	P50 int `json:"p50_working_days_late"`
	P90 int `json:"p90_working_days_late"`
	// NotInFull are lines whose deliveries in the window never reached the
	// ordered quantity: misses, not in the lateness figures.
	NotInFull int `json:"not_in_full"`
}

// Tier is how often promises of one confidence were kept (latest promise).
type Tier struct {
	Confidence  promise.Confidence `json:"confidence"`
	Lines       int                `json:"lines"`
	Hits        int                `json:"hits"`
	HitRate     float64            `json:"hit_rate"`
	Probability float64            `json:"probability"` // used in the Brier score
}

// Group is the figures of the lines sharing one value of a dimension.
type Group struct {
	Key string `json:"key"`
	Figures
}

// Supplier is one supplier's receipts against its PO lines' dates.
type Supplier struct {
	Supplier string  `json:"supplier"`
	Receipts int     `json:"receipts"`
	OnTime   int     `json:"on_time"`
	Rate     float64 `json:"on_time_rate"`
	P50      int     `json:"p50_working_days_late"`
	P90      int     `json:"p90_working_days_late"`
}

// Limits are what the figures leave out or cannot see, counted and named.
type Limits struct {
	// Unpromised: delivered lines OTP never promised; not measured.
	Unpromised Limit `json:"unpromised"`
	// NoFirstPromise: promised before the first-promise field existed;
	// measured against the latest promise only.
	NoFirstPromise Limit `json:"no_first_promise"`
	// Partial: delivered in the window but not in full by its end; a miss
	// when the promise has passed (a line partly delivered before the
	// window is one of these).
	Partial Limit `json:"partial"`
	// NotYetDue: partial lines whose latest promise is after the window;
	// not measured.
	NotYetDue Limit `json:"not_yet_due"`
	// Split: delivered in full over several notes; measured.
	Split Limit `json:"split"`
	// Returns: lines with a return in the window; measured on what was
	// delivered, the return ignored.
	Returns Limit `json:"returns"`
}

// Limit is a count and the first names ("SO-0001/row") it counts.
type Limit struct {
	Count int      `json:"count"`
	Names []string `json:"names"`
}

func (l *Limit) add(name string) {
	l.Count++
	if len(l.Names) < maxNamed {
		l.Names = append(l.Names, name)
	}
}

// Dimensions of the breakdowns.
const (
	ByItemGroup = "item_group"
	ByWarehouse = "warehouse"
	BySource    = "source"
)

var tiers = []promise.Confidence{promise.ConfidenceHigh, promise.ConfidenceMedium, promise.ConfidenceLow}

// outcome is one measured line.
type outcome struct {
	line      *Line
	completed promise.Date // the day the ordered quantity was reached; zero if never
	first     verdict
	latest    verdict
}

type verdict struct {
	has      bool
	hit      bool
	lateDays int // working days late, 0 when on time; only when completed
}

// Compute builds the report.
func Compute(in Input) (*Report, error) {
	if in.From.IsZero() || in.To.IsZero() || in.From > in.To {
		return nil, fmt.Errorf("%w: window %s..%s", ErrInvalidInput, in.From, in.To)
	}
	for c, p := range in.Probabilities {
		if math.IsNaN(p) || p < 0 || p > 1 {
			return nil, fmt.Errorf("%w: probability %v of %s out of 0..1", ErrInvalidInput, p, c)
		}
	}
	window := in.SupplierWindowDays
	if window <= 0 {
		window = DefaultSupplierWindowDays
	}
	wd, err := newWorkdays(in)
	if err != nil {
		return nil, err
	}
	r := &Report{From: in.From, To: in.To, SupplierWindowDays: window}
	var outs []outcome
	for i := range in.Lines {
		l := &in.Lines[i]
		o, measured := r.judge(l, wd)
		if measured {
			outs = append(outs, o)
		}
	}
	r.Figures = figures(outs, in.Probabilities)
	// A group's Brier score uses the report's probabilities, not the
	// group's own hit rates: it says how well the tiers fit that group.
	probs := in.Probabilities
	if probs == nil {
		probs = map[promise.Confidence]float64{}
		for _, t := range r.Tiers {
			probs[t.Confidence] = t.Probability
		}
	}
	r.Breakdowns = map[string][]Group{
		ByItemGroup: breakdown(outs, probs, func(l *Line) string { return l.ItemGroup }),
		ByWarehouse: breakdown(outs, probs, func(l *Line) string { return l.Warehouse }),
		BySource:    breakdown(outs, probs, func(l *Line) string { return string(l.Source) }),
	}
	for _, gs := range r.Breakdowns {
		for i := range gs {
			gs[i].Probabilities = r.Probabilities
		}
	}
	r.Suppliers = suppliers(in.Receipts, in.To.AddDays(-window+1), in.To, wd)
	for _, l := range []*Limit{&r.Limits.Unpromised, &r.Limits.NoFirstPromise, &r.Limits.Partial,
		&r.Limits.NotYetDue, &r.Limits.Split, &r.Limits.Returns} {
		if l.Names == nil {
			l.Names = []string{} // JSON [] rather than null
		}
	}
	return r, nil
}

// judge measures one line and records its limits; measured is false for a
// line the figures leave out.
func (r *Report) judge(l *Line, wd *workdays) (outcome, bool) {
	in := false
	for _, d := range l.Deliveries {
		if !d.Return && d.Date >= r.From && d.Date <= r.To {
			in = true
		}
	}
	if !in {
		return outcome{}, false
	}
	r.DeliveredLine++
	name := l.SalesOrder + "/" + l.LineID
	dels := slices.Clone(l.Deliveries)
	slices.SortStableFunc(dels, func(a, b Delivery) int { return cmp.Compare(a.Date, b.Date) })
	got, notes := 0.0, 0
	o := outcome{line: l}
	for _, d := range dels {
		if d.Return {
			continue
		}
		if d.Date > r.To {
			break
		}
		got += d.Qty
		notes++
		if o.completed.IsZero() && got >= l.Qty-eps {
			o.completed = d.Date
		}
	}
	for _, d := range dels {
		if d.Return && d.Date >= r.From && d.Date <= r.To {
			r.Limits.Returns.add(name)
			break
		}
	}
	if l.LatestPromise.IsZero() && l.FirstPromise.IsZero() {
		r.Limits.Unpromised.add(name)
		return o, false
	}
	if o.completed.IsZero() {
		r.Limits.Partial.add(name)
		if latest := cmp.Or(l.LatestPromise, l.FirstPromise); latest > r.To {
			r.Limits.NotYetDue.add(name)
			return o, false
		}
	} else if notes > 1 {
		r.Limits.Split.add(name)
	}
	if l.FirstPromise.IsZero() {
		r.Limits.NoFirstPromise.add(name)
	} else {
		o.first = judgeAgainst(l.FirstPromise, o.completed, wd)
	}
	o.latest = judgeAgainst(cmp.Or(l.LatestPromise, l.FirstPromise), o.completed, wd)
	return o, true
}

func judgeAgainst(promised, completed promise.Date, wd *workdays) verdict {
	v := verdict{has: true}
	if completed.IsZero() {
		return v
	}
	v.hit = completed <= promised
	if !v.hit {
		v.lateDays = wd.between(promised, completed)
	}
	return v
}

// figures measures a set of outcomes.
func figures(outs []outcome, probs map[promise.Confidence]float64) Figures {
	f := Figures{Measured: len(outs), Probabilities: "hit rate"}
	if probs != nil {
		f.Probabilities = "configured"
	}
	f.First = basis(outs, func(o outcome) verdict { return o.first })
	f.Latest = basis(outs, func(o outcome) verdict { return o.latest })
	for _, o := range outs {
		if n := o.line.Repromises; n > 0 {
			f.Repromised++
			f.Repromises += n
			f.MaxRepromises = max(f.MaxRepromises, n)
		}
	}
	f.RepromisedShare = ratio(f.Repromised, len(outs))
	byTier := map[promise.Confidence]*Tier{}
	for _, c := range tiers {
		byTier[c] = &Tier{Confidence: c}
	}
	for _, o := range outs {
		t := byTier[o.line.Confidence]
		if t == nil {
			continue
		}
		t.Lines++
		if o.latest.hit {
			t.Hits++
		}
	}
	sq := 0.0
	for _, c := range tiers {
		t := byTier[c]
		t.HitRate = ratio(t.Hits, t.Lines)
		t.Probability = t.HitRate
		if p, ok := probs[c]; ok {
			t.Probability = p
		}
		// Each hit contributes (p-1)², each miss p².
		sq += float64(t.Hits)*(t.Probability-1)*(t.Probability-1) + float64(t.Lines-t.Hits)*t.Probability*t.Probability
		f.BrierLines += t.Lines
		f.Tiers = append(f.Tiers, *t)
	}
	if f.BrierLines > 0 {
		f.Brier = sq / float64(f.BrierLines)
	}
	return f
}

func basis(outs []outcome, pick func(outcome) verdict) Basis {
	var b Basis
	var late []int
	for _, o := range outs {
		v := pick(o)
		if !v.has {
			continue
		}
		b.Lines++
		switch {
		case o.completed.IsZero():
			b.NotInFull++
			continue
		case v.hit:
			b.OTIF++
		default:
			b.Late++
		}
		late = append(late, v.lateDays)
	}
	b.Ratio = ratio(b.OTIF, b.Lines)
	b.P50, b.P90 = percentiles(late)
	return b
}

func breakdown(outs []outcome, probs map[promise.Confidence]float64, key func(*Line) string) []Group {
	parts := map[string][]outcome{}
	for _, o := range outs {
		k := key(o.line)
		if k == "" {
			k = "(none)"
		}
		parts[k] = append(parts[k], o)
	}
	groups := make([]Group, 0, len(parts))
	for k, os := range parts {
		groups = append(groups, Group{Key: k, Figures: figures(os, probs)})
	}
	slices.SortFunc(groups, func(a, b Group) int { return cmp.Compare(a.Key, b.Key) })
	return groups
}

// suppliers measures receipts received in [from, to] against their due dates.
func suppliers(receipts []Receipt, from, to promise.Date, wd *workdays) []Supplier {
	late := map[string][]int{}
	by := map[string]*Supplier{}
	for _, rc := range receipts {
		if rc.Received < from || rc.Received > to || rc.Due.IsZero() {
			continue
		}
		s := by[rc.Supplier]
		if s == nil {
			s = &Supplier{Supplier: rc.Supplier}
			by[rc.Supplier] = s
		}
		s.Receipts++
		days := 0
		if rc.Received <= rc.Due {
			s.OnTime++
		} else {
			days = wd.between(rc.Due, rc.Received)
		}
		late[rc.Supplier] = append(late[rc.Supplier], days)
	}
	out := make([]Supplier, 0, len(by))
	for name, s := range by {
		s.Rate = ratio(s.OnTime, s.Receipts)
		s.P50, s.P90 = percentiles(late[name])
		out = append(out, *s)
	}
	slices.SortFunc(out, func(a, b Supplier) int { return cmp.Compare(a.Supplier, b.Supplier) })
	return out
}

func ratio(n, d int) float64 {
	if d == 0 {
		return 0
	}
	return float64(n) / float64(d)
}

// percentiles returns the 50th and 90th nearest-rank percentiles: the
// smallest value with at least p % of the values at or below it.
func percentiles(v []int) (p50, p90 int) {
	if len(v) == 0 {
		return 0, 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	rank := func(p int) int { return s[(p*len(s)+99)/100-1] }
	return rank(50), rank(90)
}
