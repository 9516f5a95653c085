package planner

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/erpnext-otp/otp/erp"
	"github.com/erpnext-otp/otp/erp/erptest"
	"github.com/erpnext-otp/otp/promise"
)

const company = "OTP Demo Co"

func testConfig() Config {
	return Config{Company: company, DefaultWarehouse: "Stores - WH", Rules: promise.DefaultRules()}
}

// demoWarehouses is a company's warehouse tree as ERPNext's setup makes it
// (docs/erpnext.md), plus one disabled, one for rejected goods
// and one of another company.
func demoWarehouses(context.Context, string) ([]erp.Warehouse, error) {
	return []erp.Warehouse{
		{Name: "All Warehouses - WH", Company: company, IsGroup: true},
		{Name: "Stores - WH", Company: company, ParentWarehouse: "All Warehouses - WH"},
		{Name: "Finished Goods - WH", Company: company, ParentWarehouse: "All Warehouses - WH"},
		{Name: "Goods In Transit - WH", Company: company, WarehouseType: "Transit"},
		{Name: "Work In Progress - WH", Company: company},
		{Name: "Old Depot - WH", Company: company, Disabled: true},
		{Name: "Rejected - WH", Company: company, ParentWarehouse: "All Warehouses - WH", IsRejectedWarehouse: true},
		{Name: "Small Parts - WH", Company: company}, // the earlier OTP called this a group ("all")
		{Name: "Stores - XX", Company: "Other Co"},
	}, nil
}

