package accuracy_test

import (
	"errors"
	"math"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/erpnext-otp/otp/accuracy"
	"github.com/erpnext-otp/otp/promise"
)

func d(s string) promise.Date {
	v, err := promise.ParseDate(s)
	if err != nil {
		panic(err)
	}
	return v
}

const (
	high   = promise.ConfidenceHigh
	medium = promise.ConfidenceMedium
	low    = promise.ConfidenceLow
)

func del(date string, qty float64) accuracy.Delivery {
	return accuracy.Delivery{Note: "DN-" + date, Date: d(date), Qty: qty}
}

// calendar: Saturday and Sunday off, 2026-03-10 a holiday.
var calendar = promise.Calendar{
	Weekend:  []time.Weekday{time.Saturday, time.Sunday},
	Holidays: map[promise.Date]string{d("2026-03-10"): "Founders' Day"},
}

// history is a hand-built month: each line's fate is in its comment, and
// the expected figures below were computed by hand from these comments.
func history() accuracy.Input {
	line := func(id string, qty float64, first, latest string, c promise.Confidence, src accuracy.Source, group, wh string, rep int, dels ...accuracy.Delivery) accuracy.Line {
		l := accuracy.Line{SalesOrder: "SO-" + id, LineID: "r" + id, ItemCode: "ITEM-" + id, ItemGroup: group, Warehouse: wh,
			Qty: qty, Confidence: c, Source: src, Repromises: rep, Deliveries: dels}
		if first != "" {
			l.FirstPromise = d(first)
		}
		if latest != "" {
			l.LatestPromise = d(latest)
		}
		return l
	}
	ret := accuracy.Delivery{Note: "DN-RET", Date: d("2026-03-18"), Qty: 1, Return: true}
	return accuracy.Input{
		From: d("2026-03-02"), To: d("2026-03-31"), Calendar: calendar, NoWeekends: true,
		Lines: []accuracy.Line{
			// A: early, kept on both.
			line("A", 10, "2026-03-05", "2026-03-05", high, accuracy.SourceStock, "G1", "W1", 0, del("2026-03-04", 10)),
			// B: re-promised Thu 5 → Mon 9, delivered Mon 9: 2 working days late on the first, kept on the latest.
			line("B", 10, "2026-03-05", "2026-03-09", medium, accuracy.SourcePurchaseOrder, "G1", "W1", 1, del("2026-03-09", 10)),
			// C: promised Fri 6, delivered Wed 11 (Tue 10 a holiday): 2 late on both.
			line("C", 10, "2026-03-06", "2026-03-06", low, accuracy.SourceLeadTime, "G2", "W2", 0, del("2026-03-11", 10)),
			// D: 4 of 10 by the end of the window, promise passed: partial, a miss.
			line("D", 10, "2026-03-06", "2026-03-06", high, accuracy.SourceStock, "G2", "W1", 0, del("2026-03-05", 4)),
			// E: 2 of 5, promised after the window: partial, not yet due, not measured.
			line("E", 5, "2026-04-10", "2026-04-10", high, accuracy.SourceStock, "G2", "W1", 0, del("2026-03-20", 2)),
			// F: never promised: not measured.
			line("F", 3, "", "", "", "", "G1", "W1", 0, del("2026-03-12", 3)),
			// G: no first promise (older order); in full over two notes by Fri 13: split, kept on the latest.
			line("G", 5, "", "2026-03-13", high, accuracy.SourceStock, "G1", "W2", 0, del("2026-03-12", 3), del("2026-03-13", 2)),
			// H: re-promised twice back to Mon 16, delivered Tue 17, 1 returned: 1 late on both.
			line("H", 1, "2026-03-16", "2026-03-16", medium, accuracy.SourcePurchaseOrder, "G1", "W1", 2, del("2026-03-17", 1), ret),
			// I: delivered before the window only: not in the report.
			line("I", 1, "2026-02-27", "2026-02-27", high, accuracy.SourceStock, "G1", "W1", 0, del("2026-02-27", 1)),
		},
		Receipts: []accuracy.Receipt{
			{Supplier: "Acme", PurchaseOrder: "PO-1", Due: d("2026-03-02"), Received: d("2026-03-02")},
			{Supplier: "Acme", PurchaseOrder: "PO-2", Due: d("2026-03-03"), Received: d("2026-03-02")},
			{Supplier: "Acme", PurchaseOrder: "PO-3", Due: d("2026-03-04"), Received: d("2026-03-09")}, // 3 working days late
			{Supplier: "Beta", PurchaseOrder: "PO-4", Due: d("2026-03-05"), Received: d("2026-03-12")}, // 4 (the 10th is a holiday)
			{Supplier: "Beta", PurchaseOrder: "PO-5", Due: d("2025-01-01"), Received: d("2025-01-05")}, // outside 180 days
		},
	}
}

