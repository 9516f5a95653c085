// Package planner gathers a promise's inputs from ERPNext and runs the engine.
//
// The worker (promising a saved Sales Order) and the quote API (promising a
// request) both build their inputs here, so the same order gets the same
// promise from either path. Reads are batched with "in" filters and run
// concurrently: a promise costs the same number of ERPNext requests whatever
// the number of lines (docs/promise.md, Propagation).
package planner

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/cespare/xxhash/v2"
	gojson "github.com/goccy/go-json"
	"golang.org/x/sync/singleflight"

	"github.com/erpnext-otp/otp/erp"
	"github.com/erpnext-otp/otp/promise"
)

// Reader is the part of the ERPNext client the planner reads with. It is
// satisfied by *erp.Client.
type Reader interface {
	SalesOrder(ctx context.Context, name string) (*erp.SalesOrder, error)
	Bins(ctx context.Context, items, warehouses []string) ([]erp.Bin, error)
	OpenPurchaseOrderLines(ctx context.Context, items []string) ([]erp.PurchaseOrderLine, error)
	OpenOrderBook(ctx context.Context, pageSize int) ([]erp.SalesOrderLine, error)
	OrderBookChanges(ctx context.Context, since string, names []string, limit int) ([]erp.SalesOrderLine, bool, error)
	Items(ctx context.Context, codes []string) ([]erp.Item, error)
	Warehouses(ctx context.Context, company string) ([]erp.Warehouse, error)
	CompanyHolidayList(ctx context.Context, company string) (string, error)
	HolidayList(ctx context.Context, name string) (*erp.HolidayList, error)
}

// DefaultCalendarTTL is how long a company's calendar and warehouses are
// reused before they are read again.
const DefaultCalendarTTL = 10 * time.Minute

// Config is the planner's part of OTP's configuration (README, Configuration).
type Config struct {
	// Company whose holiday list and warehouses are used; empty means the
	// order's own company (a quote then has none: weekend-only calendar).
	Company string
	// DefaultWarehouse is the last fallback for a line's warehouse.
	DefaultWarehouse string
	// Rules are the promise rules for orders, and for quotes that bring none.
	Rules promise.Rules
	// Weekend is used when no holiday list is readable; default Saturday, Sunday.
	Weekend []time.Weekday
	// CalendarTTL defaults to DefaultCalendarTTL.
	CalendarTTL time.Duration
	// BookPage is how many order lines one request of the book reads;
	// 0 means erp.DefaultBookPage.
	BookPage int
	// BookRefresh is how long Books works from the book it keeps before
	// it reads the whole book again; 0 means DefaultBookRefresh.
	BookRefresh time.Duration
	// SupplierWindowDays is the trailing window of the suppliers' records
	// (history mode); 0 means accuracy.DefaultSupplierWindowDays.
	SupplierWindowDays int
}

// Option configures a Planner.
type Option func(*Planner)

// WithClock sets the clock that gives "now" (default time.Now).
func WithClock(now func() time.Time) Option { return func(p *Planner) { p.now = now } }

// WithLogger sets the logger (default slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(p *Planner) { p.log = l } }

// Planner builds promise inputs from ERPNext. It is safe for concurrent use.
type Planner struct {
	r   Reader
	cfg Config
	now func() time.Time
	log *slog.Logger

	loads singleflight.Group // one cold read of a company's site data at a time

	mu    sync.Mutex
	sites map[string]*site // by company
	// hist reads deliveries and receipts (WithHistory); records caches
	// the suppliers' records of history mode, by company.
	hist    HistoryReader
	records map[string]supplierRecords
	warned  map[string]bool // calendar problems already logged
	// bookItems are the items of each company's book as last read: the
	// supply read alongside the next book's (readBookAndGuess).
	bookItems map[string][]string
	kept      keptBook // the book as Books last read it
}

// New returns a Planner reading from r.
func New(r Reader, cfg Config, opts ...Option) *Planner {
	if cfg.Rules.Location == nil {
		cfg.Rules.Location = time.UTC
	}
	if len(cfg.Weekend) == 0 {
		cfg.Weekend = []time.Weekday{time.Saturday, time.Sunday}
	}
	if cfg.CalendarTTL <= 0 {
		cfg.CalendarTTL = DefaultCalendarTTL
	}
	if cfg.BookRefresh <= 0 {
		cfg.BookRefresh = DefaultBookRefresh
	}
	p := &Planner{
		r:       r,
		cfg:     cfg,
		now:     time.Now,
		log:     slog.Default(),
		sites:   map[string]*site{},
		records: map[string]supplierRecords{},
		warned:  map[string]bool{},
	}
	for _, o := range opts {
		o(p)
	}
	return p
}

// Inputs is everything the engine needs for one promise: the company's
// order book, its supply and calendar, and the order (or quote) to plan.
// The maps inside Supply and Calendar may be shared between Inputs and must
// not be modified.
type Inputs struct {
	Now      time.Time
	Order    promise.Order
	Book     []promise.Order // the company's open orders, Order among them when it is one
	Supply   promise.Supply
	Calendar promise.Calendar
	Rules    promise.Rules
}

// Allocate allocates in's book.
func (p *Planner) Allocate(in Inputs) (*promise.Allocation, error) {
	return promise.Allocate(in.Now, promise.Book{Orders: in.Book, Supply: in.Supply}, in.Calendar, in.Rules)
}

