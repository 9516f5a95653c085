package promise

import "time"

// This file is the engine's contract with the rest of OTP (planner, server,
// worker). Fields may be added; renaming or removing one means updating
// every caller in the same commit.

// Status is the order-level outcome, with the earlier OTP's enum values.
type Status string

const (
	StatusOK                    Status = "OK"
	StatusCannotFulfill         Status = "CANNOT_FULFILL"
	StatusCannotPromiseReliably Status = "CANNOT_PROMISE_RELIABLY"
)

// Confidence is HIGH, MEDIUM or LOW (docs/promise.md).
type Confidence string

const (
	ConfidenceHigh   Confidence = "HIGH"
	ConfidenceMedium Confidence = "MEDIUM"
	ConfidenceLow    Confidence = "LOW"
)

// DesiredDateMode says how a customer's desired date constrains the promise
// (docs/quote-api.md, with its bugs fixed).
type DesiredDateMode string

const (
	LatestAcceptable DesiredDateMode = "LATEST_ACCEPTABLE"
	StrictFail       DesiredDateMode = "STRICT_FAIL"
	NoEarlyDelivery  DesiredDateMode = "NO_EARLY_DELIVERY"
)

// Order is what is being promised: a Sales Order or a quote request.
type Order struct {
	// Name is the Sales Order name; empty for a quote. Demand records with
	// this SalesOrder never compete with the order itself. Every order of
	// a Book has a name of its own.
	Name  string
	Lines []Line
	// DesiredDate is the customer's date; zero when none was given. For a
	// Sales Order it is the order's delivery_date.
	DesiredDate Date
	// DesiredDateMode applies only when DesiredDate is set; empty means
	// LatestAcceptable. It is a quote's; a Confirm order ignores it.
	DesiredDateMode DesiredDateMode
	// Confirm makes the promise a Sales Order's confirmed date: the date the
	// customer asked for (DesiredDate, and each line's RequestedDate) when
	// the order can ship by then, otherwise the earliest date it can ship.
	// The order's goods are booked for the day they must be there.
	Confirm bool
	// Submitted orders book supply in the sequence of a Book; drafts (and
	// quotes) come after every submitted order and book nothing.
	Submitted bool
	// Created is ERPNext's creation time: first come, first served.
	Created time.Time
}

// Line is one order line, in stock UOM, with what is already delivered removed.
type Line struct {
	ID        string // Sales Order Item row name; "1", "2", ... for a quote
	ItemCode  string
	Warehouse string
	Qty       float64
	// RequestedDate is the line's own delivery_date (Confirm orders); zero
	// means the order's DesiredDate.
	RequestedDate Date
	// UOM is the unit the line was sold in and UOMFactor the stock units in
	// one of it, for the explanation; empty when it is the stock UOM.
	UOM       string
	UOMFactor float64
}

// Book is every open order competing for the supply, and that supply: the
// input of Allocate.
type Book struct {
	Orders []Order
	// Supply is the stock and receipts of the book's items. Its Demand are
	// fixed claims outside the book, served before every order.
	Supply Supply
}

// Sequence says in which order submitted orders are served.
type Sequence string

const (
	// FirstComeFirstServed serves by creation, then name (the default).
	FirstComeFirstServed Sequence = "creation"
	// EarliestDeliveryFirst serves the earliest requested delivery first,
	// ties by creation, then name.
	EarliestDeliveryFirst Sequence = "delivery_date"
)

// Supply is the supply and demand picture for the items of an order, as read
// from ERPNext. All quantities are in stock UOM.
type Supply struct {
	Stock    []Stock
	Receipts []Receipt
	Demand   []Demand
	// Items by item code. An item missing here is treated as a stock item
	// with no lead time.
	Items map[string]Item
	// Warnings name supply data that could not be read (for example
	// "Purchase Order: permission denied"). Any warning makes the promise
	// LOW confidence and is reported as a blocker.
	Warnings []string
	// ShippingWarehouses names the warehouses the company ships from. The
	// engine suggests an alternate warehouse only among these; nil means
	// every warehouse in Stock may ship. A warehouse missing from a non-nil
	// map, or mapped to false, is never suggested.
	ShippingWarehouses map[string]bool
}

