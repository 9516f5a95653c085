package promise

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
)

// Allocation is a book allocated: every order's promise, all of them
// keepable at once. Plan and Quote read it; it is safe for concurrent use.
type Allocation struct {
	mu sync.Mutex // Quote books tentatively while it plans
	b  *book
}

// Allocate allocates the book at instant now: submitted orders in sequence
// (Rules.Sequence) each find their earliest availability on the supply the
// orders ahead of them left, take their promise (the confirmed date for a
// Confirm order), and book their lines for the day the goods must be there,
// so stock an order needs only later stays usable by orders that need it
// sooner. Orders that cannot be fulfilled, and lead-time quantities, book
// nothing. Drafts come after every submitted order and book nothing: each
// gets what it would get if it were submitted now. Supply is then pegged to
// the bookings first needed, first served, which gives each line its sources
// and confidence.
//
// An order whose own data cannot be promised (no lines, a bad quantity, a
// duplicate name, ...) is left out and its Plan answers the error; only
// invalid rules, supply or calendar fail the whole book (ErrInvalidInput).
// The Allocation reads bk's orders and supply as they are: they must not
// change while it is in use.
func Allocate(now time.Time, bk Book, cal Calendar, rules Rules) (*Allocation, error) {
	if err := validateCommon(now, bk.Supply, cal, rules); err != nil {
		return nil, err
	}
	return allocate(now, bk, cal, rules, mutNone)
}

func allocate(now time.Time, bk Book, cal Calendar, rules Rules, mut mutation) (*Allocation, error) {
	if mut == mutRequestedDemand {
		bk.Supply.Demand = slices.Clone(bk.Supply.Demand)
		for _, o := range bk.Orders {
			for _, l := range o.Lines {
				bk.Supply.Demand = append(bk.Supply.Demand, Demand{ItemCode: l.ItemCode, Warehouse: l.Warehouse,
					Qty: l.Qty, Due: cmp.Or(l.RequestedDate, o.DesiredDate), SalesOrder: o.Name})
			}
		}
	}
	b, err := newBook(now, bk.Supply, cal, rules)
	if err != nil {
		return nil, noWorkingDay(err)
	}
	b.mutant = mut
	if err := b.allocate(bk.Orders); err != nil {
		return nil, noWorkingDay(err)
	}
	return &Allocation{b: b}, nil
}

func noWorkingDay(err error) error {
	if errors.Is(err, ErrNoWorkingDay) {
		return fmt.Errorf("%w: %w", ErrInvalidInput, err)
	}
	return err
}

// ErrUnknownOrder is returned by Allocation.Plan for a name not in the book.
var ErrUnknownOrder = errors.New("promise: order not in the book")

// Plan returns the plan of the book's order name, with its explanation.
// It wraps ErrUnknownOrder for a name not in the book, and ErrInvalidInput
// for an order left out as invalid.
func (a *Allocation) Plan(name string) (Plan, error) { return a.plan(name, false) }

// Summary returns what Plan does of an order's promise — its dates,
// confidence, status, explanation, line plans and procurement suggestions
// — without the reasons, blockers and options a quote shows, at about
// half Plan's cost: what a write-back of the whole book needs of each
// order.
func (a *Allocation) Summary(name string) (Plan, error) { return a.plan(name, true) }

func (a *Allocation) plan(name string, brief bool) (Plan, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	oi, _ := a.b.byName.find(name, a.b.nameKey)
	if oi < 0 {
		return Plan{}, fmt.Errorf("%w: %q", ErrUnknownOrder, name)
	}
	k := int(a.b.pos[oi])
	if err := a.b.invalid[k]; err != nil {
		return Plan{}, err
	}
	p, err := a.b.plan(k, brief)
	return p, noWorkingDay(err)
}

// Names returns the names of the book's orders in sequence: submitted orders
// in the order they were served, then drafts; invalid orders last.
func (a *Allocation) Names() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	names := make([]string, 0, len(a.b.orders))
	var bad []int32
	for k := range a.b.orders {
		if o := &a.b.orders[k]; o.invalid {
			bad = append(bad, o.oi)
		} else {
			names = append(names, a.b.src[o.oi].Name)
		}
	}
	// Those left out in the caller's order: the book holds them in place.
	slices.Sort(bad)
	for _, oi := range bad {
		names = append(names, a.b.src[oi].Name)
	}
	return names
}

// Quote plans order as a new order appended after every order of the book:
// what it would get now. It books nothing. An order of the book with the
// same name is left out of the supply's fixed claims only (Supply.Demand),
// as Compute does; use Plan for the book's own promise of a book order.
func (a *Allocation) Quote(order Order) (Plan, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	p, err := a.b.quote(order)
	return p, noWorkingDay(err)
}

