package promise

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestComputeExplanations checks the explanation and reasons for the rules
// that move a date: cutoff, non-working today, lead time, weekends,
// desired-date modes.
func TestComputeExplanations(t *testing.T) {
	in := Supply{Stock: []Stock{stock("A", 10)}}
	desired := func(d string, m DesiredDateMode) Order {
		o := oneLine("A", 5)
		o.DesiredDate, o.DesiredDateMode = MustDate(t, d), m
		return o
	}
	tests := []struct {
		name        string
		c           computeCase
		explanation string
		reasons     []string
	}{
		{
			name:        "after the cutoff",
			c:           computeCase{now: "2026-12-01 15:00:00", order: oneLine("A", 5), supply: in},
			explanation: "5 from stock at Stores - WH; after the 14:00 cutoff; +1 processing day; +1 buffer day",
			reasons: []string{
				"Item A: 5 from stock at Stores - WH",
				"Received at 15:00 UTC, after the 14:00 cutoff: intake on 2026-12-02",
				"Added 1 processing day",
				"Added 1 buffer day",
			},
		},
		{
			name:        "cutoff in the rules' zone",
			c:           computeCase{loc: "Asia/Kolkata", now: "2026-12-01 08:45:00", order: oneLine("A", 5), supply: in},
			explanation: "5 from stock at Stores - WH; after the 14:00 cutoff; +1 processing day; +1 buffer day",
			reasons: []string{
				"Item A: 5 from stock at Stores - WH",
				"Received at 14:15 Asia/Kolkata, after the 14:00 cutoff: intake on 2026-12-02",
				"Added 1 processing day",
				"Added 1 buffer day",
			},
		},
		{
			// Saturday: intake Mon 7 → ship Tue 8 → promise Wed 9; Sat and Sun were rolled over.
			name:        "ordered on a weekend",
			c:           computeCase{now: "2026-12-05 09:00:00", order: oneLine("A", 5), supply: in},
			explanation: "5 from stock at Stores - WH; +1 processing day; +1 buffer day; 2026-12-05 and 2026-12-06 are weekend days",
			reasons: []string{
				"Item A: 5 from stock at Stores - WH",
				"Today (2026-12-05) is not a working day (weekend): intake on 2026-12-07",
				"Added 1 processing day",
				"Added 1 buffer day",
				"Skipped non-working days: 2026-12-05 (weekend), 2026-12-06 (weekend)",
			},
		},
		{
			// 10 processing days from Tue 1 → Tue 15 (4 weekend days); buffer → Wed 16.
			name: "many weekend days are counted",
			c: computeCase{now: "2026-12-01 09:00:00", order: oneLine("A", 1), supply: in,
				rules: func(r *Rules) { r.ProcessingDays = 10 }},
			explanation: "1 from stock at Stores - WH; +10 processing days; +1 buffer day; 4 weekend days",
			reasons: []string{
				"Item A: 1 from stock at Stores - WH",
				"Added 10 processing days",
				"Added 1 buffer day",
				"Skipped non-working days: 2026-12-05 (weekend), 2026-12-06 (weekend), 2026-12-12 (weekend), 2026-12-13 (weekend)",
			},
		},
		{
			// Holidays Wed 2, Thu 3, Fri 4, Mon 7: 10 processing days from Tue 1 count Tue 8 … Mon 21
			// (skipping 4 holidays and 6 weekend days); no buffer → Mon 21. The explanation names three
			// holidays and counts the rest.
			name: "holidays are named, up to three",
			c: computeCase{now: "2026-12-01 09:00:00", order: oneLine("A", 1), supply: in,
				cal: calPtr(Calendar{Weekend: satSun().Weekend, Holidays: map[Date]string{
					MustDate(t, "2026-12-02"): "A", MustDate(t, "2026-12-03"): "", MustDate(t, "2026-12-04"): "C", MustDate(t, "2026-12-07"): "D"}}),
				rules: func(r *Rules) { r.ProcessingDays, r.BufferDays = 10, 0 }},
			explanation: "1 from stock at Stores - WH; +10 processing days; 2026-12-02 is a holiday (A); 2026-12-03 is a holiday; " +
				"2026-12-04 is a holiday (C); and 1 more holiday; 6 weekend days",
			reasons: []string{
				"Item A: 1 from stock at Stores - WH",
				"Added 10 processing days",
				"Skipped non-working days: 2026-12-02 (holiday: A), 2026-12-03 (holiday), 2026-12-04 (holiday: C), 2026-12-05 (weekend), " +
					"2026-12-06 (weekend), 2026-12-07 (holiday: D), 2026-12-12 (weekend), 2026-12-13 (weekend), 2026-12-19 (weekend), 2026-12-20 (weekend)",
			},
		},
		{
			// Lead time 10: Fri 11; processing skips Sat 12, Sun 13 → Mon 14; buffer → Tue 15.
			name: "lead time",
			c: computeCase{now: "2026-12-01 09:00:00", order: oneLine("A", 5),
				supply: Supply{Stock: []Stock{stock("A", 1)}, Demand: []Demand{demand(t, "SO-2", "A", 1, "2026-12-02")},
					Items: stockItem("A", 10)}},
			explanation: "5 by replenishment lead time (10 days) on 2026-12-11; +1 processing day; +1 buffer day; " +
				"2026-12-12 and 2026-12-13 are weekend days",
			reasons: []string{
				"Item A: 5 by replenishment lead time (10 days) on 2026-12-11",
				"Item A: 1 of the 1 on hand at Stores - WH is committed to other orders",
				"Added 1 processing day",
				"Added 1 buffer day",
				"Skipped non-working days: 2026-12-12 (weekend), 2026-12-13 (weekend)",
			},
		},
		{
			// Raw Thu 3; desired Sat 5 → the first working day on or after it, Mon 7.
			name: "no early delivery to a weekend desired date",
			c:    computeCase{now: "2026-12-01 09:00:00", order: desired("2026-12-05", NoEarlyDelivery), supply: in},
			explanation: "5 from stock at Stores - WH; +1 processing day; +1 buffer day; 2026-12-05 and 2026-12-06 are weekend days; " +
				"held to 2026-12-07: no delivery before 2026-12-05",
			reasons: []string{
				"Item A: 5 from stock at Stores - WH",
				"Added 1 processing day",
				"Added 1 buffer day",
				"Skipped non-working days: 2026-12-05 (weekend), 2026-12-06 (weekend)",
				"Can deliver earlier on 2026-12-03, but adjusted to 2026-12-07 (no early delivery before 2026-12-05).",
			},
		},
		{
			name:        "strict desired date missed",
			c:           computeCase{now: "2026-12-01 09:00:00", order: desired("2026-12-02", StrictFail), supply: in},
			explanation: "5 from stock at Stores - WH; +1 processing day; +1 buffer day",
			reasons: []string{
				"Item A: 5 from stock at Stores - WH",
				"Added 1 processing day",
				"Added 1 buffer day",
				"Cannot meet desired delivery date 2026-12-02. Earliest possible promise: 2026-12-03 (1 day late).",
			},
		},
		{
			name:        "strict desired date met",
			c:           computeCase{now: "2026-12-01 09:00:00", order: desired("2026-12-03", StrictFail), supply: in},
			explanation: "5 from stock at Stores - WH; +1 processing day; +1 buffer day",
			reasons: []string{
				"Item A: 5 from stock at Stores - WH",
				"Added 1 processing day",
				"Added 1 buffer day",
				"Desired delivery: 2026-12-03. Promise meets constraint.",
			},
		},
		{
			name: "non-stock item without processing or buffer",
			c: computeCase{now: "2026-12-01 09:00:00", order: oneLine("SVC", 2),
				supply: Supply{Items: map[string]Item{"SVC": {Code: "SVC"}}},
				rules:  func(r *Rules) { r.ProcessingDays, r.BufferDays = 0, 0 }},
			explanation: "not a stock item",
			reasons:     []string{"Item SVC: not a stock item"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := tt.c.run(t)
			if diff := cmp.Diff(tt.explanation, p.Explanation); diff != "" {
				t.Errorf("explanation (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.reasons, p.Reasons); diff != "" {
				t.Errorf("reasons (-want +got):\n%s", diff)
			}
		})
	}
}

// TestComputeDoesNotMutateInputs guards the caller's slices and maps: the
// planner may reuse one Supply for several orders.
func TestComputeDoesNotMutateInputs(t *testing.T) {
	now := MustTime(t, time.UTC, "2026-12-01 10:00:00")
	supply := Supply{
		Stock:    []Stock{stock("A", 3), stock("A", 2)},
		Receipts: []Receipt{po(t, "PO-2", "A", 4, "2026-12-09"), po(t, "PO-1", "A", 4, "2026-11-20")},
		Demand:   []Demand{demand(t, "SO-3", "A", 2, "2026-12-08"), demand(t, "SO-2", "A", 1, "2026-11-01")},
	}
	order := Order{Name: "SO-1", Lines: []Line{{ID: "1", ItemCode: "A", Warehouse: wh, Qty: 9}, {ID: "2", ItemCode: "A", Warehouse: wh, Qty: 1}}}
	wantSupply := Supply{
		Stock:    append([]Stock(nil), supply.Stock...),
		Receipts: append([]Receipt(nil), supply.Receipts...),
		Demand:   append([]Demand(nil), supply.Demand...),
	}
	wantOrder := Order{Name: order.Name, Lines: append([]Line(nil), order.Lines...)}
	first := MustCompute(t, now, order, supply, satSun(), DefaultRules())
	if diff := cmp.Diff(wantSupply, supply); diff != "" {
		t.Errorf("supply changed (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(wantOrder, order); diff != "" {
		t.Errorf("order changed (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(first, MustCompute(t, now, order, supply, satSun(), DefaultRules())); diff != "" {
		t.Errorf("second run differs (-first +second):\n%s", diff)
	}
}

// The explanation a sales person reads on a Sales Order, for each case,
// word for word. Today is Tuesday 2026-12-01, 09:00; Stores - WH; one
// processing and one buffer working day.
func TestSalesTexts(t *testing.T) {
	items := map[string]Item{
		"SKU-050": {Code: "SKU-050", StockUOM: "Nos", IsStockItem: true},
		"SKU-049": {Code: "SKU-049", StockUOM: "Nos", IsStockItem: true},
	}
	tests := []struct {
		name   string
		order  Order
		supply Supply
		want   string
	}{
		{
			// On hand: ready Wed 2, could ship Thu 3; confirmed for Mon 7.
			name: "on time: the requested date, and how much room there is",
			order: Order{Name: "SO-1", Confirm: true, Submitted: true, DesiredDate: MustDate(t, "2026-12-07"),
				Lines: []Line{{ID: "1", ItemCode: "SKU-050", Warehouse: wh, Qty: 5}}},
			supply: Supply{Items: items, Stock: []Stock{{ItemCode: "SKU-050", Warehouse: wh, ActualQty: 10}}},
			want:   "5 from stock at Stores - WH; +1 processing day; +1 buffer day; could ship from 2026-12-03",
		},
		{
			// The PO on Mon 7 → ready Tue 8 → Wed 9, three working days after Fri 4.
			name: "late: how many working days later than requested",
			order: Order{Name: "SO-1", Confirm: true, Submitted: true, DesiredDate: MustDate(t, "2026-12-04"),
				Lines: []Line{{ID: "1", ItemCode: "SKU-050", Warehouse: wh, Qty: 5}}},
			supply: Supply{Items: items, Receipts: []Receipt{{ItemCode: "SKU-050", Warehouse: wh, Qty: 5,
				Date: MustDate(t, "2026-12-07"), PurchaseOrder: "PUR-ORD-2026-00001"}}},
			want: "5 from PUR-ORD-2026-00001 due 2026-12-07; +1 processing day; +1 buffer day; " +
				"3 working days later than requested (2026-12-04)",
		},
		{
			name: "sold by the box: the order's units and the stock units",
			order: Order{Name: "SO-1", Confirm: true, Submitted: true, DesiredDate: MustDate(t, "2026-12-03"),
				Lines: []Line{{ID: "1", ItemCode: "SKU-049", Warehouse: wh, Qty: 24, UOM: "Box", UOMFactor: 12}}},
			supply: Supply{Items: items, Stock: []Stock{{ItemCode: "SKU-049", Warehouse: wh, ActualQty: 30}}},
			want:   "2 Box (24 Nos) from stock at Stores - WH; +1 processing day; +1 buffer day",
		},
		{
			// No promise date: no days added to one; the Material Request
			// is needed by Thu 3 to meet the requested Mon 7.
			name: "short: what is missing and what would fix it",
			order: Order{Name: "SO-1", Confirm: true, Submitted: true, DesiredDate: MustDate(t, "2026-12-07"),
				Lines: []Line{{ID: "1", ItemCode: "SKU-050", Warehouse: wh, Qty: 5}}},
			supply: Supply{Items: items},
			want:   "short 5 Nos of SKU-050 — no purchase order covers it; a Material Request by 2026-12-03 would",
		},
	}
	now := MustTime(t, time.UTC, "2026-12-01 09:00:00")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := MustCompute(t, now, tt.order, tt.supply, satSun(), DefaultRules())
			if p.Explanation != tt.want {
				t.Errorf("explanation\n got %q\nwant %q", p.Explanation, tt.want)
			}
		})
	}
}