// Stock is one Bin: stock on hand of an item in a warehouse.
type Stock struct {
	ItemCode  string
	Warehouse string
	ActualQty float64
	// ReservedForProduction and ReservedForSubcontract are demand due today.
	ReservedForProduction  float64
	ReservedForSubcontract float64
}

// Receipt is an expected arrival: the open quantity of a Purchase Order line.
type Receipt struct {
	ItemCode      string
	Warehouse     string
	Qty           float64
	Date          Date // expected_delivery_date, else schedule_date
	PurchaseOrder string
	// Supplier and History are for ConfidenceRules.History: the PO's
	// supplier and its record; History nil means no record.
	Supplier string
	History  *SupplierHistory
}

// SupplierHistory is a supplier's record of receipts against its Purchase
// Order lines' dates in a trailing window, computed by the caller.
type SupplierHistory struct {
	WindowDays int // the window's length, for the explanation
	// LateDays holds one entry per receipt: calendar days after the PO
	// line's date, 0 when on time or early.
	LateDays []int
}

// OnTime returns the share of receipts with no days late, and how many receipts.
func (h SupplierHistory) OnTime() (float64, int) {
	return h.ByDays(0), len(h.LateDays)
}

// ByDays returns the share of receipts at most slack days late: the
// probability a PO of this supplier arrives within slack days of its date.
func (h SupplierHistory) ByDays(slack int) float64 {
	if len(h.LateDays) == 0 {
		return 0
	}
	n := 0
	for _, d := range h.LateDays {
		if d <= slack {
			n++
		}
	}
	return float64(n) / float64(len(h.LateDays))
}

// Demand is another order's undelivered quantity due on a date.
type Demand struct {
	ItemCode   string
	Warehouse  string
	Qty        float64
	Due        Date // the line's delivery_date; past-due counts as due today
	SalesOrder string
}

// Item is the part of the Item master the engine needs.
type Item struct {
	Code         string
	StockUOM     string // for the explanation: "short 5 Nos"
	IsStockItem  bool
	LeadTimeDays int
	Disabled     bool
}

// Calendar says which days are working days.
type Calendar struct {
	// Weekend is the set of weekly non-working days. When the company's
	// Holiday List is readable, its weekly-off rows are in WeeklyOffs and
	// Weekend is the configured fallback used outside the list's range.
	Weekend []time.Weekday
	// WeeklyOffs are Holiday rows with weekly_off=1 (ERPNext generates them).
	WeeklyOffs map[Date]bool
	// Holidays are the other Holiday rows, with their descriptions.
	Holidays map[Date]string
	// ListFrom and ListTo bound the Holiday List; zero when there is none.
	ListFrom, ListTo Date
}

// ConfidenceRules are the thresholds of docs/promise.md (the earlier OTP's).
type ConfidenceRules struct {
	HighStockShare    float64 // 0.99: stock/total at or above this can be HIGH
	HighShortageShare float64 // 0.01: shortage/total below this can be HIGH
	LowShortageShare  float64 // 0.10: shortage/total above this is LOW
	FarPODays         int     // 7: POs further out than this are "far"

	// History grades a line served by purchase orders by the probability
	// that each arrives by the day the line needs it, from its supplier's
	// record (Receipt.History), instead of FarPODays: at least
	// HighProbability is HIGH, at least MediumProbability MEDIUM, below
	// LOW. A PO whose supplier has fewer than MinReceipts receipts, an
	// overdue PO, the lead time or a shortage keep the rules' answer.
	History           bool
	MinReceipts       int     // 5
	HighProbability   float64 // 0.9
	MediumProbability float64 // 0.6
}

