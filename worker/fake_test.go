package worker

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/erpnext-otp/otp/erp"
	"github.com/erpnext-otp/otp/planner"
	"github.com/erpnext-otp/otp/promise"
	"github.com/erpnext-otp/otp/tasks"
)

const apiUser = "otp@example.com"

// pinned is the tests' clock: Wednesday 2026-11-25 10:00 UTC, before the cutoff.
var pinned = time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)

// fakeERP is an ERPNext with one store of Sales Orders, fixed supply, and
// function fields to make calls fail. UpdateSalesOrder stores what it is
// given as ERPNext would, as a save by apiUser. It counts calls per method.
type fakeERP struct {
	mu       sync.Mutex
	orders   map[string]*erp.SalesOrder
	bins     []erp.Bin
	poLines  []erp.PurchaseOrderLine
	soLines  []erp.SalesOrderLine
	docs     map[string]map[string]any // "doctype/name"
	modified func(since, after string, limit int) ([]erp.SalesOrderSummary, error)

	failRead    func(name string) error
	failUpdate  func(name string) error
	failComment func(name string) error
	failSOLines func() error

	calls    map[string]int
	updates  []update
	comments []string
	saves    int
}

type update struct {
	Name   string
	Fields map[string]any
	Lines  map[string]map[string]any
}

func newFakeERP(orders ...*erp.SalesOrder) *fakeERP {
	f := &fakeERP{orders: map[string]*erp.SalesOrder{}, calls: map[string]int{}}
	for _, o := range orders {
		f.orders[o.Name] = cloneOrder(o)
	}
	return f
}

func cloneOrder(o *erp.SalesOrder) *erp.SalesOrder {
	c := *o
	c.Items = slices.Clone(o.Items)
	return &c
}

func (f *fakeERP) count(m string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls[m]++
}

// Calls returns a copy of the call counts.
func (f *fakeERP) Calls() map[string]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string]int{}
	for k, v := range f.calls {
		out[k] = v
	}
	return out
}

// Total is the number of ERPNext calls made.
func (f *fakeERP) Total() int {
	n := 0
	for _, v := range f.Calls() {
		n += v
	}
	return n
}

func (f *fakeERP) Order(name string) *erp.SalesOrder {
	f.mu.Lock()
	defer f.mu.Unlock()
	return cloneOrder(f.orders[name])
}