// Compute promises one order at instant now against supply, as a new order
// appended after everything the supply already owes (Supply.Demand, except
// the order's own). It is Allocate of an empty book, then Quote.
//
// Errors wrap ErrInvalidInput (and ErrNoWorkingDay when the calendar has no
// working day within five years).
func Compute(now time.Time, order Order, supply Supply, cal Calendar, rules Rules) (Plan, error) {
	if err := validateCommon(now, supply, cal, rules); err != nil {
		return Plan{}, err
	}
	if order.Name != "" && slices.ContainsFunc(supply.Demand, func(d Demand) bool { return d.SalesOrder == order.Name }) {
		supply.Demand = slices.DeleteFunc(slices.Clone(supply.Demand), func(d Demand) bool { return d.SalesOrder == order.Name })
	}
	a, err := Allocate(now, Book{Supply: supply}, cal, rules)
	if err != nil {
		return Plan{}, err
	}
	return a.Quote(order)
}

// book is the state of one allocation.
type book struct {
	supply   Supply
	rules    Rules
	calendar Calendar
	cal      workCal
	local    time.Time

	today, intake Date
	afterCutoff   bool
	overdueOn     Date // the day an overdue PO counts: first working day after today

	groups  []group
	items   []itemGroups // by item id
	byItem  strTable     // item code → id: the one hash a line costs
	itemKey func(int32) string
	// nLines counts the book's lines on each group, to size its claims:
	// apart from the groups, so that classifying a line on an item's
	// first warehouse reads its item only.
	nLines []int32
	// recG and demG are the group of each receipt and demand record (-1
	// for none) until fill copies them into their groups.
	recG, demG []int32
	// floats and dates hand out the groups' small arrays (residuals,
	// pegging), so that thousands of groups cost a few allocations.
	floats slab[float64]
	dates  slab[Date]
	nodes  slab[node]
	values []float64 // scratch for a residual's initial values

	// orders holds the orders with a name of their own in sequence
	// (submitted, then drafts from orders[drafts]), then from
	// orders[valid] the others, in the caller's order. Those left out
	// (bookOrder.invalid) have their error in invalid.
	orders        []bookOrder
	drafts, valid int
	invalid       map[int]error
	lines         []bookLine // every order's lines, orders[k].from:to
	parts         []allocPart
	src           []Order  // the caller's orders
	byName        strTable // name → index in src, the first of a name
	nameKey       func(int32) string
	pos           []int32 // index in src → in b.orders
	quoting       *Order  // the order Quote plans, appended to b.orders
	scratch       residual
	held          []held   // scratch for place
	mutant        mutation // always none outside the property tests
	// poReceipt indexes Supply.Receipts by purchase order, for
	// ConfidenceRules.History; nil when the mode is off.
	poReceipt map[string]int
}

// mutation deliberately breaks the allocation, so the property tests can
// show that they catch a broken engine.
type mutation int

const (
	mutNone mutation = iota
	// mutBookEarliest books each line on its availability day instead of
	// the day its goods must be there.
	mutBookEarliest
	// mutRequestedDemand also claims every other order's requested
	// quantity on its delivery date, as the first version of OTP did.
	mutRequestedDemand
)

// held is a line's tentative claim while its order is planned.
type held struct {
	gi  int32
	day Date
	qty float64
}

// bookOrder is one order of the book and what the allocation found for it.
type bookOrder struct {
	oi       int32 // in the caller's slice (book.src), -1 for a quote
	from, to int   // its lines in book.lines
	rank     int32 // its position in the sequence
	dates    orderDates
	booked   bool
	invalid  bool // left out: its error is in book.invalid
	// What placing it reads of src, copied while the orders are read in
	// their own order: the book places them in sequence, and reading the
	// caller's orders in that order is a cache miss each.
	submitted, confirm bool
	desired            Date
	mode               modeCode
}

// bookLine is one order line and what the allocation found for it.
type bookLine struct {
	qty       float64
	free0     float64 // ATP today of its group before its order booked
	out       outcome
	dates     lineDates
	chainFrom Date  // the raw day its supply is there
	need      Date  // the day its goods must be there (the day it books and is pegged)
	requested Date  // the line's RequestedDate, copied as bookOrder's fields are
	group     int32 // -1 for a line that is not a stock line
	lead      int32 // lead-time days, 0 for none
	partFrom  int32 // its supply in book.parts
	partTo    int32
	kind      lineKind
}

// lineDates are a line's dates: availability, ship-ready, promise.
type lineDates struct {
	avail, shipReady, earliest, promise Date
	shortage                            float64
}

// orderDates are an order's dates and how they meet the desired date.
type orderDates struct {
	canFulfill   bool
	raw, promise Date
	desired      Date
	mode         modeCode
	dated        bool // onTime is meaningful: a desired date and a promise
	onTime       bool
	late         int // working days
	adjusted     bool
	missedStrict bool
}