// Rules are the promise rules: configuration defaults, overridable per quote.
type Rules struct {
	Location       *time.Location // for "today" and the cutoff
	CutoffHour     int            // 14
	CutoffMinute   int            // 0
	ProcessingDays int            // working days from availability to ship-ready
	BufferDays     int            // working days added to the order date
	// NoWeekends false treats weekly offs and weekend days as working days;
	// other holidays stay non-working.
	NoWeekends bool
	// DefaultLeadTimeDays is the fallback for items whose lead_time_days is 0;
	// 0 means no fallback.
	DefaultLeadTimeDays int
	Confidence          ConfidenceRules
	// Sequence orders a Book's submitted orders; empty means FirstComeFirstServed.
	Sequence Sequence
}

// DefaultRules returns the configuration's defaults (README, Configuration).
func DefaultRules() Rules {
	return Rules{
		Location:       time.UTC,
		CutoffHour:     14,
		ProcessingDays: 1,
		BufferDays:     1,
		NoWeekends:     true,
		Confidence: ConfidenceRules{
			HighStockShare:    0.99,
			HighShortageShare: 0.01,
			LowShortageShare:  0.10,
			FarPODays:         7,
			MinReceipts:       5,
			HighProbability:   0.9,
			MediumProbability: 0.6,
		},
		Sequence: FirstComeFirstServed,
	}
}

// SourceKind says where a line's quantity comes from.
type SourceKind string

const (
	SourceStock         SourceKind = "stock"
	SourcePurchaseOrder SourceKind = "purchase_order"
	SourceLeadTime      SourceKind = "lead_time" // replenishment lead-time fallback
)

// Source is one part of a line's fulfilment (v1's FulfillmentSource).
type Source struct {
	Kind          SourceKind
	Qty           float64
	AvailableDate Date
	ShipReadyDate Date
	Warehouse     string
	PurchaseOrder string // for SourcePurchaseOrder
	ExpectedDate  Date   // the PO's own date, before rolling to a working day
	Overdue       bool   // the PO's date was before today
}

// LinePlan is the promise for one line.
type LinePlan struct {
	LineID        string
	ItemCode      string
	Warehouse     string
	QtyRequired   float64
	Sources       []Source
	Shortage      float64
	AvailableDate Date // zero when the line cannot be fulfilled
	ShipReadyDate Date
	// PromiseDate is ship-ready + buffer days; for a Confirm order the
	// confirmed date (see Order.Confirm). Zero when the line cannot be fulfilled.
	PromiseDate Date
	// NeedDate is the day the line's goods must be there for its promise:
	// what a submitted order books. Zero when the line books nothing.
	NeedDate   Date
	Confidence Confidence
}

// Option is a suggested way to improve the promise (the earlier OTP's, docs/quote-api.md, but truthful).
type Option struct {
	Type          string // alternate_warehouse, expedite_po, split_shipment
	Description   string
	Impact        string
	PurchaseOrder string
}

// Suggestion is a procurement suggestion for a shortage.
type Suggestion struct {
	ItemCode   string
	Warehouse  string
	Qty        float64
	RequiredBy Date
}

// Plan is the engine's answer for one order.
type Plan struct {
	Status      Status
	PromiseDate Date // zero when the order cannot be fulfilled
	// PromiseDateRaw is the date from supply and rules, before the desired-date mode.
	PromiseDateRaw  Date
	DesiredDate     Date
	DesiredDateMode DesiredDateMode // set only when DesiredDate is
	// OnTime is nil without a desired date or without a promise date.
	OnTime *bool
	// WorkingDaysLate counts the working days from the desired date (rolled
	// to a working day) to a later promise; 0 when on time.
	WorkingDaysLate int
	Adjusted        bool // moved later by NoEarlyDelivery
	// MissedStrict reports a STRICT_FAIL desired date that the promise misses;
	// the quote API answers 409 with the plan.
	MissedStrict bool
	CanFulfill   bool
	Confidence   Confidence
	Lines        []LinePlan
	Reasons      []string
	Blockers     []string
	Options      []Option
	Procurement  []Suggestion
	// Explanation is one human sentence naming each source and rule applied,
	// for the order's timeline and the promise fields.
	Explanation string
}
