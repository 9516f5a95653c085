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
	"github.com/erpnext-otp/otp/erp/erptest"
	"github.com/erpnext-otp/otp/promise"
)

// withDefaults gives f the answers the planner's tests assume where they
// set none: every item exists as a stock item in Nos, the company has
// demoWarehouses, and sales orders and holiday lists are not found.
func withDefaults(f *erptest.ERP) *erptest.ERP {
	if f.SalesOrderFn == nil {
		f.SalesOrderFn = func(context.Context, string) (*erp.SalesOrder, error) { return nil, notFound() }
	}
	if f.ItemsFn == nil {
		f.ItemsFn = func(_ context.Context, codes []string) ([]erp.Item, error) {
			out := make([]erp.Item, 0, len(codes))
			for _, c := range codes {
				out = append(out, erp.Item{Code: c, Name: c, StockUOM: "Nos", IsStockItem: true})
			}
			return out, nil
		}
	}
	if f.WarehousesFn == nil {
		f.WarehousesFn = demoWarehouses
	}
	if f.HolidayListFn == nil {
		f.HolidayListFn = func(context.Context, string) (*erp.HolidayList, error) { return nil, notFound() }
	}
	return f
}

var _ Reader = (*erptest.ERP)(nil)

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

// newTestPlanner is New with the pinned clock and a silent logger, over
// an erptest.ERP given withDefaults; opts given later win.
func newTestPlanner(r Reader, cfg Config, opts ...Option) *Planner {
	if f, ok := r.(*erptest.ERP); ok {
		withDefaults(f)
	}
	base := []Option{WithClock(func() time.Time { return pinned }), WithLogger(slog.New(slog.DiscardHandler))}
	return New(r, cfg, append(base, opts...)...)
}
