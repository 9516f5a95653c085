package sandbox

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

type binQty struct {
	Actual, Reserved, Ordered, Indented, Projected float64
}

func readBin(tb testing.TB, st *site, item, wh string) binQty {
	tb.Helper()
	r := st.call(tb, "GET", "/api/resource/Bin", q(
		"fields", `["actual_qty","reserved_qty","ordered_qty","indented_qty","planned_qty","projected_qty","reserved_qty_for_production","reserved_qty_for_sub_contract","reserved_qty_for_production_plan"]`,
		"filters", jsonText(tb, [][]any{{"item_code", "=", item}, {"warehouse", "=", wh}})), nil)
	rows := r.Body["data"].([]any)
	if len(rows) == 0 {
		return binQty{}
	}
	if len(rows) != 1 {
		tb.Fatalf("%d bins for %s/%s", len(rows), item, wh)
	}
	b := rows[0].(map[string]any)
	got := binQty{Actual: num(b["actual_qty"]), Reserved: num(b["reserved_qty"]), Ordered: num(b["ordered_qty"]),
		Indented: num(b["indented_qty"]), Projected: num(b["projected_qty"])}
	want := got.Actual + got.Ordered + got.Indented + num(b["planned_qty"]) - got.Reserved - num(b["reserved_qty_for_production"]) -
		num(b["reserved_qty_for_sub_contract"]) - num(b["reserved_qty_for_production_plan"])
	if got.Projected != want {
		tb.Errorf("projected_qty %v breaks the docs/erpnext.md#bin formula (want %v)", got.Projected, want)
	}
	return got
}

