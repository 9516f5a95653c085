package quote_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/erpnext-otp/otp/quote"
)

type orderRow struct {
	Name            string  `json:"name"`
	Customer        string  `json:"customer"`
	TransactionDate string  `json:"transaction_date"`
	DeliveryDate    *string `json:"delivery_date"`
	Status          *string `json:"status"`
}

func TestSalesOrdersList(t *testing.T) {
	q := MustQuoteEnv(t)
	d := q.sb.Demo()
	names := func(rows []orderRow) []string {
		out := []string{}
		for _, r := range rows {
			out = append(out, r.Name)
		}
		return out
	}
	// Newest transaction date first, then name: the two drafts of today,
	// then 1, 2, 3 and 4 days ago, ...
	tests := []struct {
		query string
		want  []string
	}{
		{"?limit=3", []string{d.DraftSO2, d.DraftSO, d.ContendedSO2}},
		{"?limit=2&offset=3", []string{d.MultiLineSO, d.ContendedSO1}},
		{"?customer=" + url.QueryEscape("Acme Retail"), []string{d.DraftSO, d.ContendedSO2, d.ClosedSO}},
		{"?status=Draft", []string{d.DraftSO2, d.DraftSO}},
		{"?from_date=2026-11-21&to_date=2026-11-23", []string{d.MultiLineSO, d.ContendedSO1, d.OnHoldSO}},
		{"?search=" + url.QueryEscape("Globex"), []string{d.DraftSO2, d.OnHoldSO, d.PastDueSO}},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			got := MustCall[[]orderRow](t, q, http.MethodGet, "/otp/sales-orders"+tt.query, nil, http.StatusOK)
			if diff := cmp.Diff(tt.want, names(got)); diff != "" {
				t.Errorf("orders (-want +got):\n%s", diff)
			}
		})
	}

	t.Run("row", func(t *testing.T) {
		got := MustCall[[]orderRow](t, q, http.MethodGet, "/otp/sales-orders?search="+url.QueryEscape(d.ContendedSO1), nil, http.StatusOK)
		want := []orderRow{{Name: d.ContendedSO1, Customer: "Café Dupont", TransactionDate: "2026-11-22",
			DeliveryDate: ptr("2026-11-28"), Status: ptr("To Deliver and Bill")}}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("row (-want +got):\n%s", diff)
		}
	})

	t.Run("validation", func(t *testing.T) {
		got := MustCall[validationBody](t, q, http.MethodGet, "/otp/sales-orders?limit=1000&offset=-1&from_date=yesterday", nil,
			http.StatusUnprocessableEntity)
		want := []quote.FieldError{
			{Type: "less_than_equal", Loc: []any{"query", "limit"}, Msg: "Input should be less than or equal to 100"},
			{Type: "greater_than_equal", Loc: []any{"query", "offset"}, Msg: "Input should be greater than or equal to 0"},
			{Type: "date_from_datetime_parsing", Loc: []any{"query", "from_date"}, Msg: "Input should be a valid date in the format YYYY-MM-DD"},
		}
		if diff := cmp.Diff(want, got.Detail, cmpopts.IgnoreFields(quote.FieldError{}, "Input", "Ctx")); diff != "" {
			t.Errorf("detail (-want +got):\n%s", diff)
		}
	})
}

type orderDetail struct {
	ID           string `json:"id"`
	CustomerName string `json:"customer_name"`
	Status       string `json:"status"`
	Items        []struct {
		ItemCode       string  `json:"item_code"`
		Qty            float64 `json:"qty"`
		UOM            string  `json:"uom"`
		Warehouse      string  `json:"warehouse"`
		StockActual    float64 `json:"stock_actual"`
		StockReserved  float64 `json:"stock_reserved"`
		StockAvailable float64 `json:"stock_available"`
	} `json:"items"`
	Defaults struct {
		Warehouse     string `json:"warehouse"`
		DeliveryModel string `json:"delivery_model"`
		CutoffTime    string `json:"cutoff_time"`
		NoWeekends    bool   `json:"no_weekends"`
	} `json:"defaults"`
}

