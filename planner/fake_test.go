package planner

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/erpnext-otp/otp/erp"
	"github.com/erpnext-otp/otp/promise"
)

// fakeReader is a Reader with function fields; unset ones return nothing.
// It counts calls per method.
type fakeReader struct {
	salesOrder         func(name string) (*erp.SalesOrder, error)
	bins               func(items, warehouses []string) ([]erp.Bin, error)
	poLines            func(items []string) ([]erp.PurchaseOrderLine, error)
	soLines            func(items []string) ([]erp.SalesOrderLine, error)
	items              func(codes []string) ([]erp.Item, error)
	warehouses         func(company string) ([]erp.Warehouse, error)
	companyHolidayList func(company string) (string, error)
	holidayList        func(name string) (*erp.HolidayList, error)

	mu    sync.Mutex
	calls map[string]int
}

func (f *fakeReader) count(method string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.calls == nil {
		f.calls = map[string]int{}
	}
	f.calls[method]++
}

// Calls returns a copy of the call counts.
func (f *fakeReader) Calls() map[string]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string]int{}
	for k, v := range f.calls {
		out[k] = v
	}
	return out
}

func (f *fakeReader) SalesOrder(_ context.Context, name string) (*erp.SalesOrder, error) {
	f.count("SalesOrder")
	if f.salesOrder == nil {
		return nil, &erp.Error{Kind: erp.KindNotFound, Status: http.StatusNotFound}
	}
	return f.salesOrder(name)
}

func (f *fakeReader) Bins(_ context.Context, items, warehouses []string) ([]erp.Bin, error) {
	f.count("Bins")
	if f.bins == nil {
		return nil, nil
	}
	return f.bins(items, warehouses)
}

func (f *fakeReader) OpenPurchaseOrderLines(_ context.Context, items []string) ([]erp.PurchaseOrderLine, error) {
	f.count("OpenPurchaseOrderLines")
	if f.poLines == nil {
		return nil, nil
	}
	return f.poLines(items)
}

func (f *fakeReader) OpenOrderBook(_ context.Context, _ int) ([]erp.SalesOrderLine, error) {
	f.count("OpenOrderBook")
	if f.soLines == nil {
		return nil, nil
	}
	return f.soLines(nil)
}

func (f *fakeReader) Items(_ context.Context, codes []string) ([]erp.Item, error) {
	f.count("Items")
	if f.items == nil {
		out := make([]erp.Item, 0, len(codes))
		for _, c := range codes {
			out = append(out, erp.Item{Code: c, Name: c, StockUOM: "Nos", IsStockItem: true})
		}
		return out, nil
	}
	return f.items(codes)
}

func (f *fakeReader) Warehouses(_ context.Context, company string) ([]erp.Warehouse, error) {
	f.count("Warehouses")
	if f.warehouses == nil {
		return demoWarehouses(company)
	}
	return f.warehouses(company)
}

func (f *fakeReader) CompanyHolidayList(_ context.Context, company string) (string, error) {
	f.count("CompanyHolidayList")
	if f.companyHolidayList == nil {
		return "", nil
	}
	return f.companyHolidayList(company)
}

func (f *fakeReader) HolidayList(_ context.Context, name string) (*erp.HolidayList, error) {
	f.count("HolidayList")
	if f.holidayList == nil {
		return nil, &erp.Error{Kind: erp.KindNotFound, Status: http.StatusNotFound}
	}
	return f.holidayList(name)
}

var _ Reader = (*fakeReader)(nil)

// MustDate parses "YYYY-MM-DD" or fails the test.
func MustDate(tb testing.TB, s string) promise.Date {
	tb.Helper()
	d, err := promise.ParseDate(s)
	if err != nil {
		tb.Fatal(err)
	}
	return d
}

// pinned is the tests' clock: Wednesday 2026-11-25 10:00 UTC.
var pinned = time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)

// clock is a settable clock for cache expiry tests.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// cmpOpts compare time.Location by name (it has unexported fields).
var cmpOpts = []cmp.Option{
	cmp.Comparer(func(a, b *time.Location) bool { return a.String() == b.String() }),
}

func permissionDenied() error {
	return &erp.Error{Kind: erp.KindPermission, Status: http.StatusForbidden, Message: "Insufficient Permission"}
}

func notFound() error {
	return &erp.Error{Kind: erp.KindNotFound, Status: http.StatusNotFound}
}

// newTestPlanner is New with the pinned clock and a silent logger; opts
// given later win.
func newTestPlanner(r Reader, cfg Config, opts ...Option) *Planner {
	base := []Option{WithClock(func() time.Time { return pinned }), WithLogger(slog.New(slog.DiscardHandler))}
	return New(r, cfg, append(base, opts...)...)
}