func newBook(now time.Time, supply Supply, cal Calendar, rules Rules) (*book, error) {
	b := &book{
		supply:   supply,
		rules:    rules,
		calendar: cal,
		cal:      cal.compile(rules.NoWeekends),
		local:    now.In(rules.Location),
		byItem:   newStrTable(len(supply.Items)),
		items:    make([]itemGroups, 0, len(supply.Items)),
		groups:   make([]group, 0, max(len(supply.Items), len(supply.Stock))),
		nLines:   make([]int32, 0, max(len(supply.Items), len(supply.Stock))),
	}
	b.itemKey = func(id int32) string { return b.items[id].code }
	today := DateOf(b.local)
	b.cal.remember(today-7, today+calendarCacheDays)
	if err := b.days(); err != nil {
		return nil, err
	}
	b.bucket()
	if rules.Confidence.History {
		b.poReceipt = make(map[string]int, len(supply.Receipts))
		for k, r := range supply.Receipts {
			if _, ok := b.poReceipt[r.PurchaseOrder]; !ok {
				b.poReceipt[r.PurchaseOrder] = k
			}
		}
	}
	return b, nil
}

// days sets today, the intake day and the overdue-PO day (docs/promise.md).
func (b *book) days() error {
	b.today = DateOf(b.local)
	h, m, s := b.local.Clock()
	r := b.rules
	b.afterCutoff = h > r.CutoffHour ||
		(h == r.CutoffHour && (m > r.CutoffMinute ||
			(m == r.CutoffMinute && (s > 0 || b.local.Nanosecond() > 0))))
	var err error
	if b.cal.working(b.today) && !b.afterCutoff {
		b.intake = b.today
	} else if b.intake, err = b.cal.next(b.today + 1); err != nil {
		return err
	}
	b.overdueOn, err = b.cal.next(b.today + 1)
	return err
}

// availOf rolls a raw day forward to a working day, never before the intake day.
func (b *book) availOf(d Date) (Date, error) {
	if d < b.intake {
		return b.intake, nil
	}
	return b.cal.next(d)
}

// lotOf is the lot of a PO line: an overdue one counts on the first working
// day after today.
func (b *book) lotOf(r Receipt) lot {
	l := lot{eff: r.Date, qty: r.Qty, po: r.PurchaseOrder, expected: r.Date}
	if r.Date < b.today {
		l.eff, l.overdue = b.overdueOn, true
	}
	return l
}

// bucket creates one group per item and warehouse of the supply, with its
// stock on hand and reservations, and notes the group of each receipt and
// demand record; fill copies them in once the book's lines are known.
func (b *book) bucket() {
	s := b.supply
	for _, st := range s.Stock {
		g := &b.groups[b.groupFor(st.ItemCode, st.Warehouse)]
		g.onHand += st.ActualQty
		g.reserved += st.ReservedForProduction + st.ReservedForSubcontract
	}
	b.recG = make([]int32, len(s.Receipts))
	for k, r := range s.Receipts {
		b.recG[k] = -1
		if r.Qty > eps {
			gi := b.groupFor(r.ItemCode, r.Warehouse)
			b.recG[k] = int32(gi)
			b.groups[gi].nLots++
		}
	}
	b.demG = make([]int32, len(s.Demand))
	for k, d := range s.Demand {
		b.demG[k] = -1
		if d.Qty > eps {
			gi := b.groupFor(d.ItemCode, d.Warehouse)
			b.demG[k] = int32(gi)
			b.groups[gi].nClaims++
		}
	}
}

// fill copies the receipts and demand records into their groups, whose
// slices are carved from one array a kind with room for what is added
// later: the stock lot and two fixed claims (reservations, negative stock)
// of prepareGroup, and a booking for each of the book's lines on the group.
func (b *book) fill() {
	s := b.supply
	nl, nc := len(s.Receipts)+len(b.groups), len(s.Demand)+2*len(b.groups)
	for gi := range b.groups {
		nc += int(b.nLines[gi])
	}
	lots, claims := make([]lot, nl), make([]claim, nc)
	for gi := range b.groups {
		g := &b.groups[gi]
		nl, nc := 1+int(g.nLots), 2+int(g.nClaims)+int(b.nLines[gi])
		g.lots, lots = lots[:0:nl], lots[nl:]
		g.claims, claims = claims[:0:nc], claims[nc:]
	}
	for k, gi := range b.recG {
		if gi >= 0 {
			g := &b.groups[gi]
			g.lots = append(g.lots, b.lotOf(s.Receipts[k]))
		}
	}
	for k, gi := range b.demG {
		if gi >= 0 {
			g := &b.groups[gi]
			g.claims = append(g.claims, claim{need: max(s.Demand[k].Due, b.today), rank: rankFixed, qty: s.Demand[k].Qty, line: -1})
		}
	}
	b.recG, b.demG = nil, nil
}