// docs/erpnext.md#bin: Bin bookkeeping through receipt, order submit/cancel,
// close, delivery, purchase and requests; projected_qty always right.
func TestBinBookkeeping_Ref3_3(t *testing.T) {
	st := MustSite(t, WithUserRoles(DefaultAPIUser, append([]string{"Stock Manager", "Purchase Manager"}, DefaultRoles...)...))
	s := st.Sandbox
	MustBasics(t, s)
	var so, po, poRow, soRow string
	steps := []struct {
		name string
		do   func(t *testing.T)
		want binQty
	}{
		{"no bin before a transaction", func(t *testing.T) {}, binQty{}},
		{"material receipt: actual +", func(t *testing.T) {
			MustInsert(t, s, "Stock Entry", map[string]any{"stock_entry_type": "Material Receipt", "company": "Test Co", "docstatus": 1,
				"items": []any{map[string]any{"item_code": "ITEM-A", "qty": 50, "t_warehouse": "Stores - WH"}}})
		}, binQty{Actual: 50, Projected: 50}},
		{"draft SO reserves nothing", func(t *testing.T) {
			d := MustInsert(t, s, "Sales Order", soDoc(map[string]any{"item_code": "ITEM-A", "qty": 2, "uom": "Box", "warehouse": "Stores - WH", "delivery_date": "2026-03-06"}))
			so = d["name"].(string)
			soRow = d["items"].([]any)[0].(map[string]any)["name"].(string)
		}, binQty{Actual: 50, Projected: 50}},
		{"submit SO: reserved += stock qty", func(t *testing.T) {
			if r := st.call(t, "PUT", "/api/resource/Sales Order/"+so, nil, map[string]any{"docstatus": 1}); r.Status != 200 {
				t.Fatalf("%d %s", r.Status, r.Raw)
			}
		}, binQty{Actual: 50, Reserved: 12, Projected: 38}},
		{"hold: not reserved", func(t *testing.T) {
			if r := st.call(t, "POST", "/api/method/erpnext.selling.doctype.sales_order.sales_order.update_status", nil, map[string]any{"name": so, "status": "On Hold"}); r.Status != 200 {
				t.Fatalf("%d %s", r.Status, r.Raw)
			}
		}, binQty{Actual: 50, Projected: 50}},
		{"re-open: reserved again", func(t *testing.T) {
			if _, err := s.SetStatus("Sales Order", so, "Draft"); err != nil {
				t.Fatal(err)
			}
		}, binQty{Actual: 50, Reserved: 12, Projected: 38}},
		{"submit PO of 3 boxes: ordered += 18", func(t *testing.T) {
			d := MustInsert(t, s, "Purchase Order", map[string]any{"supplier": "Supp One", "company": "Test Co", "transaction_date": "2026-03-02", "docstatus": 1,
				"items": []any{map[string]any{"item_code": "ITEM-A", "qty": 3, "uom": "Box", "schedule_date": "2026-03-09", "warehouse": "Stores - WH"}}})
			po = d["name"].(string)
			poRow = d["items"].([]any)[0].(map[string]any)["name"].(string)
		}, binQty{Actual: 50, Reserved: 12, Ordered: 18, Projected: 56}},
		{"receive 1 box: actual +6, ordered −6", func(t *testing.T) {
			MustInsert(t, s, "Purchase Receipt", map[string]any{"supplier": "Supp One", "company": "Test Co", "docstatus": 1,
				"items": []any{map[string]any{"item_code": "ITEM-A", "qty": 1, "uom": "Box", "warehouse": "Stores - WH", "purchase_order": po, "purchase_order_item": poRow}}})
			got, _ := s.Get("Purchase Order", po)
			if got["status"] != "To Receive and Bill" || num(got["per_received"]) < 33.3 || num(got["per_received"]) > 33.4 {
				t.Errorf("PO status %v per_received %v", got["status"], got["per_received"])
			}
			if line := got["items"].([]any)[0].(map[string]any); num(line["received_qty"]) != 1 {
				t.Errorf("PO line received_qty %v, want 1 (transaction UOM)", line["received_qty"])
			}
		}, binQty{Actual: 56, Reserved: 12, Ordered: 12, Projected: 56}},
		{"deliver 1 of 2 boxes: actual −6, reserved −6", func(t *testing.T) {
			MustInsert(t, s, "Delivery Note", map[string]any{"customer": "Cust One", "company": "Test Co", "docstatus": 1,
				"items": []any{map[string]any{"item_code": "ITEM-A", "qty": 1, "uom": "Box", "warehouse": "Stores - WH", "against_sales_order": so, "so_detail": soRow}}})
			got, _ := s.Get("Sales Order", so)
			if got["status"] != "To Deliver and Bill" || num(got["per_delivered"]) != 50 || got["delivery_status"] != "Partly Delivered" {
				t.Errorf("SO status %v per_delivered %v delivery_status %v", got["status"], got["per_delivered"], got["delivery_status"])
			}
		}, binQty{Actual: 50, Reserved: 6, Ordered: 12, Projected: 56}},
		{"material request: indented", func(t *testing.T) {
			MustInsert(t, s, "Material Request", map[string]any{"material_request_type": "Purchase", "company": "Test Co", "schedule_date": "2026-03-20", "docstatus": 1,
				"items": []any{map[string]any{"item_code": "ITEM-A", "qty": 7, "warehouse": "Stores - WH"}}})
		}, binQty{Actual: 50, Reserved: 6, Ordered: 12, Indented: 7, Projected: 63}},
		{"close PO: ordered 0", func(t *testing.T) {
			if _, err := s.SetStatus("Purchase Order", po, "Closed"); err != nil {
				t.Fatal(err)
			}
		}, binQty{Actual: 50, Reserved: 6, Indented: 7, Projected: 51}},
		{"close SO: reserved 0", func(t *testing.T) {
			if _, err := s.SetStatus("Sales Order", so, "Closed"); err != nil {
				t.Fatal(err)
			}
		}, binQty{Actual: 50, Indented: 7, Projected: 57}},
		{"issue more than on hand: NegativeStockError, nothing moves", func(t *testing.T) {
			_, err := s.Insert("Stock Entry", map[string]any{"stock_entry_type": "Material Issue", "company": "Test Co", "docstatus": 1,
				"items": []any{map[string]any{"item_code": "ITEM-A", "qty": 51, "s_warehouse": "Stores - WH"}}})
			var e *Error
			if !asError(err, &e) || e.ExcType != "NegativeStockError" {
				t.Errorf("err = %v", err)
			}
		}, binQty{Actual: 50, Indented: 7, Projected: 57}},
		{"transfer 10 away", func(t *testing.T) {
			MustInsert(t, s, "Stock Entry", map[string]any{"stock_entry_type": "Material Transfer", "company": "Test Co", "docstatus": 1,
				"items": []any{map[string]any{"item_code": "ITEM-A", "qty": 10, "s_warehouse": "Stores - WH", "t_warehouse": "Stores East - WH"}}})
		}, binQty{Actual: 40, Indented: 7, Projected: 47}},
	}
	for _, step := range steps {
		t.Run(step.name, func(t *testing.T) {
			step.do(t)
			if diff := cmp.Diff(step.want, readBin(t, st, "ITEM-A", "Stores - WH")); diff != "" {
				t.Errorf("Bin ITEM-A/Stores - WH (-want +got):\n%s", diff)
			}
		})
	}
	if diff := cmp.Diff(binQty{Actual: 10, Projected: 10}, readBin(t, st, "ITEM-A", "Stores East - WH")); diff != "" {
		t.Errorf("transfer target (-want +got):\n%s", diff)
	}
	if got := readBin(t, st, "SERVICE", "Stores - WH"); got != (binQty{}) {
		t.Errorf("non-stock items have no Bin: %+v", got)
	}
}