func (f *fakeERP) SalesOrder(_ context.Context, name string) (*erp.SalesOrder, error) {
	f.count("SalesOrder")
	if f.failRead != nil {
		if err := f.failRead(name); err != nil {
			return nil, err
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	o, ok := f.orders[name]
	if !ok {
		return nil, &erp.Error{Kind: erp.KindNotFound, Status: http.StatusNotFound, ExcType: "DoesNotExistError",
			Method: "GET", Path: "Sales Order " + name, Message: "Sales Order " + name + " not found"}
	}
	return cloneOrder(o), nil
}

func (f *fakeERP) Bins(context.Context, []string, []string) ([]erp.Bin, error) {
	f.count("Bins")
	return f.bins, nil
}

func (f *fakeERP) OpenPurchaseOrderLines(context.Context, []string) ([]erp.PurchaseOrderLine, error) {
	f.count("OpenPurchaseOrderLines")
	return f.poLines, nil
}

func (f *fakeERP) OpenSalesOrderLines(_ context.Context, items []string) ([]erp.SalesOrderLine, error) {
	f.count("OpenSalesOrderLines")
	if f.failSOLines != nil {
		if err := f.failSOLines(); err != nil {
			return nil, err
		}
	}
	var out []erp.SalesOrderLine
	for _, l := range f.soLines {
		if slices.Contains(items, l.ItemCode) {
			out = append(out, l)
		}
	}
	return out, nil
}

// SalesOrdersWithItems names, sorted and once each, the orders of soLines
// (submitted lines) with a non-drop-ship line for one of items, and the
// stored orders, drafts included, that are open and have such a line.
func (f *fakeERP) SalesOrdersWithItems(_ context.Context, items []string) ([]string, error) {
	f.count("SalesOrdersWithItems")
	if f.failSOLines != nil {
		if err := f.failSOLines(); err != nil {
			return nil, err
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var names []string
	for _, l := range f.soLines {
		if !l.DeliveredBySupplier && slices.Contains(items, l.ItemCode) {
			names = append(names, l.SalesOrder)
		}
	}
	for _, o := range f.orders {
		if o.DocStatus > 1 || slices.Contains([]string{"Closed", "On Hold", "Completed"}, o.Status) {
			continue
		}
		if slices.ContainsFunc(o.Items, func(it erp.SalesOrderItem) bool { return slices.Contains(items, it.ItemCode) }) {
			names = append(names, o.Name)
		}
	}
	slices.Sort(names)
	return slices.Compact(names), nil
}

func (f *fakeERP) Items(_ context.Context, codes []string) ([]erp.Item, error) {
	f.count("Items")
	out := make([]erp.Item, 0, len(codes))
	for _, c := range codes {
		out = append(out, erp.Item{Code: c, IsStockItem: true})
	}
	return out, nil
}

func (f *fakeERP) Warehouses(context.Context, string) ([]erp.Warehouse, error) {
	f.count("Warehouses")
	return []erp.Warehouse{{Name: "Stores - WH", Company: "OTP Demo Co"}}, nil
}

func (f *fakeERP) CompanyHolidayList(context.Context, string) (string, error) {
	f.count("CompanyHolidayList")
	return "", nil
}

func (f *fakeERP) HolidayList(context.Context, string) (*erp.HolidayList, error) {
	f.count("HolidayList")
	return nil, &erp.Error{Kind: erp.KindNotFound, Status: http.StatusNotFound}
}

func (f *fakeERP) UpdateSalesOrder(_ context.Context, so *erp.SalesOrder, fields map[string]any, lines map[string]map[string]any) (*erp.SalesOrder, error) {
	f.count("UpdateSalesOrder")
	if f.failUpdate != nil {
		if err := f.failUpdate(so.Name); err != nil {
			return nil, err
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.updates = append(f.updates, update{Name: so.Name, Fields: fields, Lines: lines})
	o := f.orders[so.Name]
	str := func(v any) string {
		s, _ := v.(string)
		return s
	}
	for k, v := range fields {
		switch k {
		case erp.FieldPromiseDate:
			o.PromiseDate = str(v)
		case erp.FieldConfidence:
			o.Confidence = str(v)
		case erp.FieldPromiseStatus:
			o.PromiseStatus = str(v)
		case erp.FieldFirstPromiseDate:
			o.FirstPromiseDate = str(v)
		case erp.FieldPromisedAt:
			o.PromisedAt = str(v)
		case erp.FieldExplanation:
			o.Explanation = str(v)
		case erp.FieldFingerprint:
			o.Fingerprint = str(v)
		default:
			return nil, fmt.Errorf("fake: unexpected field %q", k)
		}
	}
	for i, it := range o.Items {
		for k, v := range lines[it.Name] {
			switch k {
			case erp.FieldLinePromiseDate:
				o.Items[i].LinePromiseDate = str(v)
			case erp.FieldLineConfidence:
				o.Items[i].LineConfidence = str(v)
			default:
				return nil, fmt.Errorf("fake: unexpected line field %q", k)
			}
		}
	}
	// A save: a new `modified`, by the API user (erpnext-reference.md §1.2).
	f.saves++
	o.Modified = fmt.Sprintf("2026-11-25 10:00:%02d.000000", f.saves)
	o.ModifiedBy = apiUser
	return cloneOrder(o), nil
}

func (f *fakeERP) AddComment(_ context.Context, doctype, name, content string) error {
	f.count("AddComment")
	if f.failComment != nil {
		if err := f.failComment(name); err != nil {
			return err
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.comments = append(f.comments, doctype+" "+name+": "+content)
	return nil
}

func (f *fakeERP) SalesOrdersModifiedSince(_ context.Context, since, after string, limit int) ([]erp.SalesOrderSummary, error) {
	f.count("SalesOrdersModifiedSince")
	if f.modified == nil {
		return nil, nil
	}
	return f.modified(since, after, limit)
}

// keysetPage is what ERPNext answers SalesOrdersModifiedSince from all:
// the orders after (since, after) in (modified, name) order, at most limit.
func keysetPage(all []erp.SalesOrderSummary, since, after string, limit int) []erp.SalesOrderSummary {
	sorted := slices.Clone(all)
	slices.SortFunc(sorted, func(a, b erp.SalesOrderSummary) int {
		return cmp.Or(strings.Compare(a.Modified, b.Modified), strings.Compare(a.Name, b.Name))
	})
	var out []erp.SalesOrderSummary
	for _, o := range sorted {
		if o.Modified > since || (o.Modified == since && o.Name > after) {
			if limit > 0 && len(out) == limit {
				break
			}
			out = append(out, o)
		}
	}
	return out
}

func (f *fakeERP) GetDoc(_ context.Context, doctype, name string) (map[string]any, error) {
	f.count("GetDoc")
	d, ok := f.docs[doctype+"/"+name]
	if !ok {
		return nil, &erp.Error{Kind: erp.KindNotFound, Status: http.StatusNotFound, Method: "GET", Path: doctype + " " + name}
	}
	return d, nil
}

var _ ERP = (*fakeERP)(nil)

// env is a worker wired to a fake ERPNext and a miniredis.
type env struct {
	w        *Worker
	erp      *fakeERP
	mr       *miniredis.Miniredis
	rdb      *redis.Client
	versions *tasks.Versions
	client   *asynq.Client
	insp     *asynq.Inspector
}

// MustEnv builds a worker over f with the pinned clock; mod adjusts Deps.
func MustEnv(tb testing.TB, f *fakeERP, mod ...func(*Deps)) *env {
	tb.Helper()
	mr := miniredis.RunT(tb)
	rdb := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	tb.Cleanup(func() { rdb.Close() })
	client := asynq.NewClientFromRedisClient(rdb)
	insp := asynq.NewInspectorFromRedisClient(rdb)
	quiet := slog.New(slog.DiscardHandler)
	clock := func() time.Time { return pinned }
	pl := planner.New(f, planner.Config{
		Company: "OTP Demo Co", DefaultWarehouse: "Stores - WH", Rules: promise.DefaultRules(),
	}, planner.WithClock(clock), planner.WithLogger(quiet))
	d := Deps{
		ERP: f, Planner: pl, Versions: tasks.NewVersions(rdb), Enqueuer: client, Redis: rdb,
		APIUser: apiUser, Logger: quiet, Now: clock, Location: time.UTC,
	}
	for _, m := range mod {
		m(&d)
	}
	return &env{w: New(d), erp: f, mr: mr, rdb: rdb, versions: d.Versions, client: client, insp: insp}
}

// MustPromiseTask builds the task for one webhook delivery of order at modified.
func MustPromiseTask(tb testing.TB, order, modified string) *asynq.Task {
	tb.Helper()
	t, err := tasks.NewPromiseOrderTask(tasks.PromiseOrder{SalesOrder: order, Modified: modified, Event: "on_update"})
	if err != nil {
		tb.Fatal(err)
	}
	return t
}