// prepareGroup adds the stock on hand and reservations, sorts the lots and
// builds the residual, once. Only groups an order has a line on (or whose
// free stock an explanation offers) are prepared: a quote on a large supply
// picture pays for its own items only.
func (b *book) prepareGroup(g *group) {
	if g.prepared {
		return
	}
	g.prepared = true
	if g.reserved > eps {
		g.claims = append(g.claims, claim{need: b.today, rank: rankFixed, qty: g.reserved, line: -1})
	}
	switch oh := g.onHand; {
	case oh > eps:
		g.lots = append(g.lots, lot{eff: b.today, qty: oh, stock: true})
	case oh < -eps:
		// Negative stock (allowed by some sites) is owed before anything else.
		g.claims = append(g.claims, claim{need: b.today, rank: rankNegativeStock, qty: -oh, line: -1})
	}
	sortLots(g.lots)
	sortClaims(g.claims)
	coords, values := g.baseline(b.today, g.lots, g.claims, b.dates.take(1+len(g.lots)+len(g.claims)), b.values)
	b.values = values
	g.tree.nodes = b.nodes.take(treeNodes(len(coords)))
	g.tree.reset(coords, values)
}

// baseline appends to coords and values the event days of lots and claims
// (today first) and the cumulative supply minus claims at the end of each.
func (g *group) baseline(today Date, lots []lot, claims []claim, coords []Date, values []float64) ([]Date, []float64) {
	n := 1 + len(lots) + len(claims)
	coords = append(slices.Grow(coords[:0], n), today)
	values = append(slices.Grow(values[:0], n), 0)
	i, j := 0, 0
	for i < len(lots) || j < len(claims) {
		var d Date
		var v float64
		if j >= len(claims) || (i < len(lots) && lots[i].eff <= claims[j].need) {
			d, v = lots[i].eff, lots[i].qty
			i++
		} else {
			d, v = claims[j].need, -claims[j].qty
			j++
		}
		if k := len(coords) - 1; coords[k] == d {
			values[k] += v
		} else {
			coords = append(coords, d)
			values = append(values, values[k]+v)
		}
	}
	return coords, values
}

// groupFor returns the group of an item in a warehouse, creating it.
func (b *book) groupFor(item, wh string) int {
	return b.groupOf(b.itemOf(item), wh)
}

// groupOf returns the group of item id in a warehouse, creating it. An
// item's groups are chained by group.next in the order they were created;
// an item has a few warehouses, so the chain is short, and most lines are
// on its first, which the item notes.
func (b *book) groupOf(id int, wh string) int {
	if ig := &b.items[id]; ig.first >= 0 && ig.firstWh == wh {
		return ig.first
	}
	last := -1
	for gi := b.items[id].first; gi >= 0; gi = b.groups[gi].next {
		if b.groups[gi].wh == wh {
			return gi
		}
		last = gi
	}
	gi := len(b.groups)
	b.groups = append(b.groups, group{item: b.items[id].code, wh: wh, next: -1})
	b.nLines = append(b.nLines, 0)
	if last < 0 {
		b.items[id].first, b.items[id].firstWh = gi, wh
	} else {
		b.groups[last].next = gi
	}
	return gi
}

// itemGroups are an item's master and its groups, one a warehouse.
type itemGroups struct {
	code    string
	first   int    // its first group, -1 for none; the rest follow group.next
	firstWh string // the first group's warehouse
	item    Item
	known   bool // the supply has its master
}