// Plan allocates in's book and returns the plan of in.Order: the book's
// promise when it is one of the book's orders, else what it would get as a
// new order appended after all of them.
func (p *Planner) Plan(in Inputs) (promise.Plan, error) {
	a, err := p.Allocate(in)
	if err != nil {
		return promise.Plan{}, err
	}
	if in.Order.Name != "" {
		plan, err := a.Plan(in.Order.Name)
		if !errors.Is(err, promise.ErrUnknownOrder) {
			return plan, err
		}
	}
	return a.Quote(in.Order)
}

// Fingerprint is a short stable hash of in: equal inputs give an equal
// fingerprint whatever the order ERPNext listed supply in. "Now" enters only
// as what the engine uses of it: today's date and whether the cutoff has
// passed, in the rules' location.
func Fingerprint(in Inputs) string {
	loc := in.Rules.Location
	if loc == nil {
		loc = time.UTC
	}
	now := in.Now.In(loc)
	cutoff := time.Date(now.Year(), now.Month(), now.Day(), in.Rules.CutoffHour, in.Rules.CutoffMinute, 0, 0, loc)
	rules := in.Rules
	rules.Location = nil
	canon := struct {
		Today       promise.Date
		AfterCutoff bool
		Location    string
		Rules       promise.Rules
		Order       promise.Order
		Supply      promise.Supply
		Calendar    promise.Calendar
	}{
		Today:       promise.DateOf(now),
		AfterCutoff: now.After(cutoff),
		Location:    loc.String(),
		Rules:       rules,
		Order:       in.Order,
		Supply:      sortedSupply(in.Supply),
		Calendar:    in.Calendar,
	}
	// JSON writes maps sorted by key and follows pointers (a supplier's
	// record is read anew each pass), so equal inputs encode the same.
	// A digest to tell inputs apart, not to withstand an adversary: xxhash's
	// 64 bits, as many as the fingerprint shows.
	h := xxhash.New()
	if err := gojson.NewEncoder(h).Encode(canon); err != nil {
		// Only a NaN or infinite quantity, which no ERPNext JSON holds:
		// fmt prints those too.
		h.Reset()
		fmt.Fprintf(h, "%+v", canon)
	}
	// The book, most of the bytes, is written field by field: JSON took
	// four fifths of a pass's hash.
	var buf []byte
	for _, o := range sortedBook(in.Book) {
		buf = appendOrder(buf[:0], o)
		h.Write(buf)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// appendOrder writes every field of o, each string after its length, so
// that no two orders write the same bytes.
func appendOrder(b []byte, o promise.Order) []byte {
	b = appendString(b, o.Name)
	b = binary.AppendVarint(b, int64(o.DesiredDate))
	b = appendString(b, string(o.DesiredDateMode))
	b = appendBool(b, o.Confirm)
	b = appendBool(b, o.Submitted)
	// Unix seconds and nanoseconds: any year, the instant whatever its zone.
	b = binary.AppendVarint(b, o.Created.Unix())
	b = binary.AppendUvarint(b, uint64(o.Created.Nanosecond()))
	b = binary.AppendUvarint(b, uint64(len(o.Lines)))
	for _, l := range o.Lines {
		b = appendString(b, l.ID)
		b = appendString(b, l.ItemCode)
		b = appendString(b, l.Warehouse)
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(l.Qty))
		b = binary.AppendVarint(b, int64(l.RequestedDate))
		b = appendString(b, l.UOM)
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(l.UOMFactor))
	}
	return b
}

func appendString(b []byte, s string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

func appendBool(b []byte, v bool) []byte {
	if v {
		return append(b, 1)
	}
	return append(b, 0)
}

// sortedBook returns the book in name order, leaving it alone.
func sortedBook(b []promise.Order) []promise.Order {
	b = slices.Clone(b)
	slices.SortFunc(b, func(x, y promise.Order) int { return strings.Compare(x.Name, y.Name) })
	return b
}

// sortedSupply returns s with its lists in a canonical order, leaving s alone.
func sortedSupply(s promise.Supply) promise.Supply {
	s.Stock = slices.Clone(s.Stock)
	s.Receipts = slices.Clone(s.Receipts)
	s.Demand = slices.Clone(s.Demand)
	s.Warnings = slices.Clone(s.Warnings)
	sortSupply(&s)
	return s
}

func sortSupply(s *promise.Supply) {
	slices.SortFunc(s.Stock, func(a, b promise.Stock) int {
		return cmpJoin(strings.Compare(a.ItemCode, b.ItemCode), strings.Compare(a.Warehouse, b.Warehouse))
	})
	slices.SortFunc(s.Receipts, func(a, b promise.Receipt) int {
		return cmpJoin(strings.Compare(a.ItemCode, b.ItemCode), strings.Compare(a.Warehouse, b.Warehouse),
			int(a.Date-b.Date), strings.Compare(a.PurchaseOrder, b.PurchaseOrder), cmpFloat(a.Qty, b.Qty))
	})
	slices.SortFunc(s.Demand, func(a, b promise.Demand) int {
		return cmpJoin(strings.Compare(a.ItemCode, b.ItemCode), strings.Compare(a.Warehouse, b.Warehouse),
			int(a.Due-b.Due), strings.Compare(a.SalesOrder, b.SalesOrder), cmpFloat(a.Qty, b.Qty))
	})
	slices.Sort(s.Warnings)
}

func cmpJoin(cs ...int) int {
	for _, c := range cs {
		if c != 0 {
			return c
		}
	}
	return 0
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
