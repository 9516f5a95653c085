package erp_test

import (
	"testing"

	"github.com/erpnext-otp/otp/erp/sandbox"
)

// TestHistoryReadsPage delivers 2,100 lines of one order and reads them
// back: each read costs one request per 1,000 rows, whatever the rows.
func TestHistoryReadsPage(t *testing.T) {
	s, srv := MustSandbox(t)
	c := MustSandboxClient(t, s, srv)
	ctx := testContext(t)
	const n = 2100
	day := sandboxNow.Format("2006-01-02")
	lines := make([]any, n)
	for i := range lines {
		lines[i] = map[string]any{"item_code": sandbox.DemoItemService, "qty": 1, "rate": 1.0, "delivery_date": day}
	}
	so, err := s.Insert("Sales Order", map[string]any{"customer": sandbox.DemoCustomer, "company": sandbox.DemoCompany,
		"transaction_date": day, "set_warehouse": sandbox.DemoStores, "items": lines, "docstatus": 1})
	if err != nil {
		t.Fatal(err)
	}
	soName := so["name"].(string)
	rows := make([]any, n)
	for i, r := range so["items"].([]any) {
		rows[i] = map[string]any{"item_code": sandbox.DemoItemService, "qty": 1, "rate": 1.0, "warehouse": sandbox.DemoStores,
			"against_sales_order": soName, "so_detail": r.(map[string]any)["name"]}
	}
	if _, err := s.Insert("Delivery Note", map[string]any{"customer": sandbox.DemoCustomer, "company": sandbox.DemoCompany,
		"posting_date": day, "set_posting_time": 1, "items": rows, "docstatus": 1}); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name     string
		page     int
		wantRows int
		read     func(page int) (int, error)
		wantReqs map[string]int
	}{
		{name: "delivered lines, 1,000 a page: 3 requests", page: 1000, wantRows: n,
			read: func(page int) (int, error) {
				got, err := c.DeliveredLines(ctx, day, day, sandbox.DemoCompany, page)
				return len(got), err
			},
			wantReqs: map[string]int{"GET /api/resource/Delivery Note": 3}},
		{name: "delivered lines, the default page", page: 0, wantRows: n,
			read: func(page int) (int, error) {
				got, err := c.DeliveredLines(ctx, day, day, "", page)
				return len(got), err
			},
			wantReqs: map[string]int{"GET /api/resource/Delivery Note": 3}},
		{name: "promised lines of the order: 3 requests", page: 1000, wantRows: n,
			read: func(page int) (int, error) {
				got, err := c.PromisedLines(ctx, []string{soName}, page)
				return len(got), err
			},
			wantReqs: map[string]int{"GET /api/resource/Sales Order": 3}},
		{name: "2,500 rows a page: 1 request", page: 2500, wantRows: n,
			read: func(page int) (int, error) {
				got, err := c.DeliveredLines(ctx, day, day, "", page)
				return len(got), err
			},
			wantReqs: map[string]int{"GET /api/resource/Delivery Note": 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var rows int
			got := countRequests(t, s, func() {
				var err error
				if rows, err = tc.read(tc.page); err != nil {
					t.Fatal(err)
				}
			})
			if rows != tc.wantRows {
				t.Errorf("rows = %d, want %d", rows, tc.wantRows)
			}
			if len(got) != len(tc.wantReqs) {
				t.Errorf("requests %v, want %v", got, tc.wantReqs)
			}
			for route, w := range tc.wantReqs {
				if got[route] != w {
					t.Errorf("requests %v, want %v", got, tc.wantReqs)
				}
			}
		})
	}

	t.Run("rows carry the order line", func(t *testing.T) {
		got, err := c.DeliveredLines(ctx, day, day, "", 0)
		if err != nil {
			t.Fatal(err)
		}
		first := got[0]
		if first.SalesOrder != soName || first.SOLine == "" || first.StockQty != 1 || first.PostingDate != day || first.IsReturn {
			t.Errorf("first row %+v", first)
		}
	})
}