// allocate sequences the orders, places each, and pegs supply. The book
// keeps its orders, and their lines, in sequence: placing them then walks
// memory in order. The orders are sequenced first, from what sequencing
// reads of them; then their lines are classified in the caller's order
// (reading the caller's lines in sequence would cost a cache miss a line)
// into the places sequencing gave them.
func (b *book) allocate(orders []Order) error {
	b.src = orders
	b.byName = newStrTable(len(orders))
	b.nameKey = func(oi int32) string { return b.src[oi].Name }
	seq := make([]int32, 0, len(orders))
	b.invalid = map[int]error{}
	var bad []int // orders left out by name, in the caller's order
	for oi := range orders {
		o := &orders[oi]
		// The first order of a name is the book's.
		first, slot := b.byName.find(o.Name, b.nameKey)
		if first < 0 {
			b.byName.insert(slot, int32(oi), b.nameKey)
		}
		switch {
		case first >= 0:
			b.invalid[len(bad)] = fmt.Errorf("%w: order %q appears twice in the book", ErrInvalidInput, o.Name)
			bad = append(bad, oi)
		case o.Name == "":
			b.invalid[len(bad)] = fmt.Errorf("%w: a book order has no name", ErrInvalidInput)
			bad = append(bad, oi)
		default:
			seq = append(seq, int32(oi))
		}
	}
	b.drafts = sortSeq(orders, seq, b.rules.Sequence)
	b.valid = len(seq)
	// Each order's place, and its lines' place in b.lines.
	b.pos = make([]int32, len(orders))
	b.orders = make([]bookOrder, len(orders))
	n := 0
	for k, oi := range seq {
		b.pos[oi] = int32(k)
		b.orders[k].from = n
		n += len(orders[oi].Lines)
	}
	b.lines = make([]bookLine, n)
	b.parts = make([]allocPart, 0, n+n/2) // most booked lines take one or two lots
	for k, oi := range bad {
		b.pos[oi] = int32(b.valid + k)
		b.orders[b.valid+k] = orderOf(&orders[oi], int32(oi))
		b.orders[b.valid+k].invalid = true
		b.invalid[b.valid+k] = b.invalid[k]
		delete(b.invalid, k)
	}
	for oi := range orders {
		k := int(b.pos[oi])
		if k >= b.valid {
			continue
		}
		o := &orders[oi]
		bo := &b.orders[k]
		from := bo.from
		*bo = orderOf(o, int32(oi))
		bo.from, bo.rank = from, int32(k)
		lines, err := b.classify(b.lines[from:from:from+len(o.Lines)], o)
		if err != nil {
			b.invalid[k] = fmt.Errorf("order %q: %w", o.Name, err)
			bo.invalid = true
			continue
		}
		bo.to = from + len(lines)
	}
	b.fill()
	for gi := range b.groups {
		if b.nLines[gi] > 0 {
			b.prepareGroup(&b.groups[gi])
		}
	}
	for k := range b.drafts {
		if !b.orders[k].invalid {
			if err := b.place(k, true); err != nil {
				return err
			}
		}
	}
	b.peg()
	for k := range b.drafts {
		if o := &b.orders[k]; !o.invalid && !o.booked {
			b.pegAppended(o.from, o.to) // what it would have: it holds nothing
		}
	}
	for k := b.drafts; k < b.valid; k++ {
		if o := &b.orders[k]; !o.invalid {
			if err := b.place(k, false); err != nil {
				return err
			}
			b.pegAppended(o.from, o.to)
		}
	}
	return nil
}

// orderOf is a book order of o, src[oi] (-1 for a quote), its lines not
// yet classified.
func orderOf(o *Order, oi int32) bookOrder {
	return bookOrder{oi: oi, submitted: o.Submitted, confirm: o.Confirm, desired: o.DesiredDate, mode: modeOf(o.DesiredDateMode)}
}

// source is the caller's order of o.
func (b *book) source(o *bookOrder) *Order {
	if o.oi < 0 {
		return b.quoting
	}
	return &b.src[o.oi]
}

// modeCode is a DesiredDateMode as a byte: the book's orders hold no
// pointers, so that the garbage collector need not scan them.
type modeCode uint8

const (
	modeNone modeCode = iota
	modeLatest
	modeStrict
	modeNoEarly
	modeUnknown // classify rejects it
)

var modeNames = [...]DesiredDateMode{modeNone: "", modeLatest: LatestAcceptable, modeStrict: StrictFail,
	modeNoEarly: NoEarlyDelivery, modeUnknown: ""}

func modeOf(m DesiredDateMode) modeCode {
	switch m {
	case "":
		return modeNone
	case LatestAcceptable:
		return modeLatest
	case StrictFail:
		return modeStrict
	case NoEarlyDelivery:
		return modeNoEarly
	}
	return modeUnknown
}

// seqKey is what an order is sequenced by, read once; no pointers, so
// that sorting moves no write barriers. Both fields are signed values with
// their sign bit flipped: unsigned, and ordered as the values are, so that
// a radix sort can order them; sixteen bytes, so that its passes move
// little.
type seqKey struct {
	created uint64 // creation in Unix nanoseconds
	// first sequences submitted orders by delivery date (maxDate unless
	// Rules.Sequence says so); drafts go by creation alone.
	first uint32
	oi    int32
}

// sortSeq orders seq, indices into orders: submitted orders first, in
// sequence s, then drafts by creation; ties by name. It returns where the
// drafts start.
func sortSeq(orders []Order, seq []int32, s Sequence) int {
	n, drafts := len(seq), 0 // where the drafts start: after the submitted orders
	for _, oi := range seq {
		if orders[oi].Submitted {
			drafts++
		}
	}
	keys := make([]seqKey, 2*n) // the keys, then the radix sort's buffer
	sub, dr := 0, drafts
	for _, oi := range seq {
		o := &orders[oi]
		key := seqKey{oi: oi}
		if c := o.Created; !c.IsZero() {
			key.created = uint64(c.UnixNano())
		}
		key.created ^= 1 << 63
		if !o.Submitted {
			keys[dr] = key
			dr++
			continue
		}
		first := maxDate
		if s == EarliestDeliveryFirst && !o.DesiredDate.IsZero() {
			first = o.DesiredDate
		}
		key.first = uint32(first) ^ 1<<31
		keys[sub] = key
		sub++
	}
	buf := keys[n:]
	for _, part := range [2][2]int{{0, drafts}, {drafts, n}} {
		from, to := part[0], part[1]
		sorted := radixSort(keys[from:to], buf[from:to])
		// Orders with the same day and creation instant go by name; names
		// are unique, so the order is total and any sort gives the same.
		for i := 0; i < len(sorted); {
			j := i + 1
			for j < len(sorted) && sorted[j].first == sorted[i].first && sorted[j].created == sorted[i].created {
				j++
			}
			if j-i > 1 {
				slices.SortFunc(sorted[i:j], func(x, y seqKey) int {
					return strings.Compare(orders[x.oi].Name, orders[y.oi].Name)
				})
			}
			i = j
		}
		for k, key := range sorted {
			seq[from+k] = key.oi
		}
	}
	return drafts
}