// docs/erpnext.md#sales-order, #bin: cancel gives the reservation back; a fully
// delivered order is "To Bill" (no billing in the sandbox); cancelling an
// order with a submitted delivery is refused.
func TestCancelAndDeliver_Ref3_3(t *testing.T) {
	st := MustSite(t)
	s := st.Sandbox
	MustBasics(t, s)
	MustInsert(t, s, "Stock Entry", map[string]any{"stock_entry_type": "Material Receipt", "company": "Test Co", "docstatus": 1,
		"items": []any{map[string]any{"item_code": "ITEM-B", "qty": 9, "t_warehouse": "Stores - WH"}}})
	d := soDoc(line("ITEM-B", 4, "Stores - WH", "2026-03-05"))
	d["docstatus"] = 1
	so := MustInsert(t, s, "Sales Order", d)
	name := so["name"].(string)
	if got := readBin(t, st, "ITEM-B", "Stores - WH"); got.Reserved != 4 {
		t.Fatalf("reserved %v, want 4", got.Reserved)
	}
	if _, err := s.Cancel("Sales Order", name); err != nil {
		t.Fatal(err)
	}
	if got := readBin(t, st, "ITEM-B", "Stores - WH"); got.Reserved != 0 {
		t.Errorf("after cancel reserved %v, want 0", got.Reserved)
	}
	c, _ := s.Get("Sales Order", name)
	if c["status"] != "Cancelled" || num(c["docstatus"]) != 2 {
		t.Errorf("status %v docstatus %v", c["status"], c["docstatus"])
	}
	so2 := MustInsert(t, s, "Sales Order", d)
	row := so2["items"].([]any)[0].(map[string]any)["name"]
	MustInsert(t, s, "Delivery Note", map[string]any{"customer": "Cust One", "company": "Test Co", "docstatus": 1,
		"items": []any{map[string]any{"item_code": "ITEM-B", "qty": 4, "warehouse": "Stores - WH", "against_sales_order": so2["name"], "so_detail": row}}})
	got, _ := s.Get("Sales Order", so2["name"].(string))
	if got["status"] != "To Bill" || num(got["per_delivered"]) != 100 || got["delivery_status"] != "Fully Delivered" {
		t.Errorf("delivered SO: status %v per_delivered %v delivery_status %v", got["status"], got["per_delivered"], got["delivery_status"])
	}
	if diff := cmp.Diff(binQty{Actual: 5, Projected: 5}, readBin(t, st, "ITEM-B", "Stores - WH")); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	_, err := s.Cancel("Sales Order", so2["name"].(string))
	var e *Error
	if !asError(err, &e) || e.ExcType != "LinkExistsError" {
		t.Errorf("cancel with a submitted delivery: %v, want LinkExistsError", err)
	}
}

