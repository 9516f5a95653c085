// Package erptest is the one test double of OTP's ERPNext client, in the
// style of wtf's mock package: each method calls the function field named
// after it (SalesOrder calls SalesOrderFn) and counts the call. A method
// whose function is nil answers nothing: zero values and no error. It
// stands in for the client wherever a test fakes planner.Reader, the quote
// API's ERPNext or readiness's check; tests that need ERPNext's behaviour
// use erp/sandbox instead.
package erptest

import (
	"context"
	"maps"
	"sync"

	"github.com/erpnext-otp/otp/erp"
)

// ERP is the double; the zero value is ready and safe for concurrent use.
type ERP struct {
	// The planner's reads (planner.Reader).
	SalesOrderFn             func(ctx context.Context, name string) (*erp.SalesOrder, error)
	BinsFn                   func(ctx context.Context, items, warehouses []string) ([]erp.Bin, error)
	OpenPurchaseOrderLinesFn func(ctx context.Context, items []string) ([]erp.PurchaseOrderLine, error)
	OpenOrderBookFn          func(ctx context.Context, pageSize int) ([]erp.SalesOrderLine, error)
	// OrderBookChangesFn unset answers "incomplete": the planner reads the whole book.
	OrderBookChangesFn   func(ctx context.Context, since string, names []string, limit int) ([]erp.SalesOrderLine, bool, error)
	ItemsFn              func(ctx context.Context, codes []string) ([]erp.Item, error)
	WarehousesFn         func(ctx context.Context, company string) ([]erp.Warehouse, error)
	CompanyHolidayListFn func(ctx context.Context, company string) (string, error)
	HolidayListFn        func(ctx context.Context, name string) (*erp.HolidayList, error)

	// The quote API's reads and writes.
	CompaniesFn             func(ctx context.Context) ([]string, error)
	SalesOrdersFn           func(ctx context.Context, q erp.SalesOrderQuery) ([]erp.SalesOrderSummary, error)
	GetDocFn                func(ctx context.Context, doctype, name string) (map[string]any, error)
	UpdateSalesOrderFn      func(ctx context.Context, so *erp.SalesOrder, fields map[string]any, lineFields map[string]map[string]any) (*erp.SalesOrder, error)
	AddCommentFn            func(ctx context.Context, doctype, name, content string) error
	CreateMaterialRequestFn func(ctx context.Context, mr erp.MaterialRequest) (string, error)
	BaseURLFn               func() string

	// Readiness's check.
	LoggedUserFn func(ctx context.Context) (string, error)

	mu    sync.Mutex
	calls map[string]int
}

func (f *ERP) count(method string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.calls == nil {
		f.calls = map[string]int{}
	}
	f.calls[method]++
}

// Calls returns how many times each method was called, by method name.
func (f *ERP) Calls() map[string]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return maps.Clone(f.calls)
}

// Reset forgets the calls counted so far.
func (f *ERP) Reset() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = nil
}

func (f *ERP) SalesOrder(ctx context.Context, name string) (*erp.SalesOrder, error) {
	f.count("SalesOrder")
	if f.SalesOrderFn == nil {
		return nil, nil
	}
	return f.SalesOrderFn(ctx, name)
}

func (f *ERP) Bins(ctx context.Context, items, warehouses []string) ([]erp.Bin, error) {
	f.count("Bins")
	if f.BinsFn == nil {
		return nil, nil
	}
	return f.BinsFn(ctx, items, warehouses)
}

func (f *ERP) OpenPurchaseOrderLines(ctx context.Context, items []string) ([]erp.PurchaseOrderLine, error) {
	f.count("OpenPurchaseOrderLines")
	if f.OpenPurchaseOrderLinesFn == nil {
		return nil, nil
	}
	return f.OpenPurchaseOrderLinesFn(ctx, items)
}

func (f *ERP) OpenOrderBook(ctx context.Context, pageSize int) ([]erp.SalesOrderLine, error) {
	f.count("OpenOrderBook")
	if f.OpenOrderBookFn == nil {
		return nil, nil
	}
	return f.OpenOrderBookFn(ctx, pageSize)
}

func (f *ERP) OrderBookChanges(ctx context.Context, since string, names []string, limit int) ([]erp.SalesOrderLine, bool, error) {
	f.count("OrderBookChanges")
	if f.OrderBookChangesFn == nil {
		return nil, false, nil
	}
	return f.OrderBookChangesFn(ctx, since, names, limit)
}

func (f *ERP) Items(ctx context.Context, codes []string) ([]erp.Item, error) {
	f.count("Items")
	if f.ItemsFn == nil {
		return nil, nil
	}
	return f.ItemsFn(ctx, codes)
}

func (f *ERP) Warehouses(ctx context.Context, company string) ([]erp.Warehouse, error) {
	f.count("Warehouses")
	if f.WarehousesFn == nil {
		return nil, nil
	}
	return f.WarehousesFn(ctx, company)
}

func (f *ERP) CompanyHolidayList(ctx context.Context, company string) (string, error) {
	f.count("CompanyHolidayList")
	if f.CompanyHolidayListFn == nil {
		return "", nil
	}
	return f.CompanyHolidayListFn(ctx, company)
}

func (f *ERP) HolidayList(ctx context.Context, name string) (*erp.HolidayList, error) {
	f.count("HolidayList")
	if f.HolidayListFn == nil {
		return nil, nil
	}
	return f.HolidayListFn(ctx, name)
}

func (f *ERP) Companies(ctx context.Context) ([]string, error) {
	f.count("Companies")
	if f.CompaniesFn == nil {
		return nil, nil
	}
	return f.CompaniesFn(ctx)
}

func (f *ERP) SalesOrders(ctx context.Context, q erp.SalesOrderQuery) ([]erp.SalesOrderSummary, error) {
	f.count("SalesOrders")
	if f.SalesOrdersFn == nil {
		return nil, nil
	}
	return f.SalesOrdersFn(ctx, q)
}

func (f *ERP) GetDoc(ctx context.Context, doctype, name string) (map[string]any, error) {
	f.count("GetDoc")
	if f.GetDocFn == nil {
		return nil, nil
	}
	return f.GetDocFn(ctx, doctype, name)
}

func (f *ERP) UpdateSalesOrder(ctx context.Context, so *erp.SalesOrder, fields map[string]any, lineFields map[string]map[string]any) (*erp.SalesOrder, error) {
	f.count("UpdateSalesOrder")
	if f.UpdateSalesOrderFn == nil {
		return nil, nil
	}
	return f.UpdateSalesOrderFn(ctx, so, fields, lineFields)
}

func (f *ERP) AddComment(ctx context.Context, doctype, name, content string) error {
	f.count("AddComment")
	if f.AddCommentFn == nil {
		return nil
	}
	return f.AddCommentFn(ctx, doctype, name, content)
}

func (f *ERP) CreateMaterialRequest(ctx context.Context, mr erp.MaterialRequest) (string, error) {
	f.count("CreateMaterialRequest")
	if f.CreateMaterialRequestFn == nil {
		return "", nil
	}
	return f.CreateMaterialRequestFn(ctx, mr)
}

func (f *ERP) BaseURL() string {
	f.count("BaseURL")
	if f.BaseURLFn == nil {
		return ""
	}
	return f.BaseURLFn()
}

func (f *ERP) LoggedUser(ctx context.Context) (string, error) {
	f.count("LoggedUser")
	if f.LoggedUserFn == nil {
		return "", nil
	}
	return f.LoggedUserFn(ctx)
}