// radixSort sorts keys by first, then created, a byte at a time from the
// least significant (each pass stable), using buf of the same length; it
// returns whichever of the two holds the result. A comparison sort of a
// book's thousands of orders costs a call a comparison; this costs a few
// passes over the keys, and skips a byte every key shares (most bytes of
// a date, the high bytes of instants a few months apart).
func radixSort(keys, buf []seqKey) []seqKey {
	if len(keys) < 2 {
		return keys
	}
	var counts [12][256]int // per digit
	for _, k := range keys {
		// Unrolled: a loop over digits, and a branch a digit, cost more
		// than the counting.
		c, f := k.created, k.first
		counts[0][byte(c)]++
		counts[1][byte(c>>8)]++
		counts[2][byte(c>>16)]++
		counts[3][byte(c>>24)]++
		counts[4][byte(c>>32)]++
		counts[5][byte(c>>40)]++
		counts[6][byte(c>>48)]++
		counts[7][byte(c>>56)]++
		counts[8][byte(f)]++
		counts[9][byte(f>>8)]++
		counts[10][byte(f>>16)]++
		counts[11][byte(f>>24)]++
	}
	for d := range 12 {
		c := &counts[d]
		if c[keys[0].digit(d)] == len(keys) {
			continue // every key has this byte
		}
		sum := 0
		for v := range c {
			c[v], sum = sum, sum+c[v]
		}
		if d < 8 {
			shift := 8 * uint(d)
			for _, k := range keys {
				v := byte(k.created >> shift)
				buf[c[v]] = k
				c[v]++
			}
		} else {
			shift := 8 * uint(d-8)
			for _, k := range keys {
				v := byte(k.first >> shift)
				buf[c[v]] = k
				c[v]++
			}
		}
		keys, buf = buf, keys
	}
	return keys
}

// digit is byte d of the key, least significant first.
func (k seqKey) digit(d int) byte {
	if d < 8 {
		return byte(k.created >> (8 * d))
	}
	return byte(k.first >> (8 * (d - 8)))
}

// calendarCacheDays is how far ahead the allocation caches which days
// are working days: two years covers every date a real book asks about.
const calendarCacheDays = 2 * 366

// maxDate sorts an order without a delivery date after every dated one.
const maxDate = Date(1<<31 - 1)

// classify appends the lines of o, with their kind, group and lead time,
// checking each as validateOrder does (one item lookup a line serves both).
// It counts each stock line on its group, whose residual the caller
// prepares.
func (b *book) classify(lines []bookLine, o *Order) ([]bookLine, error) {
	if len(o.Lines) == 0 {
		return lines, badInput("order has no lines")
	}
	switch o.DesiredDateMode {
	case "", LatestAcceptable, StrictFail, NoEarlyDelivery:
	default:
		return lines, badInput("unknown desired date mode %q", o.DesiredDateMode)
	}
	for i := range o.Lines {
		l := &o.Lines[i]
		id := b.itemOf(l.ItemCode)
		if id < 0 {
			return lines, badInput("line %d (%q): empty item code", i+1, l.ID)
		}
		ig := &b.items[id]
		switch {
		case !finite(l.Qty) || l.Qty <= 0:
			return lines, badInput("line %d (%q): quantity %v is not a positive number", i+1, l.ID, l.Qty)
		case l.Warehouse == "" && (!ig.known || ig.item.IsStockItem):
			return lines, badInput("line %d (%q): empty warehouse for stock item %q", i+1, l.ID, l.ItemCode)
		}
		bl := bookLine{qty: l.Qty, group: -1, requested: l.RequestedDate}
		switch {
		case ig.known && ig.item.Disabled:
			bl.kind = lineDisabled
		case ig.known && !ig.item.IsStockItem:
			bl.kind = lineNonStock
		default:
			bl.kind = lineStock
			bl.group = int32(b.groupOf(id, l.Warehouse))
			b.nLines[bl.group]++
			// validateCommon bounds both lead times by maxDays.
			if ig.item.LeadTimeDays > 0 {
				bl.lead = int32(ig.item.LeadTimeDays)
			} else {
				bl.lead = int32(b.rules.DefaultLeadTimeDays)
			}
		}
		lines = append(lines, bl)
	}
	return lines, nil
}