func TestForOrderMapsERPNextToEngineInputs(t *testing.T) {
	so := &erp.SalesOrder{
		Name: "SAL-ORD-2026-00001", Company: company, DocStatus: 1, Status: "To Deliver and Bill",
		SetWarehouse: "Finished Goods - WH", DeliveryDate: "2026-12-10",
		Items: []erp.SalesOrderItem{
			// 2 boxes of 12, half a box delivered: 24 − 0.5×12 = 18 in stock UOM.
			{Name: "row-a", ItemCode: "SKU-001", Warehouse: "Stores - WH", Qty: 2, UOM: "Box", StockUOM: "Nos", ConversionFactor: 12, StockQty: 24, DeliveredQty: 0.5},
			// No line warehouse: the order's set_warehouse.
			{Name: "row-b", ItemCode: "SKU-002", Qty: 5, UOM: "Nos", ConversionFactor: 1, StockQty: 5},
			// Fully delivered: left out.
			{Name: "row-c", ItemCode: "SKU-003", Qty: 3, ConversionFactor: 1, StockQty: 3, DeliveredQty: 3},
			// Over-delivered: clamped to 0 and left out.
			{Name: "row-d", ItemCode: "SKU-004", Qty: 1, ConversionFactor: 1, StockQty: 1, DeliveredQty: 2},
			// Drop-ship: the supplier ships it, so it is left out.
			{Name: "row-e", ItemCode: "SKU-001", Warehouse: "Stores - WH", Qty: 7, ConversionFactor: 1, StockQty: 7, DeliveredBySupplier: true},
		},
	}
	var gotBinItems, gotBinWarehouses []string
	f := &erptest.ERP{
		BinsFn: func(_ context.Context, items, whs []string) ([]erp.Bin, error) {
			gotBinItems, gotBinWarehouses = items, whs
			return []erp.Bin{
				{ItemCode: "SKU-002", Warehouse: "Finished Goods - WH", ActualQty: 1, ReservedQty: 4},
				{ItemCode: "SKU-001", Warehouse: "Stores - WH", ActualQty: 6, ReservedQty: 18, ProjectedQty: -12,
					ReservedQtyForProduction: 2, ReservedQtyForSubContract: 1},
				{ItemCode: "SKU-001", Warehouse: "Small Parts - WH", ActualQty: 40},
			}, nil
		},
		OpenPurchaseOrderLinesFn: func(context.Context, []string) ([]erp.PurchaseOrderLine, error) {
			return []erp.PurchaseOrderLine{
				// 10 boxes of 12, 4 received: (10−4)×12 = 72, expected date wins.
				{PurchaseOrder: "PUR-ORD-1", Status: "To Receive and Bill", ItemCode: "SKU-001", Warehouse: "Stores - WH",
					Qty: 10, ReceivedQty: 4, ConversionFactor: 12, ScheduleDate: "2026-12-01", ExpectedDeliveryDate: "2026-12-03"},
				// Overdue: passed through as is (the engine moves and flags it).
				{PurchaseOrder: "PUR-ORD-2", Status: "To Receive", ItemCode: "SKU-002", Warehouse: "Finished Goods - WH",
					Qty: 4, ConversionFactor: 1, ScheduleDate: "2026-11-20"},
				// Drop-ship: never reaches our stock.
				{PurchaseOrder: "PUR-ORD-3", Status: "To Receive and Bill", ItemCode: "SKU-001", Warehouse: "Stores - WH",
					Qty: 50, ConversionFactor: 1, ScheduleDate: "2026-11-30", DeliveredBySupplier: true},
				// Fully received.
				{PurchaseOrder: "PUR-ORD-4", Status: "To Bill", ItemCode: "SKU-001", Warehouse: "Stores - WH",
					Qty: 5, ReceivedQty: 5, ConversionFactor: 1, ScheduleDate: "2026-11-30"},
				// No date at all.
				{PurchaseOrder: "PUR-ORD-5", Status: "To Receive", ItemCode: "SKU-001", Warehouse: "Stores - WH", Qty: 5, ConversionFactor: 1},
				// Closed.
				{PurchaseOrder: "PUR-ORD-6", Status: "Closed", ItemCode: "SKU-001", Warehouse: "Stores - WH", Qty: 5, ConversionFactor: 1, ScheduleDate: "2026-11-30"},
			}, nil
		},
		OpenOrderBookFn: func(context.Context, int) ([]erp.SalesOrderLine, error) {
			// The book as ERPNext lists it: open orders only (the read
			// filters out closed, on hold and cancelled ones).
			return []erp.SalesOrderLine{
				// Another order: (3 − 1) boxes × 12 = 24 wanted on its delivery date.
				{SalesOrder: "SAL-ORD-2026-00002", Status: "To Deliver and Bill", DocStatus: 1, Creation: "2026-11-20 09:00:00.5",
					OrderDeliveryDate: "2026-11-27", ItemCode: "SKU-001", Warehouse: "Stores - WH",
					Name: "x1", Qty: 3, StockQty: 36, ConversionFactor: 12, DeliveredQty: 1, DeliveryDate: "2026-11-27"},
				// The order itself: replaced by the version just read.
				{SalesOrder: so.Name, Status: "To Deliver and Bill", DocStatus: 1, ItemCode: "SKU-001", Warehouse: "Stores - WH",
					Name: "row-a", Qty: 2, StockQty: 24, ConversionFactor: 12, DeliveryDate: "2026-12-10"},
				// Drop-ship only: nothing of ours to promise, not in the book.
				{SalesOrder: "SAL-ORD-2026-00003", Status: "To Deliver", DocStatus: 1, ItemCode: "SKU-001", Warehouse: "Stores - WH",
					Name: "x3", Qty: 9, ConversionFactor: 1, DeliveryDate: "2026-11-26", DeliveredBySupplier: true},
				// A draft, past due, and one with no date at all.
				{SalesOrder: "SAL-ORD-2026-00006", Status: "Draft", DocStatus: 0, Creation: "2026-11-21 09:00:00",
					OrderDeliveryDate: "2026-11-01", ItemCode: "SKU-002", Warehouse: "Finished Goods - WH",
					Name: "x6", Qty: 2, StockQty: 2, ConversionFactor: 1, DeliveryDate: "2026-11-01"},
				{SalesOrder: "SAL-ORD-2026-00007", Status: "To Deliver", DocStatus: 1, Creation: "2026-11-22 09:00:00",
					ItemCode: "SKU-002", Warehouse: "", SetWarehouse: "Finished Goods - WH", Name: "x7", Qty: 1, StockQty: 1, ConversionFactor: 1},
			}, nil
		},
		ItemsFn: func(_ context.Context, codes []string) ([]erp.Item, error) {
			return []erp.Item{
				{Code: "SKU-001", IsStockItem: true, LeadTimeDays: 14},
				{Code: "SKU-002", IsStockItem: true, Disabled: true},
			}, nil
		},
		WarehousesFn: demoWarehouses,
	}
	p := newTestPlanner(f, testConfig())

	got, err := p.ForOrder(context.Background(), so)
	if err != nil {
		t.Fatal(err)
	}
	order := promise.Order{
		Name: so.Name,
		Lines: []promise.Line{
			{ID: "row-a", ItemCode: "SKU-001", Warehouse: "Stores - WH", Qty: 18, UOM: "Box", UOMFactor: 12},
			{ID: "row-b", ItemCode: "SKU-002", Warehouse: "Finished Goods - WH", Qty: 5},
		},
		DesiredDate: MustDate(t, "2026-12-10"),
		Confirm:     true,
		Submitted:   true,
	}
	want := Inputs{
		Now:   pinned,
		Order: order,
		Book: []promise.Order{
			{Name: "SAL-ORD-2026-00002", Confirm: true, Submitted: true, DesiredDate: MustDate(t, "2026-11-27"),
				Created: time.Date(2026, 11, 20, 9, 0, 0, 500_000_000, time.UTC),
				Lines:   []promise.Line{{ID: "x1", ItemCode: "SKU-001", Warehouse: "Stores - WH", Qty: 24, RequestedDate: MustDate(t, "2026-11-27")}}},
			{Name: "SAL-ORD-2026-00006", Confirm: true, DesiredDate: MustDate(t, "2026-11-01"),
				Created: time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC),
				Lines:   []promise.Line{{ID: "x6", ItemCode: "SKU-002", Warehouse: "Finished Goods - WH", Qty: 2, RequestedDate: MustDate(t, "2026-11-01")}}},
			{Name: "SAL-ORD-2026-00007", Confirm: true, Submitted: true, Created: time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC),
				Lines: []promise.Line{{ID: "x7", ItemCode: "SKU-002", Warehouse: "Finished Goods - WH", Qty: 1}}},
			order,
		},
		Supply: promise.Supply{
			Stock: []promise.Stock{
				{ItemCode: "SKU-001", Warehouse: "Small Parts - WH", ActualQty: 40},
				{ItemCode: "SKU-001", Warehouse: "Stores - WH", ActualQty: 6, ReservedForProduction: 2, ReservedForSubcontract: 1},
				{ItemCode: "SKU-002", Warehouse: "Finished Goods - WH", ActualQty: 1},
			},
			Receipts: []promise.Receipt{
				{ItemCode: "SKU-001", Warehouse: "Stores - WH", Qty: 72, Date: MustDate(t, "2026-12-03"), PurchaseOrder: "PUR-ORD-1"},
				{ItemCode: "SKU-002", Warehouse: "Finished Goods - WH", Qty: 4, Date: MustDate(t, "2026-11-20"), PurchaseOrder: "PUR-ORD-2"},
			},
			Items: map[string]promise.Item{
				"SKU-001": {Code: "SKU-001", IsStockItem: true, LeadTimeDays: 14},
				"SKU-002": {Code: "SKU-002", IsStockItem: true, Disabled: true},
			},
			ShippingWarehouses: map[string]bool{"Finished Goods - WH": true, "Small Parts - WH": true, "Stores - WH": true},
		},
		Calendar: promise.Calendar{Weekend: []time.Weekday{time.Saturday, time.Sunday}},
		Rules:    promise.DefaultRules(),
	}
	if diff := cmp.Diff(want, got, cmpOpts...); diff != "" {
		t.Errorf("ForOrder inputs (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"SKU-001", "SKU-002"}, gotBinItems); diff != "" {
		t.Errorf("Bins items (-want +got):\n%s", diff)
	}
	if gotBinWarehouses != nil {
		t.Errorf("Bins warehouses = %q, want nil (all warehouses)", gotBinWarehouses)
	}
}