func TestSalesOrderDetail(t *testing.T) {
	q := MustQuoteEnv(t)
	d := q.sb.Demo()

	t.Run("stock per line, its own reservation not held against it", func(t *testing.T) {
		MustCall[orderDetail](t, q, http.MethodGet, "/otp/sales-orders/"+d.DraftSO, nil, http.StatusOK) // finds the company
		q.sb.ResetCounters()
		got := MustCall[orderDetail](t, q, http.MethodGet, "/otp/sales-orders/"+url.PathEscape(d.MultiLineSO), nil, http.StatusOK)
		if n := q.sb.TotalRequests(); n != 2 {
			t.Errorf("ERPNext requests = %d, want 2 (the order, then every line's Bin at once)", n)
		}
		type line struct {
			Item, UOM, Warehouse             string
			Qty, Actual, Reserved, Available float64
		}
		var lines []line
		for _, it := range got.Items {
			lines = append(lines, line{it.ItemCode, it.UOM, it.Warehouse, it.Qty, it.StockActual, it.StockReserved, it.StockAvailable})
		}
		// SKU-002: 30 + 10 received on hand, reserved only by this order's
		// 10: all 40 are there for it (the earlier OTP said 30). SKU-049:
		// 60 on hand, this order's 2 boxes (24) reserved. SKU-046 is a
		// service: no Bin.
		want := []line{
			{"SKU-002", "Nos", "Stores - WH", 10, 40, 10, 40},
			{"SKU-049", "Box", "Stores - WH", 2, 60, 24, 60},
			{"SKU-046", "Nos", "Stores - WH", 1, 0, 0, 0},
		}
		if diff := cmp.Diff(want, lines); diff != "" {
			t.Errorf("lines (-want +got):\n%s", diff)
		}
		if got.ID != d.MultiLineSO || got.CustomerName != "Café Dupont" || got.Defaults.Warehouse != "Stores - WH" ||
			got.Defaults.DeliveryModel != "latest_acceptable" || got.Defaults.CutoffTime != "14:00" || !got.Defaults.NoWeekends {
			t.Errorf("order = %+v", got)
		}
	})

	t.Run("contended stock is never negative", func(t *testing.T) {
		// SKU-050: 20 on hand; the other submitted order reserves 25.
		got := MustCall[orderDetail](t, q, http.MethodGet, "/otp/sales-orders/"+d.ContendedSO1, nil, http.StatusOK)
		if len(got.Items) != 1 || got.Items[0].StockReserved != 55 || got.Items[0].StockAvailable != 0 {
			t.Errorf("items = %+v, want reserved 55 and available 0", got.Items)
		}
	})

	t.Run("a name sent with escapes", func(t *testing.T) {
		// As a client escapes a name such as "SO/24-25/001", escaping more
		// than it must; "%2D" is "-".
		escaped := strings.ReplaceAll(d.DraftSO, "-", "%2D")
		got := MustCall[orderDetail](t, q, http.MethodGet, "/otp/sales-orders/"+escaped, nil, http.StatusOK)
		if got.ID != d.DraftSO {
			t.Errorf("id = %q, want %q", got.ID, d.DraftSO)
		}
	})

	t.Run("a blank name is not found, and ERPNext is not asked", func(t *testing.T) {
		q.sb.ResetCounters()
		status, body := q.call(t, http.MethodGet, "/otp/sales-orders/%20", nil)
		if status != http.StatusNotFound || !strings.Contains(string(body), `"detail":"Sales Order not found"`) {
			t.Errorf("status %d %s, want 404 Sales Order not found", status, body)
		}
		if n := q.sb.TotalRequests(); n != 0 {
			t.Errorf("ERPNext requests = %d, want none", n)
		}
	})

	t.Run("unknown order", func(t *testing.T) {
		got := MustCall[struct{ Detail string }](t, q, http.MethodGet, "/otp/sales-orders/SAL-ORD-2026-99999", nil, http.StatusNotFound)
		if got.Detail != "Sales Order SAL-ORD-2026-99999 not found" {
			t.Errorf("detail = %q", got.Detail)
		}
	})
}