// itemOf returns the id of an item in b.items, -1 for an empty code.
func (b *book) itemOf(code string) int {
	id, slot := b.byItem.find(code, b.itemKey)
	if id >= 0 {
		return int(id)
	}
	if strings.TrimSpace(code) == "" {
		return -1
	}
	id = int32(len(b.items))
	it, known := b.supply.Items[code]
	b.items = append(b.items, itemGroups{code: code, first: -1, item: it, known: known})
	b.byItem.insert(slot, id, b.itemKey)
	return int(id)
}

// place finds the order's lines their availability on the residual, dates
// the order and, when book is set and the order can be fulfilled, books its
// lines for their need days. Lines of the order on one group consume in
// line order while it is planned.
func (b *book) place(k int, book bool) error {
	o := &b.orders[k]
	lines := b.lines[o.from:o.to]
	for k := range lines {
		if l := &lines[k]; l.kind == lineStock {
			l.free0 = b.groups[l.group].tree.atpAll() // its first day is today
		}
	}
	tentative := b.held[:0]
	for k := range lines {
		l := &lines[k]
		if l.kind != lineStock {
			continue
		}
		t := &b.groups[l.group].tree
		out, on, err := b.evaluate(l, t)
		if err != nil {
			return err
		}
		l.out = out
		if out.take > eps && sharesGroupLater(lines, k) {
			t.claim(on, out.take)
			tentative = append(tentative, held{l.group, on, out.take})
		}
	}
	for _, h := range tentative {
		b.groups[h.gi].tree.claim(h.day, -h.qty)
	}
	b.held = tentative
	if err := b.date(o, lines); err != nil {
		return err
	}
	o.booked = book && o.dates.canFulfill
	if !o.booked {
		return nil
	}
	for k := range lines {
		l := &lines[k]
		if l.kind != lineStock || l.out.take <= eps {
			continue
		}
		g := &b.groups[l.group]
		if b.mutant == mutBookEarliest {
			l.need = l.out.start
		}
		g.tree.claim(l.need, l.out.take)
		g.claims = append(g.claims, claim{need: l.need, rank: rankBooked, seq: o.rank, line: int32(o.from + k), qty: l.out.take})
	}
	return nil
}

// sharesGroupLater reports whether a line after k is on k's group: only
// then must k's quantity be held while the order is planned.
func sharesGroupLater(lines []bookLine, k int) bool {
	for j := k + 1; j < len(lines); j++ {
		if lines[j].group == lines[k].group {
			return true
		}
	}
	return false
}

// evaluate finds a stock line its availability on residual t: the earliest
// day known supply covers it, unless the replenishment lead time is sooner
// (SAP's RLT: beyond it, ATP confirms at the lead time). It returns the
// outcome and the day its quantity from known supply is consumed.
func (b *book) evaluate(l *bookLine, t *residual) (outcome, Date, error) {
	q := l.qty
	d, found := t.earliest(q)
	var knownAvail Date
	if found {
		var err error
		if knownAvail, err = b.availOf(d); err != nil {
			return outcome{}, 0, err
		}
	}
	var ltStart, ltAvail Date
	if l.lead > 0 {
		ltStart = b.today.AddDays(int(l.lead))
		var err error
		if ltAvail, err = b.availOf(ltStart); err != nil {
			return outcome{}, 0, err
		}
	}
	switch {
	case found && (ltAvail.IsZero() || knownAvail <= ltAvail):
		return outcome{kind: coveredBySupply, start: d, avail: knownAvail, take: q}, d, nil
	case !ltAvail.IsZero():
		take := clamp(t.atp(ltAvail), 0, q)
		return outcome{kind: coveredByLeadTime, start: ltStart, avail: ltAvail, take: take}, ltAvail, nil
	}
	h := t.horizon()
	return outcome{kind: shortOfSupply, start: h, take: clamp(t.atp(h), 0, q)}, h, nil
}

// date computes the dates of an order's lines and of the order, and each
// line's need day.
func (b *book) date(o *bookOrder, lines []bookLine) error {
	r := b.rules
	for k := range lines {
		l := &lines[k]
		ld := lineDates{}
		switch l.kind {
		case lineDisabled:
			ld.shortage = l.qty
		case lineNonStock:
			ld.avail = b.intake
			l.chainFrom = b.today
		case lineStock:
			l.chainFrom = l.out.start
			if l.out.kind == shortOfSupply {
				ld.shortage = max(0, l.qty-l.out.take)
			} else {
				ld.avail = l.out.avail
			}
		}
		if !ld.avail.IsZero() {
			var err error
			if ld.shipReady, err = b.cal.add(ld.avail, r.ProcessingDays); err != nil {
				return err
			}
			if ld.earliest, err = b.cal.add(ld.shipReady, r.BufferDays); err != nil {
				return err
			}
			ld.promise = ld.earliest
		}
		l.dates = ld
	}
	var err error
	if o.dates, err = b.orderDates(o, lines); err != nil {
		return err
	}
	for k := range lines {
		// Where it consumes: a quote's, and an unfulfillable order's, peg day.
		lines[k].need = lines[k].out.start
		if lines[k].out.kind == coveredByLeadTime {
			lines[k].need = lines[k].out.avail
		}
	}
	if !o.confirm {
		return nil
	}
	return b.confirmLines(o, lines)
}