func limit(names ...string) accuracy.Limit {
	return accuracy.Limit{Count: len(names), Names: append([]string{}, names...)}
}

func TestComputeHandFigures(t *testing.T) {
	r, err := accuracy.Compute(history())
	if err != nil {
		t.Fatal(err)
	}
	if r.DeliveredLine != 8 {
		t.Errorf("delivered lines = %d, want 8 (A..H)", r.DeliveredLine)
	}
	want := accuracy.Figures{
		Measured:   6, // A B C D G H
		First:      accuracy.Basis{Lines: 5, OTIF: 1, Ratio: 0.2, Late: 3, NotInFull: 1, P50: 1, P90: 2},
		Latest:     accuracy.Basis{Lines: 6, OTIF: 3, Ratio: 0.5, Late: 2, NotInFull: 1, P50: 0, P90: 2},
		Repromised: 2, RepromisedShare: 2.0 / 6, Repromises: 3, MaxRepromises: 2,
		Tiers: []accuracy.Tier{
			{Confidence: high, Lines: 3, Hits: 2, HitRate: 2.0 / 3, Probability: 2.0 / 3},
			{Confidence: medium, Lines: 2, Hits: 1, HitRate: 0.5, Probability: 0.5},
			{Confidence: low, Lines: 1, Hits: 0, HitRate: 0, Probability: 0},
		},
		Brier:         (2.0/9 + 4.0/9 + 0.5) / 6,
		BrierLines:    6,
		Probabilities: "hit rate",
	}
	approx := cmpopts.EquateApprox(0, 1e-12)
	if diff := cmp.Diff(want, r.Figures, approx); diff != "" {
		t.Errorf("figures (-want +got):\n%s", diff)
	}
	wantLimits := accuracy.Limits{
		Unpromised:     limit("SO-F/rF"),
		NoFirstPromise: limit("SO-G/rG"),
		Partial:        limit("SO-D/rD", "SO-E/rE"),
		NotYetDue:      limit("SO-E/rE"),
		Split:          limit("SO-G/rG"),
		Returns:        limit("SO-H/rH"),
	}
	if diff := cmp.Diff(wantLimits, r.Limits); diff != "" {
		t.Errorf("limits (-want +got):\n%s", diff)
	}
	wantSuppliers := []accuracy.Supplier{
		{Supplier: "Acme", Receipts: 3, OnTime: 2, Rate: 2.0 / 3, P50: 0, P90: 3},
		{Supplier: "Beta", Receipts: 1, OnTime: 0, Rate: 0, P50: 4, P90: 4},
	}
	if diff := cmp.Diff(wantSuppliers, r.Suppliers, approx); diff != "" {
		t.Errorf("suppliers (-want +got):\n%s", diff)
	}

	// Breakdowns: the latest-promise OTIF of each group, by hand.
	type cell struct {
		Key         string
		Lines, OTIF int
	}
	got := map[string][]cell{}
	for dim, gs := range r.Breakdowns {
		for _, g := range gs {
			got[dim] = append(got[dim], cell{g.Key, g.Latest.Lines, g.Latest.OTIF})
		}
	}
	wantCells := map[string][]cell{
		accuracy.ByItemGroup: {{"G1", 4, 3}, {"G2", 2, 0}}, // A B G H | C D
		accuracy.ByWarehouse: {{"W1", 4, 2}, {"W2", 2, 1}}, // A B D H | C G
		accuracy.BySource:    {{"lead_time", 1, 0}, {"purchase_order", 2, 1}, {"stock", 3, 2}},
	}
	if diff := cmp.Diff(wantCells, got); diff != "" {
		t.Errorf("breakdowns (-want +got):\n%s", diff)
	}
	// G1 is A (HIGH, kept), B (MEDIUM, kept), G (HIGH, kept), H (MEDIUM,
	// missed), scored with the report's probabilities 2/3 and 1/2.
	g1 := r.Breakdowns[accuracy.ByItemGroup][0]
	if want := (1.0/9 + 0.25 + 1.0/9 + 0.25) / 4; math.Abs(g1.Brier-want) > 1e-12 || g1.Probabilities != "hit rate" {
		t.Errorf("G1 Brier %v (%s), want %v with the report's hit rates", g1.Brier, g1.Probabilities, want)
	}
}