type stockBody struct {
	ItemCode       string  `json:"item_code"`
	Warehouse      string  `json:"warehouse"`
	StockActual    float64 `json:"stock_actual"`
	StockReserved  float64 `json:"stock_reserved"`
	StockAvailable float64 `json:"stock_available"`
	StockProjected float64 `json:"stock_projected"`
}

func TestItemStock(t *testing.T) {
	q := MustQuoteEnv(t)
	path := func(item, wh string) string {
		return "/api/items/stock?item_code=" + url.QueryEscape(item) + "&warehouse=" + url.QueryEscape(wh)
	}
	for _, tt := range []struct {
		name, item, wh string
		want           stockBody
	}{
		// 120 on hand; the past-due order reserves 5 (the Closed one nothing).
		{"in stock", "SKU-001", "Stores - WH", stockBody{"SKU-001", "Stores - WH", 120, 5, 115, 115}},
		// 20 on hand, 55 reserved, 40 ordered: available 0, not -35.
		{"over-reserved", "SKU-050", "Stores - WH", stockBody{"SKU-050", "Stores - WH", 20, 55, 0, 5}},
		// Both exist; the item has never been in that warehouse.
		{"no Bin", "SKU-041", "Stores - WH", stockBody{"SKU-041", "Stores - WH", 0, 0, 0, 0}},
		{"trimmed", " SKU-001 ", " Stores - WH", stockBody{"SKU-001", "Stores - WH", 120, 5, 115, 115}},
		// ERPNext names compare without case: its spelling comes back.
		{"other case", "sku-001", "STORES - WH", stockBody{"SKU-001", "Stores - WH", 120, 5, 115, 115}},
		{"other case, no Bin", "sku-041", "stores - wh", stockBody{"SKU-041", "Stores - WH", 0, 0, 0, 0}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := MustCall[stockBody](t, q, http.MethodGet, path(tt.item, tt.wh), nil, http.StatusOK)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("stock (-want +got):\n%s", diff)
			}
		})
	}
	for _, tt := range []struct {
		name, item, wh string
		status         int
		detail         string
	}{
		{"unknown item", "NOPE-1", "Stores - WH", http.StatusNotFound, "Item 'NOPE-1' not found"},
		{"unknown warehouse", "SKU-001", "Nowhere - WH", http.StatusNotFound, "Warehouse 'Nowhere - WH' not found"},
		{"blank item", " ", "Stores - WH", http.StatusBadRequest, "item_code is required"},
		{"blank warehouse", "SKU-001", "", http.StatusBadRequest, "warehouse is required"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := MustCall[struct{ Detail string }](t, q, http.MethodGet, path(tt.item, tt.wh), nil, tt.status)
			if got.Detail != tt.detail {
				t.Errorf("detail = %q, want %q", got.Detail, tt.detail)
			}
		})
	}
	t.Run("missing parameters", func(t *testing.T) {
		got := MustCall[validationBody](t, q, http.MethodGet, "/api/items/stock", nil, http.StatusUnprocessableEntity)
		want := []quote.FieldError{
			{Type: "missing", Loc: []any{"query", "item_code"}, Msg: "Field required"},
			{Type: "missing", Loc: []any{"query", "warehouse"}, Msg: "Field required"},
		}
		if diff := cmp.Diff(want, got.Detail, cmpopts.IgnoreFields(quote.FieldError{}, "Input", "Ctx")); diff != "" {
			t.Errorf("detail (-want +got):\n%s", diff)
		}
	})
}
