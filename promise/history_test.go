package promise

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func record(late ...int) *SupplierHistory {
	return &SupplierHistory{WindowDays: 180, LateDays: late}
}

func repeat(n, v int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = v
	}
	return out
}

// TestHistoryConfidence grades PO-served lines by the supplier's record
// (ConfidenceRules.History). Today is Tuesday 2026-12-01; the order asks
// for Thursday 2026-12-10 and books for Tuesday 8 (1 processing, 1 buffer
// day back); PO-1 is due Friday 4: 4 days of slack. 10 on order, none on hand.
func TestHistoryConfidence(t *testing.T) {
	items := map[string]Item{"W": {Code: "W", IsStockItem: true, LeadTimeDays: 30}}
	history := DefaultRules()
	history.Confidence.History = true
	for _, tc := range []struct {
		name     string
		rules    Rules
		due      string // PO-1's date
		desired  string
		stock    float64
		record   *SupplierHistory
		want     Confidence
		wantNote string // in the explanation; "" means no history note
	}{
		{name: "rules: a PO 3 days out is MEDIUM", rules: DefaultRules(), due: "2026-12-04", desired: "2026-12-10",
			record: record(repeat(10, 14)...), want: ConfidenceMedium},
		{name: "always 14 days late: LOW, the figure named", rules: history, due: "2026-12-04", desired: "2026-12-10",
			record: record(repeat(10, 14)...), want: ConfidenceLow,
			wantNote: "PO-1 from Acme Supplies: on time 0 % in 180 days, 4 days of slack"},
		{name: "late once by a day in ten: HIGH", rules: history, due: "2026-12-04", desired: "2026-12-10",
			record: record(0, 0, 0, 0, 0, 0, 0, 0, 0, 1), want: ConfidenceHigh,
			wantNote: "PO-1 from Acme Supplies: on time 90 % in 180 days, 4 days of slack"},
		{name: "7 in 10 within the slack: MEDIUM", rules: history, due: "2026-12-04", desired: "2026-12-10",
			record: record(0, 0, 0, 0, 0, 0, 0, 5, 6, 10), want: ConfidenceMedium,
			wantNote: "PO-1 from Acme Supplies: on time 70 % in 180 days, 4 days of slack"},
		{name: "never late, 19 days out: HIGH where the rules say LOW", rules: history, due: "2026-12-20", desired: "2026-12-31",
			record: record(repeat(6, 0)...), want: ConfidenceHigh,
			wantNote: "PO-1 from Acme Supplies: on time 100 % in 180 days, 9 days of slack"},
		{name: "the same under the rules: LOW", rules: DefaultRules(), due: "2026-12-20", desired: "2026-12-31",
			record: record(repeat(6, 0)...), want: ConfidenceLow},
		{name: "too little history: the rules' answer", rules: history, due: "2026-12-04", desired: "2026-12-10",
			record: record(14, 14, 14, 14), want: ConfidenceMedium},
		{name: "no record: the rules' answer", rules: history, due: "2026-12-04", desired: "2026-12-10",
			want: ConfidenceMedium},
		{name: "stock stays HIGH", rules: history, due: "2026-12-04", desired: "2026-12-10", stock: 10,
			record: record(repeat(10, 14)...), want: ConfidenceHigh},
		{name: "overdue PO stays LOW", rules: history, due: "2026-11-20", desired: "2026-12-10",
			record: record(repeat(10, 0)...), want: ConfidenceLow},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := po(t, "PO-1", "W", 10, tc.due)
			r.Supplier, r.History = "Acme Supplies", tc.record
			supply := Supply{Items: items, Receipts: []Receipt{r}}
			if tc.stock > 0 {
				supply.Stock = []Stock{stock("W", tc.stock)}
			}
			o := soAt(t, "SO-A", 1, true, tc.desired, ln("1", "W", 10))
			p := MustPlan(t, MustAllocate(t, Book{Orders: []Order{o}, Supply: supply}, tc.rules), "SO-A")
			if diff := cmp.Diff(tc.want, p.Lines[0].Confidence); diff != "" {
				t.Errorf("line confidence (-want +got):\n%s\n%s", diff, p.Explanation)
			}
			if p.Confidence != tc.want {
				t.Errorf("order confidence %s, want %s", p.Confidence, tc.want)
			}
			has := strings.Contains(p.Explanation, "on time")
			if tc.wantNote == "" && has || tc.wantNote != "" && !strings.Contains(p.Explanation, tc.wantNote) {
				t.Errorf("explanation %q, want note %q", p.Explanation, tc.wantNote)
			}
		})
	}
}

func TestHistoryRulesValidated(t *testing.T) {
	for _, edit := range []func(*ConfidenceRules){
		func(c *ConfidenceRules) { c.HighProbability = 1.5 },
		func(c *ConfidenceRules) { c.MediumProbability = -0.1 },
		func(c *ConfidenceRules) { c.MinReceipts = -1 },
	} {
		rules := DefaultRules()
		edit(&rules.Confidence)
		_, err := Allocate(MustTime(t, rules.Location, bookNow), Book{}, satSun(), rules)
		if !errors.Is(err, ErrInvalidInput) {
			t.Errorf("rules %+v: err %v, want ErrInvalidInput", rules.Confidence, err)
		}
	}
}

func TestSupplierHistoryByDays(t *testing.T) {
	h := SupplierHistory{LateDays: []int{0, 0, 3, 7}}
	rate, n := h.OnTime()
	if rate != 0.5 || n != 4 || h.ByDays(3) != 0.75 || h.ByDays(7) != 1 || (SupplierHistory{}).ByDays(5) != 0 {
		t.Errorf("OnTime %v/%d, ByDays(3) %v, ByDays(7) %v", rate, n, h.ByDays(3), h.ByDays(7))
	}
}