// TestBrierIsDirect checks the Brier score against the mean of (p − o)²
// over the lines, computed here line by line, for derived and configured
// probabilities.
func TestBrierIsDirect(t *testing.T) {
	configured := map[promise.Confidence]float64{high: 0.9, medium: 0.7, low: 0.3}
	for _, tc := range []struct {
		name  string
		probs map[promise.Confidence]float64
		want  float64
	}{
		{"derived", nil, (2.0/9 + 4.0/9 + 0.5) / 6},
		{"configured", configured, (2*0.01 + 0.81 + 0.09 + 0.49 + 0.09) / 6},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := history()
			in.Probabilities = tc.probs
			r, err := accuracy.Compute(in)
			if err != nil {
				t.Fatal(err)
			}
			p := map[promise.Confidence]float64{}
			for _, tier := range r.Tiers {
				p[tier.Confidence] = tier.Probability
			}
			// Line outcomes against the latest promise: A hit, B hit, C miss, D miss, G hit, H miss.
			outcomes := []struct {
				c   promise.Confidence
				hit bool
			}{{high, true}, {medium, true}, {low, false}, {high, false}, {high, true}, {medium, false}}
			sum := 0.0
			for _, o := range outcomes {
				x := 0.0
				if o.hit {
					x = 1
				}
				sum += (p[o.c] - x) * (p[o.c] - x)
			}
			direct := sum / float64(len(outcomes))
			if math.Abs(r.Brier-direct) > 1e-12 || math.Abs(r.Brier-tc.want) > 1e-12 {
				t.Errorf("Brier = %v, direct %v, by hand %v", r.Brier, direct, tc.want)
			}
		})
	}
}

func TestComputeRejectsBadInput(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*accuracy.Input)
	}{
		{"inverted window", func(in *accuracy.Input) { in.From, in.To = in.To, in.From }},
		{"no window", func(in *accuracy.Input) { in.From = 0 }},
		{"probability above 1", func(in *accuracy.Input) { in.Probabilities = map[promise.Confidence]float64{high: 1.5} }},
		{"probability NaN", func(in *accuracy.Input) { in.Probabilities = map[promise.Confidence]float64{low: math.NaN()} }},
		{"dates spanning centuries", func(in *accuracy.Input) { in.Lines[0].LatestPromise = d("2400-01-01") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := history()
			tc.edit(&in)
			if _, err := accuracy.Compute(in); !errors.Is(err, accuracy.ErrInvalidInput) {
				t.Errorf("err = %v, want ErrInvalidInput", err)
			}
		})
	}
}

func TestEmptyReport(t *testing.T) {
	r, err := accuracy.Compute(accuracy.Input{From: d("2026-03-02"), To: d("2026-03-02")})
	if err != nil {
		t.Fatal(err)
	}
	if r.Measured != 0 || r.Latest.Ratio != 0 || r.Brier != 0 || len(r.Tiers) != 3 {
		t.Errorf("empty report = %+v", r.Figures)
	}
}