func TestForOrderWarehouseFallback(t *testing.T) {
	tests := []struct {
		name               string
		line, setWarehouse string
		want               string
	}{
		{"line warehouse wins", "Finished Goods - WH", "Small Parts - WH", "Finished Goods - WH"},
		{"order set_warehouse", "", "Small Parts - WH", "Small Parts - WH"},
		{"configured default", "", "", "Stores - WH"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newTestPlanner(&erptest.ERP{}, testConfig())
			in, err := p.ForOrder(context.Background(), &erp.SalesOrder{
				Name: "SO", SetWarehouse: tt.setWarehouse,
				Items: []erp.SalesOrderItem{{Name: "r", ItemCode: "SKU-001", Warehouse: tt.line, Qty: 1, ConversionFactor: 1, StockQty: 1}},
			})
			if err != nil {
				t.Fatal(err)
			}
			if got := in.Order.Lines[0].Warehouse; got != tt.want {
				t.Errorf("warehouse = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestForOrderNothingLeftToDeliver(t *testing.T) {
	f := &erptest.ERP{}
	p := newTestPlanner(f, testConfig())
	_, err := p.ForOrder(context.Background(), &erp.SalesOrder{
		Name:  "SO",
		Items: []erp.SalesOrderItem{{Name: "r", ItemCode: "SKU-001", Qty: 4, ConversionFactor: 1, StockQty: 4, DeliveredQty: 4}},
	})
	if !errors.Is(err, ErrNothingToPromise) {
		t.Fatalf("err = %v, want ErrNothingToPromise", err)
	}
	if n := len(f.Calls()); n != 0 {
		t.Errorf("ERPNext calls = %v, want none", f.Calls())
	}
}

func TestCalendarFromHolidayList(t *testing.T) {
	weekend := []time.Weekday{time.Friday, time.Saturday}
	list := &erp.HolidayList{
		Name: "Demo 2026", FromDate: "2026-01-01", ToDate: "2026-12-31",
		Holidays: []erp.Holiday{
			{Date: "2026-11-27", Description: "Friday", WeeklyOff: true},
			{Date: "2026-11-28", Description: "Saturday", WeeklyOff: true},
			{Date: "2026-12-08", Description: "Founders' Day"},
		},
	}
	withList := promise.Calendar{
		Weekend:    weekend,
		WeeklyOffs: map[promise.Date]bool{MustDate(t, "2026-11-27"): true, MustDate(t, "2026-11-28"): true},
		Holidays:   map[promise.Date]string{MustDate(t, "2026-12-08"): "Founders' Day"},
		ListFrom:   MustDate(t, "2026-01-01"),
		ListTo:     MustDate(t, "2026-12-31"),
	}
	weekendOnly := promise.Calendar{Weekend: weekend}
	tests := []struct {
		name        string
		companyList func(context.Context, string) (string, error)
		holidayList func(context.Context, string) (*erp.HolidayList, error)
		want        promise.Calendar
		wantErr     error
		wantCalls   map[string]int
	}{
		{
			name:        "company default holiday list",
			companyList: func(context.Context, string) (string, error) { return "Demo 2026", nil },
			holidayList: func(_ context.Context, n string) (*erp.HolidayList, error) { return list, nil },
			want:        withList,
			wantCalls:   map[string]int{"CompanyHolidayList": 1, "HolidayList": 1},
		},
		{
			name:        "holiday list not readable (403, HR Manager only)",
			companyList: func(context.Context, string) (string, error) { return "Demo 2026", nil },
			holidayList: func(context.Context, string) (*erp.HolidayList, error) { return nil, permissionDenied() },
			want:        weekendOnly,
			wantCalls:   map[string]int{"CompanyHolidayList": 1, "HolidayList": 1},
		},
		{
			name:        "holiday list deleted (404)",
			companyList: func(context.Context, string) (string, error) { return "Demo 2026", nil },
			holidayList: func(context.Context, string) (*erp.HolidayList, error) { return nil, notFound() },
			want:        weekendOnly,
			wantCalls:   map[string]int{"CompanyHolidayList": 1, "HolidayList": 1},
		},
		{
			name:        "company not readable (403)",
			companyList: func(context.Context, string) (string, error) { return "", permissionDenied() },
			want:        weekendOnly,
			wantCalls:   map[string]int{"CompanyHolidayList": 1},
		},
		{
			name:        "no default holiday list",
			companyList: func(context.Context, string) (string, error) { return "", nil },
			want:        weekendOnly,
			wantCalls:   map[string]int{"CompanyHolidayList": 1},
		},
		{
			name:        "ERPNext down is an error",
			companyList: func(context.Context, string) (string, error) { return "Demo 2026", nil },
			holidayList: func(context.Context, string) (*erp.HolidayList, error) {
				return nil, &erp.Error{Kind: erp.KindServer, Status: http.StatusServiceUnavailable}
			},
			wantErr:   erp.ErrServer,
			wantCalls: map[string]int{"CompanyHolidayList": 1, "HolidayList": 1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &erptest.ERP{CompanyHolidayListFn: tt.companyList, HolidayListFn: tt.holidayList}
			cfg := testConfig()
			cfg.Weekend = weekend
			p := newTestPlanner(f, cfg)
			in, err := p.ForQuote(context.Background(), Quote{Lines: []QuoteLine{{ItemCode: "SKU-001", Qty: 1}}})
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, in.Calendar); tt.wantErr == nil && diff != "" {
				t.Errorf("calendar (-want +got):\n%s", diff)
			}
			calls := f.Calls()
			got := map[string]int{"CompanyHolidayList": calls["CompanyHolidayList"], "HolidayList": calls["HolidayList"]}
			want := map[string]int{"CompanyHolidayList": tt.wantCalls["CompanyHolidayList"], "HolidayList": tt.wantCalls["HolidayList"]}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("calendar reads (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSiteDataIsCachedForTheTTL(t *testing.T) {
	clk := &clock{t: pinned}
	f := &erptest.ERP{
		WarehousesFn:         demoWarehouses,
		CompanyHolidayListFn: func(context.Context, string) (string, error) { return "Demo 2026", nil },
		HolidayListFn: func(context.Context, string) (*erp.HolidayList, error) {
			return &erp.HolidayList{Name: "Demo 2026", FromDate: "2026-01-01", ToDate: "2026-12-31"}, nil
		},
	}
	cfg := testConfig()
	cfg.CalendarTTL = 5 * time.Minute
	p := newTestPlanner(f, cfg, WithClock(clk.Now))
	quote := Quote{Lines: []QuoteLine{{ItemCode: "SKU-001", Qty: 1}}}
	steps := []struct {
		advance   time.Duration
		wantReads int // Warehouses + CompanyHolidayList + HolidayList so far
	}{
		{0, 3},               // cold
		{time.Minute, 3},     // warm
		{4 * time.Minute, 6}, // 5 min after the first read: expired
		{time.Minute, 6},
	}
	for i, s := range steps {
		clk.Advance(s.advance)
		if _, err := p.ForQuote(context.Background(), quote); err != nil {
			t.Fatal(err)
		}
		c := f.Calls()
		if got := c["Warehouses"] + c["CompanyHolidayList"] + c["HolidayList"]; got != s.wantReads {
			t.Errorf("step %d: site reads = %d, want %d", i, got, s.wantReads)
		}
		if c["Bins"] != i+1 {
			t.Errorf("step %d: Bins reads = %d, want %d (supply is never cached)", i, c["Bins"], i+1)
		}
	}
}

func TestReadFailures(t *testing.T) {
	server := func() error { return &erp.Error{Kind: erp.KindServer, Status: http.StatusInternalServerError} }
	tests := []struct {
		name         string
		f            *erptest.ERP
		wantErr      error
		wantWarnings []string
	}{
		{
			name:         "purchase orders forbidden: a warning, not an error",
			f:            &erptest.ERP{OpenPurchaseOrderLinesFn: func(context.Context, []string) ([]erp.PurchaseOrderLine, error) { return nil, permissionDenied() }},
			wantWarnings: []string{WarningPurchaseOrders},
		},
		{
			name:         "sales orders forbidden: a warning, not an error",
			f:            &erptest.ERP{OpenOrderBookFn: func(context.Context, int) ([]erp.SalesOrderLine, error) { return nil, permissionDenied() }},
			wantWarnings: []string{WarningSalesOrders},
		},
		{
			name:    "purchase orders failing otherwise",
			f:       &erptest.ERP{OpenPurchaseOrderLinesFn: func(context.Context, []string) ([]erp.PurchaseOrderLine, error) { return nil, server() }},
			wantErr: erp.ErrServer,
		},
		{
			name:    "bins forbidden is an error",
			f:       &erptest.ERP{BinsFn: func(context.Context, []string, []string) ([]erp.Bin, error) { return nil, permissionDenied() }},
			wantErr: erp.ErrPermission,
		},
		{
			name:    "items failing",
			f:       &erptest.ERP{ItemsFn: func(context.Context, []string) ([]erp.Item, error) { return nil, server() }},
			wantErr: erp.ErrServer,
		},
		{
			name:    "warehouses failing",
			f:       &erptest.ERP{WarehousesFn: func(context.Context, string) ([]erp.Warehouse, error) { return nil, server() }},
			wantErr: erp.ErrServer,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newTestPlanner(tt.f, testConfig())
			in, err := p.ForOrder(context.Background(), &erp.SalesOrder{
				Name:  "SO",
				Items: []erp.SalesOrderItem{{Name: "r", ItemCode: "SKU-001", Qty: 1, ConversionFactor: 1, StockQty: 1}},
			})
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.wantWarnings, in.Supply.Warnings); diff != "" {
				t.Errorf("warnings (-want +got):\n%s", diff)
			}
			if tt.wantErr != nil {
				return
			}
			// No stock and supply unknown: the earlier OTP's answer for a PO
			// access error (docs/quote-api.md).
			plan, err := p.Plan(in)
			if err != nil {
				t.Fatal(err)
			}
			if plan.Status != promise.StatusCannotPromiseReliably || plan.Confidence != promise.ConfidenceLow {
				t.Errorf("plan = %s %s, want CANNOT_PROMISE_RELIABLY LOW", plan.Status, plan.Confidence)
			}
		})
	}
}

func TestForQuote(t *testing.T) {
	f := &erptest.ERP{
		WarehousesFn: demoWarehouses,
		ItemsFn: func(_ context.Context, codes []string) ([]erp.Item, error) {
			var out []erp.Item
			for _, c := range codes {
				if c != "NOPE" {
					out = append(out, erp.Item{Code: c, IsStockItem: true})
				}
			}
			return out, nil
		},
	}
	p := newTestPlanner(f, testConfig())
	ctx := context.Background()

	t.Run("lines, default warehouse, desired date, rules", func(t *testing.T) {
		rules := promise.DefaultRules()
		rules.BufferDays = 3
		in, err := p.ForQuote(ctx, Quote{
			Lines:       []QuoteLine{{ItemCode: "SKU-001", Qty: 4}, {ItemCode: "SKU-002", Warehouse: "Finished Goods - WH", Qty: 2.5}},
			DesiredDate: MustDate(t, "2026-12-01"), Mode: promise.StrictFail, Rules: rules,
		})
		if err != nil {
			t.Fatal(err)
		}
		want := promise.Order{
			Lines: []promise.Line{
				{ID: "1", ItemCode: "SKU-001", Warehouse: "Stores - WH", Qty: 4},
				{ID: "2", ItemCode: "SKU-002", Warehouse: "Finished Goods - WH", Qty: 2.5},
			},
			DesiredDate: MustDate(t, "2026-12-01"), DesiredDateMode: promise.StrictFail,
		}
		if diff := cmp.Diff(want, in.Order); diff != "" {
			t.Errorf("order (-want +got):\n%s", diff)
		}
		if in.Rules.BufferDays != 3 {
			t.Errorf("rules.BufferDays = %d, want the quote's 3", in.Rules.BufferDays)
		}
	})

	tests := []struct {
		name     string
		lines    []QuoteLine
		sentinel error
		want     *NotFoundError
	}{
		{"unknown item", []QuoteLine{{ItemCode: "SKU-001", Qty: 1}, {ItemCode: "NOPE", Qty: 1}}, ErrUnknownItem,
			&NotFoundError{Kind: "item", Name: "NOPE"}},
		{"unknown warehouse", []QuoteLine{{ItemCode: "SKU-001", Warehouse: "Nowhere - WH", Qty: 1}}, ErrUnknownWarehouse,
			&NotFoundError{Kind: "warehouse", Name: "Nowhere - WH"}},
		{"another company's warehouse", []QuoteLine{{ItemCode: "SKU-001", Warehouse: "Stores - ZZ", Qty: 1}}, ErrUnknownWarehouse,
			&NotFoundError{Kind: "warehouse", Name: "Stores - ZZ"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := p.ForQuote(ctx, Quote{Lines: tt.lines})
			if !errors.Is(err, tt.sentinel) {
				t.Fatalf("err = %v, want %v", err, tt.sentinel)
			}
			var nf *NotFoundError
			if !errors.As(err, &nf) {
				t.Fatalf("err = %T, want *NotFoundError", err)
			}
			if diff := cmp.Diff(tt.want, nf); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// ERPNext compares names without case (MariaDB's collation), so its "in"
// reads match "sku-001" to the item "SKU-001" and answer with "SKU-001". A
// quote typed in another case is planned against that item and warehouse,
// under their canonical names, and is not a 404.
func TestForQuoteResolvesNamesWithoutCase(t *testing.T) {
	masters := []erp.Item{{Code: "SKU-001", IsStockItem: true}, {Code: "SKU-002", IsStockItem: true}}
	bins := []erp.Bin{
		{ItemCode: "SKU-001", Warehouse: "Stores - WH", ActualQty: 5},
		{ItemCode: "SKU-002", Warehouse: "Finished Goods - WH", ActualQty: 3},
	}
	// in is an "in" filter under a case-insensitive collation.
	in := func(v string, list []string) bool {
		return slices.ContainsFunc(list, func(s string) bool { return strings.EqualFold(s, v) })
	}
	reader := func(warehouses func(context.Context, string) ([]erp.Warehouse, error)) *erptest.ERP {
		return &erptest.ERP{
			WarehousesFn: warehouses,
			ItemsFn: func(_ context.Context, codes []string) ([]erp.Item, error) {
				var out []erp.Item
				for _, m := range masters {
					if in(m.Code, codes) {
						out = append(out, m)
					}
				}
				return out, nil
			},
			BinsFn: func(_ context.Context, items, _ []string) ([]erp.Bin, error) {
				var out []erp.Bin
				for _, b := range bins {
					if in(b.ItemCode, items) {
						out = append(out, b)
					}
				}
				return out, nil
			},
		}
	}
	quote := Quote{Lines: []QuoteLine{
		{ItemCode: "sku-001", Warehouse: "stores - wh", Qty: 2},
		{ItemCode: "Sku-002", Warehouse: "FINISHED GOODS - WH", Qty: 1},
		{ItemCode: "SKU-001", Qty: 1}, // the default warehouse, as configured
	}}
	want := []promise.Line{
		{ID: "1", ItemCode: "SKU-001", Warehouse: "Stores - WH", Qty: 2},
		{ID: "2", ItemCode: "SKU-002", Warehouse: "Finished Goods - WH", Qty: 1},
		{ID: "3", ItemCode: "SKU-001", Warehouse: "Stores - WH", Qty: 1},
	}
	denied := func(context.Context, string) ([]erp.Warehouse, error) {
		return nil, &erp.Error{Kind: erp.KindPermission, Status: http.StatusForbidden}
	}
	for _, tt := range []struct {
		name       string
		warehouses func(context.Context, string) ([]erp.Warehouse, error)
	}{
		{"through the company's warehouses", demoWarehouses},
		{"through the Bins when warehouses are not readable", denied},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig()
			cfg.DefaultWarehouse = "STORES - WH"
			p := newTestPlanner(reader(tt.warehouses), cfg)
			got, err := p.ForQuote(context.Background(), quote)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, got.Order.Lines); diff != "" {
				t.Errorf("lines (-want +got):\n%s", diff)
			}
			plan, err := p.Plan(got)
			if err != nil {
				t.Fatal(err)
			}
			var codes []string
			for _, l := range plan.Lines {
				codes = append(codes, l.ItemCode+" @ "+l.Warehouse)
			}
			if diff := cmp.Diff([]string{"SKU-001 @ Stores - WH", "SKU-002 @ Finished Goods - WH", "SKU-001 @ Stores - WH"}, codes); diff != "" {
				t.Errorf("plan lines (-want +got):\n%s", diff)
			}
			if plan.Confidence != promise.ConfidenceHigh || plan.Lines[0].Shortage != 0 || plan.Lines[1].Shortage != 0 {
				t.Errorf("plan = %s with shortages %v, %v; want HIGH from the stock typed in another case",
					plan.Confidence, plan.Lines[0].Shortage, plan.Lines[1].Shortage)
			}
		})
	}

	t.Run("an unknown name is reported as typed", func(t *testing.T) {
		p := newTestPlanner(reader(demoWarehouses), testConfig())
		_, err := p.ForQuote(context.Background(), Quote{Lines: []QuoteLine{{ItemCode: "sku-001", Warehouse: "nowhere - wh", Qty: 1}}})
		var nf *NotFoundError
		if !errors.As(err, &nf) {
			t.Fatalf("err = %v, want *NotFoundError", err)
		}
		if diff := cmp.Diff(&NotFoundError{Kind: "warehouse", Name: "nowhere - wh"}, nf); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})
}

func TestShipsFrom(t *testing.T) {
	ws, _ := demoWarehouses(context.Background(), company)
	var got []string
	for _, w := range ws {
		if shipsFrom(w, company) {
			got = append(got, w.Name)
		}
	}
	want := []string{"Stores - WH", "Finished Goods - WH", "Small Parts - WH"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("shipping warehouses (-want +got):\n%s", diff)
	}
}

// A promise costs the same requests whatever the number of lines.
func TestRequestCountDoesNotGrowWithLines(t *testing.T) {
	order := func(n int) *erp.SalesOrder {
		so := &erp.SalesOrder{Name: "SO", Company: company}
		for i := range n {
			so.Items = append(so.Items, erp.SalesOrderItem{
				Name: fmt.Sprintf("row-%d", i), ItemCode: fmt.Sprintf("SKU-%03d", i%50+1), Qty: 1, ConversionFactor: 1, StockQty: 1,
			})
		}
		return so
	}
	counts := map[int]map[string]int{}
	for _, n := range []int{3, 60} {
		f := &erptest.ERP{
			WarehousesFn:         demoWarehouses,
			CompanyHolidayListFn: func(context.Context, string) (string, error) { return "L", nil },
			HolidayListFn: func(context.Context, string) (*erp.HolidayList, error) {
				return &erp.HolidayList{Name: "L", FromDate: "2026-01-01", ToDate: "2026-12-31"}, nil
			},
		}
		p := newTestPlanner(f, testConfig())
		for range 2 { // cold, then warm
			if _, err := p.ForOrder(context.Background(), order(n)); err != nil {
				t.Fatal(err)
			}
		}
		counts[n] = f.Calls()
	}
	want := map[string]int{
		"Bins": 2, "OpenPurchaseOrderLines": 2, "OpenOrderBook": 2, "Items": 2,
		"Warehouses": 1, "CompanyHolidayList": 1, "HolidayList": 1,
	}
	for n, got := range counts {
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%d lines: calls for a cold and a warm promise (-want +got):\n%s", n, diff)
		}
	}
}

// Every field of a book's order and of its lines enters the fingerprint,
// and the order the book lists them in does not. A field added to
// promise.Order or promise.Line fails this test until the fingerprint
// writes it (appendOrder) and the test knows how to change it.
func TestFingerprintBook(t *testing.T) {
	order := func(name string) promise.Order {
		return promise.Order{Name: name, DesiredDate: MustDate(t, "2026-12-10"), DesiredDateMode: promise.LatestAcceptable,
			Confirm: true, Submitted: true, Created: pinned.Add(-time.Hour),
			Lines: []promise.Line{{ID: "r1", ItemCode: "A", Warehouse: "W", Qty: 2, RequestedDate: MustDate(t, "2026-12-09"), UOM: "Box", UOMFactor: 12}}}
	}
	base := Inputs{Now: pinned, Rules: promise.DefaultRules(), Book: []promise.Order{order("SO-1"), order("SO-2")}}
	fp := Fingerprint(base)
	listed := base
	listed.Book = []promise.Order{base.Book[1], base.Book[0]}
	if got := Fingerprint(listed); got != fp {
		t.Errorf("the book listed in another order: fingerprint %s, want %s", got, fp)
	}
	// changed returns base with f applied to a copy of its first order.
	changed := func(f func(o *promise.Order)) Inputs {
		in := base
		in.Book = slices.Clone(base.Book)
		o := in.Book[0]
		o.Lines = slices.Clone(o.Lines)
		f(&o)
		in.Book[0] = o
		return in
	}
	check := func(what string, in Inputs) {
		t.Helper()
		if got := Fingerprint(in); got == fp {
			t.Errorf("%s changed but the fingerprint did not", what)
		}
	}
	change := func(t *testing.T, what string, v reflect.Value) {
		switch {
		case v.Type() == reflect.TypeFor[time.Time]():
			v.Set(reflect.ValueOf(v.Interface().(time.Time).Add(time.Nanosecond)))
		case v.Kind() == reflect.String:
			v.SetString(v.String() + "x")
		case v.Kind() == reflect.Bool:
			v.SetBool(!v.Bool())
		case v.CanInt():
			v.SetInt(v.Int() + 1)
		case v.CanFloat():
			v.SetFloat(v.Float() + 0.5)
		default:
			t.Fatalf("%s: a %s, which this test cannot change", what, v.Type())
		}
	}
	orderType := reflect.TypeFor[promise.Order]()
	for i := range orderType.NumField() {
		f := orderType.Field(i)
		if f.Name == "Lines" {
			check("another line", changed(func(o *promise.Order) { o.Lines = append(o.Lines, o.Lines[0]) }))
			continue
		}
		check("Order."+f.Name, changed(func(o *promise.Order) { change(t, "Order."+f.Name, reflect.ValueOf(o).Elem().Field(i)) }))
	}
	lineType := reflect.TypeFor[promise.Line]()
	for i := range lineType.NumField() {
		name := "Line." + lineType.Field(i).Name
		check(name, changed(func(o *promise.Order) { change(t, name, reflect.ValueOf(&o.Lines[0]).Elem().Field(i)) }))
	}
	// Strings are written with their lengths: moving a character from one
	// field to the next is a change.
	check("a character moved between fields", changed(func(o *promise.Order) {
		o.Lines[0].ItemCode, o.Lines[0].Warehouse = "AW", ""
	}))
}

func TestFingerprint(t *testing.T) {
	base := Inputs{
		Now:   pinned,
		Order: promise.Order{Name: "SO", Lines: []promise.Line{{ID: "r", ItemCode: "A", Warehouse: "W", Qty: 2}}},
		Supply: promise.Supply{
			Stock:    []promise.Stock{{ItemCode: "A", Warehouse: "W", ActualQty: 1}, {ItemCode: "A", Warehouse: "V", ActualQty: 5}},
			Receipts: []promise.Receipt{{ItemCode: "A", Warehouse: "W", Qty: 3, Date: MustDate(t, "2026-12-01"), PurchaseOrder: "PO-1"}},
			Items:    map[string]promise.Item{"A": {Code: "A", IsStockItem: true}},
		},
		Calendar: promise.Calendar{Weekend: []time.Weekday{time.Saturday, time.Sunday}},
		Rules:    promise.DefaultRules(),
	}
	fp := Fingerprint(base)
	if len(fp) != 16 {
		t.Errorf("Fingerprint = %q, want 16 hex digits", fp)
	}

	reordered := base
	reordered.Supply.Stock = slices.Clone(base.Supply.Stock)
	slices.Reverse(reordered.Supply.Stock)
	laterSameMorning := base
	laterSameMorning.Now = pinned.Add(3 * time.Hour) // 13:00, still before the 14:00 cutoff
	withRecord := func(late ...int) Inputs {
		in := base
		in.Supply.Receipts = slices.Clone(base.Supply.Receipts)
		in.Supply.Receipts[0].History = &promise.SupplierHistory{WindowDays: 90, LateDays: late}
		return in
	}
	record := withRecord(0, 3)
	same := map[string]Inputs{"supply listed in another order": reordered, "later, same side of the cutoff": laterSameMorning}
	// A supplier's record is read anew every pass: an equal record at
	// another address is the same input.
	if got, want := Fingerprint(withRecord(0, 3)), Fingerprint(record); got != want {
		t.Errorf("an equal supplier record: fingerprint %s, want %s", got, want)
	}
	for name, in := range same {
		if got := Fingerprint(in); got != fp {
			t.Errorf("%s: fingerprint %s, want %s", name, got, fp)
		}
	}

	moreQty := base
	moreQty.Order.Lines = []promise.Line{{ID: "r", ItemCode: "A", Warehouse: "W", Qty: 3}}
	afterCutoff := base
	afterCutoff.Now = pinned.Add(5 * time.Hour)
	tomorrow := base
	tomorrow.Now = pinned.Add(24 * time.Hour)
	otherRules := base
	otherRules.Rules.BufferDays = 2
	otherZone := base
	otherZone.Rules.Location = time.FixedZone("UTC+14", 14*3600)
	different := map[string]Inputs{
		"quantity": moreQty, "after the cutoff": afterCutoff, "another day": tomorrow, "rules": otherRules, "zone": otherZone,
		"a supplier's record": record,
	}
	for name, in := range different {
		if got := Fingerprint(in); got == fp {
			t.Errorf("%s changed but the fingerprint did not", name)
		}
	}
	// Maps are hashed in key order, whatever order Go walks them in.
	many := base
	many.Supply.Items = map[string]promise.Item{}
	for i := range 40 {
		code := fmt.Sprintf("I-%02d", i)
		many.Supply.Items[code] = promise.Item{Code: code, IsStockItem: true, LeadTimeDays: i}
	}
	want := Fingerprint(many)
	for range 20 {
		if got := Fingerprint(many); got != want {
			t.Fatalf("the same inputs hashed to %s and %s", want, got)
		}
	}
	if diff := cmp.Diff([]promise.Stock{{ItemCode: "A", Warehouse: "W", ActualQty: 1}, {ItemCode: "A", Warehouse: "V", ActualQty: 5}},
		base.Supply.Stock); diff != "" {
		t.Errorf("Fingerprint reordered its argument (-want +got):\n%s", diff)
	}
}

// The worker (ForOrder) and the quote API (ForQuote) promise the same lines
// the same way: same dates, confidence, status and explanation.
func TestOrderAndQuoteGiveTheSamePromise(t *testing.T) {
	f := &erptest.ERP{
		BinsFn: func(context.Context, []string, []string) ([]erp.Bin, error) {
			return []erp.Bin{{ItemCode: "SKU-001", Warehouse: "Stores - WH", ActualQty: 10}}, nil
		},
		OpenPurchaseOrderLinesFn: func(context.Context, []string) ([]erp.PurchaseOrderLine, error) {
			return []erp.PurchaseOrderLine{{PurchaseOrder: "PUR-ORD-1", Status: "To Receive", ItemCode: "SKU-002",
				Warehouse: "Stores - WH", Qty: 2, ConversionFactor: 6, ScheduleDate: "2026-12-02"}}, nil
		},
		OpenOrderBookFn: func(context.Context, int) ([]erp.SalesOrderLine, error) {
			return []erp.SalesOrderLine{{SalesOrder: "SAL-ORD-2026-00009", Status: "To Deliver", DocStatus: 1, ItemCode: "SKU-001",
				Name: "n1", Warehouse: "Stores - WH", Qty: 4, StockQty: 4, ConversionFactor: 1, DeliveryDate: "2026-11-26",
				OrderDeliveryDate: "2026-11-26"}}, nil
		},
	}
	p := newTestPlanner(f, testConfig())
	ctx := context.Background()
	so := &erp.SalesOrder{
		Name: "SAL-ORD-2026-00010", Company: company, DocStatus: 0, DeliveryDate: "2026-12-04",
		Items: []erp.SalesOrderItem{
			{Name: "a", ItemCode: "SKU-001", Qty: 1, UOM: "Box", ConversionFactor: 5, StockQty: 5},
			{Name: "b", ItemCode: "SKU-002", Qty: 9, ConversionFactor: 1, StockQty: 9},
		},
	}
	orderIn, err := p.ForOrder(ctx, so)
	if err != nil {
		t.Fatal(err)
	}
	quoteIn, err := p.ForQuote(ctx, Quote{
		Lines:       []QuoteLine{{ItemCode: "SKU-001", Qty: 5}, {ItemCode: "SKU-002", Qty: 9}},
		DesiredDate: MustDate(t, "2026-12-04"), Mode: promise.LatestAcceptable,
	})
	if err != nil {
		t.Fatal(err)
	}
	orderPlan, err := p.Plan(orderIn)
	if err != nil {
		t.Fatal(err)
	}
	quotePlan, err := p.Plan(quoteIn)
	if err != nil {
		t.Fatal(err)
	}
	type summary struct {
		Status      promise.Status
		PromiseDate promise.Date
		Confidence  promise.Confidence
		LineDates   []promise.Date
		Explanation string
	}
	sum := func(pl promise.Plan) summary {
		s := summary{Status: pl.Status, PromiseDate: pl.PromiseDate, Confidence: pl.Confidence, Explanation: pl.Explanation}
		for _, l := range pl.Lines {
			s.LineDates = append(s.LineDates, l.PromiseDate)
		}
		return s
	}
	// 10 on hand, 4 held by a submitted order ahead: 5 from stock today;
	// the 12 arriving Wednesday 2026-12-02 cover the 9: +1 processing day
	// (Thu), +1 buffer day (Fri). A PO 7 days out is near: MEDIUM. The
	// quote's lines say when each could ship; the draft order, which asked
	// for Friday 2026-12-04, confirms that date on every line.
	parts := "SKU-001: 5 from stock at Stores - WH; SKU-002: 9 from PUR-ORD-1 due 2026-12-02; +1 processing day; +1 buffer day"
	wantQuote := summary{Status: promise.StatusOK, PromiseDate: MustDate(t, "2026-12-04"), Confidence: promise.ConfidenceMedium,
		LineDates: []promise.Date{MustDate(t, "2026-11-27"), MustDate(t, "2026-12-04")}, Explanation: parts}
	if diff := cmp.Diff(wantQuote, sum(quotePlan)); diff != "" {
		t.Errorf("quote (-want +got):\n%s", diff)
	}
	wantOrder := wantQuote
	wantOrder.LineDates = []promise.Date{MustDate(t, "2026-12-04"), MustDate(t, "2026-12-04")}
	// The order sold SKU-001 by the box of 5: the explanation says so.
	wantOrder.Explanation = strings.Replace(parts, "SKU-001: 5 from stock", "SKU-001: 1 Box (5 Nos) from stock", 1)
	if diff := cmp.Diff(wantOrder, sum(orderPlan)); diff != "" {
		t.Errorf("order (-want +got):\n%s", diff)
	}
}

// When the company's warehouses cannot be read, which of them ship is
// unknown, so no alternate warehouse is offered: not even one that holds
// free stock, which may be Work In Progress or in transit.
func TestNoAlternateWarehouseWhenWarehousesAreNotReadable(t *testing.T) {
	bins := func(context.Context, []string, []string) ([]erp.Bin, error) {
		return []erp.Bin{{ItemCode: "SKU-001", Warehouse: "Work In Progress - WH", ActualQty: 10}}, nil
	}
	for _, tt := range []struct {
		name       string
		warehouses func(context.Context, string) ([]erp.Warehouse, error)
		want       []promise.Option
	}{
		{"readable: Work In Progress does not ship", demoWarehouses, nil},
		{"not readable", func(context.Context, string) ([]erp.Warehouse, error) { return nil, permissionDenied() }, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := newTestPlanner(&erptest.ERP{BinsFn: bins, WarehousesFn: tt.warehouses}, testConfig())
			in, err := p.ForQuote(context.Background(), Quote{Lines: []QuoteLine{{ItemCode: "SKU-001", Warehouse: "Stores - WH", Qty: 2}}})
			if err != nil {
				t.Fatal(err)
			}
			plan, err := p.Plan(in)
			if err != nil {
				t.Fatal(err)
			}
			if plan.Status != promise.StatusCannotFulfill {
				t.Errorf("status = %s, want %s (nothing at Stores - WH)", plan.Status, promise.StatusCannotFulfill)
			}
			if diff := cmp.Diff(tt.want, plan.Options); diff != "" {
				t.Errorf("options (-want +got):\n%s", diff)
			}
		})
	}
}

// cancelingWarehouses answers its first call only when the caller's
// context ends, as the erp client's read does when the caller gives up;
// later calls answer demoWarehouses.
func cancelingWarehouses() func(context.Context, string) ([]erp.Warehouse, error) {
	var called atomic.Bool
	return func(ctx context.Context, company string) ([]erp.Warehouse, error) {
		if called.CompareAndSwap(false, true) {
			<-ctx.Done()
			return nil, ctx.Err()
		}
		return demoWarehouses(ctx, company)
	}
}

// A promise waiting on another's read of the site data does not fail when
// that other one gives up: it reads for itself.
func TestSiteReadSurvivesAnotherCallerGivingUp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &erptest.ERP{WarehousesFn: cancelingWarehouses()}
		p := newTestPlanner(f, testConfig())
		ctx, cancel := context.WithCancel(t.Context())
		var errA, errB error
		var got *site
		go func() { _, errA = p.site(ctx, company) }()
		synctest.Wait() // A reads the warehouses
		go func() { got, errB = p.site(t.Context(), company) }()
		synctest.Wait() // B waits for A's read
		cancel()
		synctest.Wait()
		if !errors.Is(errA, context.Canceled) {
			t.Errorf("A: err = %v, want context.Canceled", errA)
		}
		if errB != nil {
			t.Fatalf("B: err = %v, want the site", errB)
		}
		if !got.shipping["Stores - WH"] || got.shipping["Work In Progress - WH"] {
			t.Errorf("B: shipping = %v, want the company's shipping warehouses", got.shipping)
		}
		if n := f.Calls()["Warehouses"]; n != 2 {
			t.Errorf("Warehouses reads = %d, want 2 (A's, then B's own)", n)
		}
	})
}