// The demo data set loads through real bookkeeping, dated from the clock.
// How fast is BenchmarkDemoData's.
func TestDemoData(t *testing.T) {
	st := MustSite(t, WithDemoData())
	demo := st.Demo()
	tests := []struct {
		item, wh string
		want     binQty
	}{
		{DemoItemContended, DemoStores, binQty{Actual: 20, Reserved: 55, Ordered: 40, Projected: 5}},
		{DemoItemInStock, DemoStores, binQty{Actual: 120, Reserved: 5, Projected: 115}},
		{DemoItemPartlyIn, DemoStores, binQty{Actual: 40, Reserved: 10, Ordered: 20, Projected: 50}},
		{DemoItemBox, DemoStores, binQty{Actual: 60, Reserved: 24, Ordered: 120, Projected: 156}},
		{DemoItemDelivered, DemoStores, binQty{Actual: 127, Projected: 127}},
		{"SKU-004", DemoStores, binQty{Actual: 168, Projected: 168}},
		{DemoItemOverdue, DemoStores, binQty{Ordered: 20, Projected: 20}},
		{DemoItemEast, DemoStoresEast, binQty{Actual: 10, Projected: 10}},
	}
	for _, tc := range tests {
		if diff := cmp.Diff(tc.want, readBin(t, st, tc.item, tc.wh)); diff != "" {
			t.Errorf("Bin %s/%s (-want +got):\n%s", tc.item, tc.wh, diff)
		}
	}
	statuses := map[string]string{}
	for role, name := range map[string]string{"closed": demo.ClosedSO, "hold": demo.OnHoldSO, "delivered": demo.DeliveredSO, "draft": demo.DraftSO, "open": demo.ContendedSO1} {
		d, err := st.Get("Sales Order", name)
		if err != nil {
			t.Fatal(err)
		}
		statuses[role] = d["status"].(string)
	}
	want := map[string]string{"closed": "Closed", "hold": "On Hold", "delivered": "To Bill", "draft": "Draft", "open": "To Deliver and Bill"}
	if diff := cmp.Diff(want, statuses); diff != "" {
		t.Errorf("SO statuses (-want +got):\n%s", diff)
	}
	hl, err := st.Get("Holiday List", DemoHolidayList)
	if err != nil {
		t.Fatal(err)
	}
	weekly, public := 0, 0
	for _, h := range hl["holidays"].([]any) {
		if num(h.(map[string]any)["weekly_off"]) == 1 {
			weekly++
		} else {
			public++
		}
	}
	if hl["from_date"] != "2026-01-01" || hl["to_date"] != "2027-12-31" || weekly != 208 || public != 6 {
		t.Errorf("holiday list %v..%v weekly offs %d public %d", hl["from_date"], hl["to_date"], weekly, public)
	}
	item, _ := st.Get("Item", DemoItemDisabled)
	if num(item["disabled"]) != 1 {
		t.Errorf("disabled item not disabled")
	}
	po, _ := st.Get("Purchase Order", demo.OverduePO)
	line := po["items"].([]any)[0].(map[string]any)
	if line["expected_delivery_date"] != "2026-02-25" || po["status"] != "To Receive and Bill" {
		t.Errorf("overdue PO: expected %v status %v", line["expected_delivery_date"], po["status"])
	}
}

// BenchmarkDemoData builds a sandbox with the demo data set, as every test
// site and `otp sandbox` do:
//
//	go test -run '^$' -bench DemoData -benchmem ./erp/sandbox/
func BenchmarkDemoData(b *testing.B) {
	for b.Loop() {
		s := New(WithClock(func() time.Time { return pinned }), WithDemoData())
		if err := s.Close(); err != nil {
			b.Fatal(err)
		}
	}
}