// confirmLines sets a Confirm order's line promises and need days: on time,
// each line confirms its own requested date (the order's when it has none),
// or its earliest date if that is later; late, every line ships with the
// order (ship complete). A line's goods must be there processing and buffer
// working days before its promise, never before its availability.
func (b *book) confirmLines(o *bookOrder, lines []bookLine) error {
	d := o.dates
	if !d.canFulfill {
		return nil
	}
	for k := range lines {
		l := &lines[k]
		if d.onTime {
			req := l.requested
			if req.IsZero() || req > d.promise {
				req = d.promise
			}
			rolled, err := b.cal.next(req)
			if err != nil {
				return err
			}
			l.dates.promise = max(l.dates.earliest, rolled)
		} else {
			l.dates.promise = d.promise
		}
		if l.kind != lineStock {
			continue
		}
		need, err := b.cal.sub(l.dates.promise, b.rules.ProcessingDays+b.rules.BufferDays)
		if err != nil {
			return err
		}
		l.need = max(need, l.dates.avail)
	}
	return nil
}

// orderDates sets the earliest and the final promise and the desired-date
// fields: ship complete, the order is ready when its last line is.
func (b *book) orderDates(o *bookOrder, lines []bookLine) (orderDates, error) {
	r := b.rules
	d := orderDates{canFulfill: true}
	for _, l := range lines {
		if l.dates.shortage > eps {
			d.canFulfill = false
		}
	}
	// With no line fulfillable the raw date is what a line on hand would
	// get: the intake day's ship-ready date plus the buffer.
	latest, err := b.cal.add(b.intake, r.ProcessingDays)
	if err != nil {
		return d, err
	}
	for _, l := range lines {
		if !l.dates.avail.IsZero() {
			latest = max(latest, l.dates.shipReady)
		}
	}
	if d.raw, err = b.cal.add(latest, r.BufferDays); err != nil {
		return d, err
	}
	if d.canFulfill {
		d.promise = d.raw
	}
	desired := o.desired
	if desired.IsZero() {
		return d, nil
	}
	d.desired = desired
	if o.confirm {
		// The confirmed date: what the customer asked for, when it can
		// ship by then; otherwise the earliest date.
		asked, err := b.cal.next(desired)
		if err != nil {
			return d, err
		}
		if d.canFulfill {
			d.dated, d.onTime = true, d.raw <= asked
			if d.onTime {
				d.promise = asked
			} else {
				d.late = b.cal.between(asked, d.raw)
			}
		}
		return d, nil
	}
	d.mode = o.mode
	if d.mode == modeNone {
		d.mode = modeLatest
	}
	switch d.mode {
	case modeLatest:
		if d.canFulfill {
			d.dated, d.onTime = true, d.promise <= desired
		}
	case modeStrict:
		d.missedStrict = !d.canFulfill || d.raw > desired
		if d.canFulfill {
			d.dated, d.onTime = true, d.promise <= desired
		}
	case modeNoEarly:
		// The customer takes nothing before the desired date. When that
		// is not a working day, the earliest acceptable delivery is the
		// first working day after it, and a promise on that day is on time.
		first, err := b.cal.next(desired)
		if err != nil {
			return d, err
		}
		if d.canFulfill {
			if d.promise < desired {
				d.promise, d.adjusted = first, true
			}
			d.dated, d.onTime = true, d.promise <= first
		}
	}
	if d.dated && !d.onTime {
		first, err := b.cal.next(desired)
		if err != nil {
			return d, err
		}
		d.late = b.cal.between(first, d.promise)
	}
	return d, nil
}

// quote plans order appended last, restoring the book afterwards (groups
// the quote created stay: they hold nothing).
func (b *book) quote(order Order) (Plan, error) {
	oi, from, parts := len(b.orders), len(b.lines), len(b.parts)
	lines, err := b.classify(b.lines, &order)
	if err != nil {
		b.lines = lines[:from]
		return Plan{}, err
	}
	b.lines = lines
	for _, l := range b.lines[from:] {
		if l.kind == lineStock {
			b.prepareGroup(&b.groups[l.group])
		}
	}
	bo := orderOf(&order, -1)
	bo.from, bo.to, bo.rank = from, len(b.lines), int32(b.valid)
	b.orders = append(b.orders, bo)
	b.quoting = &order
	defer func() {
		b.orders, b.lines, b.parts = b.orders[:oi], b.lines[:from], b.parts[:parts]
		b.quoting = nil
	}()
	if err := b.place(oi, false); err != nil {
		return Plan{}, err
	}
	b.pegAppended(from, len(b.lines))
	return b.plan(oi, false)
}
