package quote_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/erpnext-otp/otp/erp"
	"github.com/erpnext-otp/otp/erp/erptest"
	"github.com/erpnext-otp/otp/planner"
	"github.com/erpnext-otp/otp/promise"
	"github.com/erpnext-otp/otp/quote"
	"github.com/erpnext-otp/otp/server"
)

// FuzzDecodePromiseRequest feeds arbitrary bodies to the request decoder
// and to POST /otp/promise (over an in-memory ERPNext, so that each input
// costs microseconds). The decoder must never panic, must accept only what
// the engine can plan, and the endpoint must never answer 5xx.
//
//	go test ./quote -run '^$' -fuzz FuzzDecodePromiseRequest -fuzztime 30s
//
// Seeds: f.Add below and testdata/fuzz/FuzzDecodePromiseRequest.
func FuzzDecodePromiseRequest(f *testing.F) {
	for _, s := range []string{
		`{"customer":"C","items":[{"item_code":"SKU-001","qty":10}]}`,
		`{"customer":"C","items":[{"item_code":"SKU-001","qty":"10","warehouse":null}],"desired_date":null,"rules":null}`,
		`{"customer":"C","items":[{"item_code":"SKU-002","qty":3,"warehouse":"East - WH"}],"desired_date":"2026-12-01",` +
			`"rules":{"no_weekends":"0","cutoff_time":"9:5","timezone":"Asia/Tokyo","lead_time_buffer_days":"2",` +
			`"processing_lead_time_days":0,"desired_date_mode":"NO_EARLY_DELIVERY"}}`,
		`{"customer":"C","items":[{"item_code":"SKU-001","qty":1e12}],"desired_date":"2026-11-25","rules":{"desired_date_mode":"STRICT_FAIL"}}`,
		`{"customer":"C","items":[{"item_code":"SKU-001","qty":0.000001}],"rules":{"processing_lead_time_days":3660,"lead_time_buffer_days":3660}}`,
		`{"customer":"C","items":[{"item_code":"NOPE","qty":1},{"item_code":"SKU-001","qty":1,"warehouse":"Nowhere"}]}`,
		`{"customer":"C","items":[]}`,
		`{"customer":1,"items":{"a":1}}`,
		`[[[[[[[[[[]]]]]]]]]]`,
		`{"customer":"C","items":[{"item_code":"\u0000","qty":"NaN"}]}`,
		``,
		`null`,
	} {
		f.Add([]byte(s))
	}
	srv := mustFuzzServer(f)
	base := promise.DefaultRules()
	f.Fuzz(func(t *testing.T, body []byte) {
		req, errs := quote.DecodePromiseRequest(body, base)
		if errs == nil {
			checkDecoded(t, req)
		} else if len(errs) == 0 {
			t.Fatal("rejected with an empty error list")
		}

		rec := httptest.NewRecorder()
		r := httptest.NewRequest(http.MethodPost, "/otp/promise", bytes.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		srv.Handler().ServeHTTP(rec, r)
		if rec.Code >= 500 {
			t.Fatalf("status %d for %q: %s", rec.Code, body, rec.Body)
		}
		if !json.Valid(rec.Body.Bytes()) {
			t.Fatalf("status %d: body is not JSON: %q", rec.Code, rec.Body)
		}
		if errs != nil && rec.Code != http.StatusUnprocessableEntity {
			t.Fatalf("decoder rejected %q but the endpoint answered %d", body, rec.Code)
		}
	})
}

// checkDecoded asserts what the engine relies on.
func checkDecoded(t *testing.T, req quote.PromiseRequest) {
	t.Helper()
	q := req.Quote
	if len(q.Lines) == 0 || len(q.Lines) > quote.MaxQuoteLines {
		t.Fatalf("%d lines accepted", len(q.Lines))
	}
	for _, l := range q.Lines {
		if strings.TrimSpace(l.ItemCode) == "" || math.IsNaN(l.Qty) || l.Qty <= 0 || l.Qty > quote.MaxQty {
			t.Fatalf("line accepted: %+v", l)
		}
	}
	r := q.Rules
	if r.Location == nil || r.CutoffHour < 0 || r.CutoffHour > 23 || r.CutoffMinute < 0 || r.CutoffMinute > 59 ||
		r.ProcessingDays < 0 || r.ProcessingDays > quote.MaxRuleDays || r.BufferDays < 0 || r.BufferDays > quote.MaxRuleDays {
		t.Fatalf("rules accepted: %+v", r)
	}
	switch q.Mode {
	case promise.LatestAcceptable, promise.StrictFail, promise.NoEarlyDelivery:
	default:
		t.Fatalf("mode accepted: %q", q.Mode)
	}
}

// mustFuzzServer is a server whose quote API reads fuzzERP.
func mustFuzzServer(tb testing.TB) *server.Server {
	tb.Helper()
	e := MustEnv(tb, func(d *server.Deps) {
		d.Quote = quote.Deps{ERP: fuzzERP(), Planner: planner.Config{DefaultWarehouse: "Stores - WH", Rules: promise.DefaultRules()}}
	})
	return e.srv
}

// fuzzERP is a tiny ERPNext in memory: SKU-001 in stock, SKU-002 on a PO
// and with a lead time, two warehouses, one company, no holiday list.
// POST /otp/promise reads nothing else.
func fuzzERP() *erptest.ERP {
	return &erptest.ERP{
		BinsFn: func(_ context.Context, items, _ []string) ([]erp.Bin, error) {
			var out []erp.Bin
			for _, it := range items {
				if it == "SKU-001" {
					out = append(out, erp.Bin{ItemCode: it, Warehouse: "Stores - WH", ActualQty: 50, ReservedQty: 5})
				}
			}
			return out, nil
		},
		OpenPurchaseOrderLinesFn: func(_ context.Context, items []string) ([]erp.PurchaseOrderLine, error) {
			var out []erp.PurchaseOrderLine
			for _, it := range items {
				if it == "SKU-002" {
					out = append(out, erp.PurchaseOrderLine{PurchaseOrder: "PO-1", Status: "To Receive and Bill", Name: "r1",
						ItemCode: it, Warehouse: "East - WH", Qty: 20, ConversionFactor: 1, ScheduleDate: "2026-12-03"})
				}
			}
			return out, nil
		},
		OpenOrderBookFn: func(context.Context, int) ([]erp.SalesOrderLine, error) {
			return []erp.SalesOrderLine{{SalesOrder: "SO-1", Status: "To Deliver and Bill", DocStatus: 1, Creation: "2026-11-20 10:00:00",
				Name: "s1", ItemCode: "SKU-001", Warehouse: "Stores - WH", Qty: 5, StockQty: 5, ConversionFactor: 1,
				OrderDeliveryDate: "2026-11-27", DeliveryDate: "2026-11-27"}}, nil
		},
		ItemsFn: func(_ context.Context, codes []string) ([]erp.Item, error) {
			var out []erp.Item
			for _, c := range codes {
				switch c {
				case "SKU-001":
					out = append(out, erp.Item{Code: c, IsStockItem: true})
				case "SKU-002":
					out = append(out, erp.Item{Code: c, IsStockItem: true, LeadTimeDays: 3})
				}
			}
			return out, nil
		},
		WarehousesFn: func(context.Context, string) ([]erp.Warehouse, error) {
			return []erp.Warehouse{{Name: "Stores - WH", Company: "Fuzz Co"}, {Name: "East - WH", Company: "Fuzz Co"}}, nil
		},
		HolidayListFn: func(context.Context, string) (*erp.HolidayList, error) {
			return nil, errors.New("fuzzERP: no holiday list")
		},
		CompaniesFn: func(context.Context) ([]string, error) { return []string{"Fuzz Co"}, nil },
		BaseURLFn:   func() string { return "http://erp.invalid" },
	}
}

var _ quote.ERPNext = (*erptest.ERP)(nil)
