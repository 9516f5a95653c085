package promise

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// Dates in these tests (December 2026): Tue 1, Wed 2, Thu 3, Fri 4, Sat 5,
// Sun 6, Mon 7, Tue 8, Wed 9, Thu 10, Fri 11, Sat 12, Sun 13, Mon 14, Tue 15.
// Unless a case says otherwise: UTC, cutoff 14:00, 1 processing day, 1
// buffer day, Saturday and Sunday off (the configuration's defaults).

// summary is the part of a Plan the date tests compare.
type summary struct {
	Status       Status
	Promise      string
	Raw          string
	Confidence   Confidence
	OnTime       *bool
	Adjusted     bool
	MissedStrict bool
	Lines        []lineSummary
}

type lineSummary struct {
	Avail, ShipReady, Promise string
	Shortage                  float64
	Confidence                Confidence
	Sources                   []string
}

func summarize(p Plan) summary {
	s := summary{Status: p.Status, Promise: p.PromiseDate.String(), Raw: p.PromiseDateRaw.String(),
		Confidence: p.Confidence, OnTime: p.OnTime, Adjusted: p.Adjusted, MissedStrict: p.MissedStrict}
	for _, l := range p.Lines {
		ls := lineSummary{Avail: l.AvailableDate.String(), ShipReady: l.ShipReadyDate.String(),
			Promise: l.PromiseDate.String(), Shortage: l.Shortage, Confidence: l.Confidence}
		for _, src := range l.Sources {
			ls.Sources = append(ls.Sources, sourceString(src))
		}
		s.Lines = append(s.Lines, ls)
	}
	return s
}

// sourceString is "kind qty [po due date] [overdue] @available>ship-ready".
func sourceString(s Source) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s", s.Kind, FormatQty(s.Qty))
	if s.Kind == SourcePurchaseOrder {
		fmt.Fprintf(&b, " %s due %s", s.PurchaseOrder, s.ExpectedDate)
	}
	if s.Overdue {
		b.WriteString(" overdue")
	}
	fmt.Fprintf(&b, " @%s>%s", s.AvailableDate, s.ShipReadyDate)
	return b.String()
}

type computeCase struct {
	name   string
	loc    string // IANA zone of the rules; UTC when empty
	now    string // "YYYY-MM-DD HH:MM:SS" in UTC
	order  Order
	supply Supply
	cal    *Calendar // satSun() when nil
	rules  func(*Rules)
	want   summary
}

func (c computeCase) run(t *testing.T) Plan {
	t.Helper()
	rules := DefaultRules()
	if c.loc != "" {
		rules.Location = MustLocation(t, c.loc)
	}
	if c.rules != nil {
		c.rules(&rules)
	}
	cal := satSun()
	if c.cal != nil {
		cal = *c.cal
	}
	return MustCompute(t, MustTime(t, time.UTC, c.now), c.order, c.supply, cal, rules)
}

func runCases(t *testing.T, cases []computeCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := summarize(c.run(t))
			if diff := cmp.Diff(c.want, got); diff != "" {
				t.Errorf("plan (-want +got):\n%s", diff)
			}
		})
	}
}

func stock(item string, qty float64) Stock {
	return Stock{ItemCode: item, Warehouse: wh, ActualQty: qty}
}

func po(t *testing.T, name, item string, qty float64, date string) Receipt {
	return Receipt{ItemCode: item, Warehouse: wh, Qty: qty, Date: MustDate(t, date), PurchaseOrder: name}
}

func demand(t *testing.T, so, item string, qty float64, due string) Demand {
	return Demand{ItemCode: item, Warehouse: wh, Qty: qty, Due: MustDate(t, due), SalesOrder: so}
}

func stockItem(code string, lead int) map[string]Item {
	return map[string]Item{code: {Code: code, IsStockItem: true, LeadTimeDays: lead}}
}

// onHandLine is the summary of a one-line order fully served from stock.
func onHandLine(qty, avail, ship, prom string) summary {
	return summary{Status: StatusOK, Promise: prom, Raw: prom, Confidence: ConfidenceHigh,
		Lines: []lineSummary{{Avail: avail, ShipReady: ship, Promise: prom, Confidence: ConfidenceHigh,
			Sources: []string{"stock " + qty + " @" + avail + ">" + ship}}}}
}

func calPtr(c Calendar) *Calendar { return &c }

func TestComputeCalendarAndCutoff(t *testing.T) {
	in := Supply{Stock: []Stock{stock("A", 10)}}
	friSat := Calendar{Weekend: []time.Weekday{time.Friday, time.Saturday}}
	runCases(t, []computeCase{
		{
			// Tue 10:00 is before the cutoff: intake Tue 1; +1 processing → Wed 2; +1 buffer → Thu 3.
			name: "stock before cutoff", now: "2026-12-01 10:00:00", order: oneLine("A", 5), supply: in,
			want: onHandLine("5", "2026-12-01", "2026-12-02", "2026-12-03"),
		},
		{
			// 14:00:00 exactly is not after the cutoff: same as before.
			name: "at the cutoff", now: "2026-12-01 14:00:00", order: oneLine("A", 5), supply: in,
			want: onHandLine("5", "2026-12-01", "2026-12-02", "2026-12-03"),
		},
		{
			// Half a second after 14:00 is after the cutoff already (the earlier OTP, docs/quote-api.md): promise Fri 4.
			name: "half a second after the cutoff", now: "2026-12-01 14:00:00.5", order: oneLine("A", 5), supply: in,
			want: onHandLine("5", "2026-12-02", "2026-12-03", "2026-12-04"),
		},
		{
			// 14:00:01 is after: intake Wed 2; ship-ready Thu 3; promise Fri 4.
			name: "after the cutoff", now: "2026-12-01 14:00:01", order: oneLine("A", 5), supply: in,
			want: onHandLine("5", "2026-12-02", "2026-12-03", "2026-12-04"),
		},
		{
			// Fri 15:00, after the cutoff: first working day after Fri is Mon 7; ship Tue 8; promise Wed 9.
			name: "Friday after cutoff, Sat/Sun weekend", now: "2026-12-04 15:00:00", order: oneLine("A", 5), supply: in,
			want: onHandLine("5", "2026-12-07", "2026-12-08", "2026-12-09"),
		},
		{
			// Saturday is not a working day: intake Mon 7; ship Tue 8; promise Wed 9.
			name: "Saturday order", now: "2026-12-05 09:00:00", order: oneLine("A", 5), supply: in,
			want: onHandLine("5", "2026-12-07", "2026-12-08", "2026-12-09"),
		},
		{
			// Fri/Sat weekend (the earlier OTP's): Thu 3 intake; +1 skips Fri, Sat → Sun 6; +1 → Mon 7.
			name: "Fri/Sat weekend, Thursday", now: "2026-12-03 10:00:00", order: oneLine("A", 5), supply: in,
			cal:  calPtr(friSat),
			want: onHandLine("5", "2026-12-03", "2026-12-06", "2026-12-07"),
		},
		{
			// Fri/Sat weekend, Friday morning: Fri is off → intake Sun 6; ship Mon 7; promise Tue 8.
			name: "Fri/Sat weekend, Friday", now: "2026-12-04 10:00:00", order: oneLine("A", 5), supply: in,
			cal:  calPtr(friSat),
			want: onHandLine("5", "2026-12-06", "2026-12-07", "2026-12-08"),
		},
		{
			// no_weekends=false: Fri 4 intake; Sat 5 ship-ready; Sun 6 promise.
			name: "weekends are working days", now: "2026-12-04 10:00:00", order: oneLine("A", 5), supply: in,
			rules: func(r *Rules) { r.NoWeekends = false },
			want:  onHandLine("5", "2026-12-04", "2026-12-05", "2026-12-06"),
		},
		{
			// no_weekends=false, Sat 5 a holiday: Fri 4 intake; ship skips Sat → Sun 6; promise Mon 7.
			name: "weekends working, holidays not", now: "2026-12-04 10:00:00", order: oneLine("A", 5), supply: in,
			cal:   calPtr(Calendar{Weekend: satSun().Weekend, Holidays: map[Date]string{MustDate(t, "2026-12-05"): "Fair"}}),
			rules: func(r *Rules) { r.NoWeekends = false },
			want:  onHandLine("5", "2026-12-04", "2026-12-06", "2026-12-07"),
		},
		{
			// Tue 8 a holiday: intake Mon 7; ship-ready skips Tue 8 → Wed 9; promise Thu 10.
			name: "holiday", now: "2026-12-07 10:00:00", order: oneLine("A", 5), supply: in,
			cal:  calPtr(Calendar{Weekend: satSun().Weekend, Holidays: map[Date]string{MustDate(t, "2026-12-08"): "Feast"}}),
			want: onHandLine("5", "2026-12-07", "2026-12-09", "2026-12-10"),
		},
		{
			// Holiday list with Sundays only as weekly offs: Fri 4 intake; Sat 5 ship-ready (working in the list);
			// Sun 6 off → promise Mon 7.
			name: "holiday list weekly offs", now: "2026-12-04 10:00:00", order: oneLine("A", 5), supply: in,
			cal: calPtr(Calendar{Weekend: satSun().Weekend, ListFrom: MustDate(t, "2026-01-01"), ListTo: MustDate(t, "2026-12-31"),
				WeeklyOffs: map[Date]bool{MustDate(t, "2026-12-06"): true}}),
			want: onHandLine("5", "2026-12-04", "2026-12-05", "2026-12-07"),
		},
		{
			// Processing 0, buffer 0: stock ships on the intake day, Tue 1.
			name: "no processing, no buffer", now: "2026-12-01 10:00:00", order: oneLine("A", 5), supply: in,
			rules: func(r *Rules) { r.ProcessingDays, r.BufferDays = 0, 0 },
			want:  onHandLine("5", "2026-12-01", "2026-12-01", "2026-12-01"),
		},
		{
			// Processing 2: Tue 1 → Wed 2, Thu 3; buffer 3: Fri 4, (Sat, Sun) Mon 7, Tue 8.
			name: "2 processing and 3 buffer days", now: "2026-12-01 10:00:00", order: oneLine("A", 5), supply: in,
			rules: func(r *Rules) { r.ProcessingDays, r.BufferDays = 2, 3 },
			want:  onHandLine("5", "2026-12-01", "2026-12-03", "2026-12-08"),
		},
		{
			// Cutoff 09:30: at 09:45 the intake is Wed 2; ship Thu 3; promise Fri 4.
			name: "configured cutoff minute", now: "2026-12-01 09:45:00", order: oneLine("A", 5), supply: in,
			rules: func(r *Rules) { r.CutoffHour, r.CutoffMinute = 9, 30 },
			want:  onHandLine("5", "2026-12-02", "2026-12-03", "2026-12-04"),
		},
	})
}

func TestComputeTimeZones(t *testing.T) {
	in := Supply{Stock: []Stock{stock("A", 10)}}
	runCases(t, []computeCase{
		{
			// 18:30 UTC is 13:30 in New York (EST, UTC−5): before the cutoff, intake Tue 1; promise Thu 3.
			// (In UTC it would be after the cutoff and the promise Fri 4.)
			name: "New York before cutoff", loc: "America/New_York", now: "2026-12-01 18:30:00",
			order: oneLine("A", 5), supply: in,
			want: onHandLine("5", "2026-12-01", "2026-12-02", "2026-12-03"),
		},
		{
			// 19:30 UTC is 14:30 in New York: after the cutoff, intake Wed 2; promise Fri 4.
			name: "New York after cutoff", loc: "America/New_York", now: "2026-12-01 19:30:00",
			order: oneLine("A", 5), supply: in,
			want: onHandLine("5", "2026-12-02", "2026-12-03", "2026-12-04"),
		},
		{
			// 08:45 UTC is 14:15 in Kolkata (UTC+5:30): after the cutoff, intake Wed 2; promise Fri 4.
			name: "Kolkata after cutoff", loc: "Asia/Kolkata", now: "2026-12-01 08:45:00",
			order: oneLine("A", 5), supply: in,
			want: onHandLine("5", "2026-12-02", "2026-12-03", "2026-12-04"),
		},
		{
			// 20:00 UTC Tue 1 is 01:30 Wed 2 in Kolkata: today is Wed 2 (not Tue 1). Lead time 3 days:
			// Wed 2 + 3 = Sat 5 → Mon 7; ship Tue 8; promise Wed 9. (Today Tue 1 would give Fri 4 → Mon 7 → Tue 8.)
			name: "Kolkata across midnight, lead time from the local date", loc: "Asia/Kolkata", now: "2026-12-01 20:00:00",
			order: oneLine("B", 5), supply: Supply{Items: stockItem("B", 3)},
			want: summary{Status: StatusOK, Promise: "2026-12-09", Raw: "2026-12-09", Confidence: ConfidenceLow,
				Lines: []lineSummary{{Avail: "2026-12-07", ShipReady: "2026-12-08", Promise: "2026-12-09", Confidence: ConfidenceLow,
					Sources: []string{"lead_time 5 @2026-12-07>2026-12-08"}}}},
		},
		{
			// 03:30 UTC Wed 2 is 22:30 Tue 1 in New York: today is Tue 1, so a PO dated Tue 1 is not
			// overdue and counts today; after the cutoff, intake Wed 2; ship Thu 3; promise Fri 4. MEDIUM (PO, not stock).
			name: "New York across midnight, PO dated today", loc: "America/New_York", now: "2026-12-02 03:30:00",
			order: oneLine("C", 5), supply: Supply{Receipts: []Receipt{po(t, "PO-1", "C", 5, "2026-12-01")}},
			want: summary{Status: StatusOK, Promise: "2026-12-04", Raw: "2026-12-04", Confidence: ConfidenceMedium,
				Lines: []lineSummary{{Avail: "2026-12-02", ShipReady: "2026-12-03", Promise: "2026-12-04", Confidence: ConfidenceMedium,
					Sources: []string{"purchase_order 5 PO-1 due 2026-12-01 @2026-12-02>2026-12-03"}}}},
		},
		{
			// The same instant in UTC is Wed 2: the PO dated Tue 1 is overdue, counted on the first working
			// day after today (Thu 3): ship Fri 4; promise Mon 7; LOW.
			name: "UTC same instant, PO overdue", now: "2026-12-02 03:30:00",
			order: oneLine("C", 5), supply: Supply{Receipts: []Receipt{po(t, "PO-1", "C", 5, "2026-12-01")}},
			want: summary{Status: StatusOK, Promise: "2026-12-07", Raw: "2026-12-07", Confidence: ConfidenceLow,
				Lines: []lineSummary{{Avail: "2026-12-03", ShipReady: "2026-12-04", Promise: "2026-12-07", Confidence: ConfidenceLow,
					Sources: []string{"purchase_order 5 PO-1 due 2026-12-01 overdue @2026-12-03>2026-12-04"}}}},
		},
	})
}

func TestComputeSupplyAndDemand(t *testing.T) {
	now := "2026-12-01 10:00:00" // Tue, before the cutoff: intake Tue 1
	runCases(t, []computeCase{
		{
			// On hand 10 is earmarked for SO-2 due Thu 3, but PO-1 (10) arrives Wed 2, before it:
			// S−D = 10 (Tue), 20 (Wed), 10 (Thu) → ATP(Tue) = 10 → available today; promise Thu 3.
			name: "look-ahead: PO refills in time", now: now, order: oneLine("A", 10),
			supply: Supply{Stock: []Stock{stock("A", 10)},
				Receipts: []Receipt{po(t, "PO-1", "A", 10, "2026-12-02")},
				Demand:   []Demand{demand(t, "SO-2", "A", 10, "2026-12-03")}},
			want: onHandLine("10", "2026-12-01", "2026-12-02", "2026-12-03"),
		},
		{
			// PO-1 arrives Mon 7, after SO-2's Thu 3: S−D = 10 (Tue), 0 (Thu), 10 (Mon) → ATP 0 until Mon 7.
			// Available Mon 7; ship Tue 8; promise Wed 9. The line gets the PO (SO-2 took the stock). MEDIUM.
			name: "look-ahead: PO too late", now: now, order: oneLine("A", 10),
			supply: Supply{Stock: []Stock{stock("A", 10)},
				Receipts: []Receipt{po(t, "PO-1", "A", 10, "2026-12-07")},
				Demand:   []Demand{demand(t, "SO-2", "A", 10, "2026-12-03")}},
			want: summary{Status: StatusOK, Promise: "2026-12-09", Raw: "2026-12-09", Confidence: ConfidenceMedium,
				Lines: []lineSummary{{Avail: "2026-12-07", ShipReady: "2026-12-08", Promise: "2026-12-09", Confidence: ConfidenceMedium,
					Sources: []string{"purchase_order 10 PO-1 due 2026-12-07 @2026-12-07>2026-12-08"}}}},
		},
		{
			// The order's own demand record (SalesOrder == order.Name) never competes: all 10 on hand are free.
			name: "own demand ignored", now: now, order: oneLine("A", 10),
			supply: Supply{Stock: []Stock{stock("A", 10)}, Demand: []Demand{demand(t, "SO-1", "A", 10, "2026-12-02")}},
			want:   onHandLine("10", "2026-12-01", "2026-12-02", "2026-12-03"),
		},
		{
			// Past-due demand (Nov 20) counts as due today: it takes the 10 on hand; PO Mon 7 → promise Wed 9.
			name: "past-due demand counts today", now: now, order: oneLine("A", 5),
			supply: Supply{Stock: []Stock{stock("A", 10)},
				Receipts: []Receipt{po(t, "PO-1", "A", 10, "2026-12-07")},
				Demand:   []Demand{demand(t, "SO-2", "A", 10, "2026-11-20")}},
			want: summary{Status: StatusOK, Promise: "2026-12-09", Raw: "2026-12-09", Confidence: ConfidenceMedium,
				Lines: []lineSummary{{Avail: "2026-12-07", ShipReady: "2026-12-08", Promise: "2026-12-09", Confidence: ConfidenceMedium,
					Sources: []string{"purchase_order 5 PO-1 due 2026-12-07 @2026-12-07>2026-12-08"}}}},
		},
		{
			// Reserved for production (4) and sub-contracting (2) are due today: 10 − 6 = 4 free; the 5th
			// unit comes from PO-1 on Thu 3: ship Fri 4; promise Mon 7. 4/5 from stock = 0.8 → MEDIUM.
			name: "reserved for production and sub-contracting", now: now, order: oneLine("A", 5),
			supply: Supply{Stock: []Stock{{ItemCode: "A", Warehouse: wh, ActualQty: 10, ReservedForProduction: 4, ReservedForSubcontract: 2}},
				Receipts: []Receipt{po(t, "PO-1", "A", 3, "2026-12-03")}},
			want: summary{Status: StatusOK, Promise: "2026-12-07", Raw: "2026-12-07", Confidence: ConfidenceMedium,
				Lines: []lineSummary{{Avail: "2026-12-03", ShipReady: "2026-12-04", Promise: "2026-12-07", Confidence: ConfidenceMedium,
					Sources: []string{"stock 4 @2026-12-01>2026-12-02", "purchase_order 1 PO-1 due 2026-12-03 @2026-12-03>2026-12-04"}}}},
		},
		{
			// Negative stock (−3) is owed first: PO 10 on Mon 7 leaves 7 ≥ 5 → Mon 7; promise Wed 9.
			name: "negative stock", now: now, order: oneLine("A", 5),
			supply: Supply{Stock: []Stock{stock("A", -3)}, Receipts: []Receipt{po(t, "PO-1", "A", 10, "2026-12-07")}},
			want: summary{Status: StatusOK, Promise: "2026-12-09", Raw: "2026-12-09", Confidence: ConfidenceMedium,
				Lines: []lineSummary{{Avail: "2026-12-07", ShipReady: "2026-12-08", Promise: "2026-12-09", Confidence: ConfidenceMedium,
					Sources: []string{"purchase_order 5 PO-1 due 2026-12-07 @2026-12-07>2026-12-08"}}}},
		},
		{
			// A PO dated Sat 5 rolls to Mon 7 with 0 processing and 0 buffer days.
			name: "PO on a weekend rolls forward", now: now, order: oneLine("A", 5),
			supply: Supply{Receipts: []Receipt{po(t, "PO-1", "A", 5, "2026-12-05")}},
			rules:  func(r *Rules) { r.ProcessingDays, r.BufferDays = 0, 0 },
			want: summary{Status: StatusOK, Promise: "2026-12-07", Raw: "2026-12-07", Confidence: ConfidenceMedium,
				Lines: []lineSummary{{Avail: "2026-12-07", ShipReady: "2026-12-07", Promise: "2026-12-07", Confidence: ConfidenceMedium,
					Sources: []string{"purchase_order 5 PO-1 due 2026-12-05 @2026-12-07>2026-12-07"}}}},
		},
		{
			// UOM: the planner sends 10 Box × 12 as 120 in stock UOM. 119 on hand is not enough;
			// PO-1 brings 1 more on Mon 7 → promise Wed 9. 119/120 = 99.2% from stock is at or over the
			// 0.99 HighStockShare with no shortage → HIGH (the earlier OTP's thresholds).
			name: "10 Box x 12 needs 120", now: now,
			order:  Order{Name: "SO-1", Lines: []Line{{ID: "1", ItemCode: "A", Warehouse: wh, Qty: 10 * 12}}},
			supply: Supply{Stock: []Stock{stock("A", 119)}, Receipts: []Receipt{po(t, "PO-1", "A", 1, "2026-12-07")}},
			want: summary{Status: StatusOK, Promise: "2026-12-09", Raw: "2026-12-09", Confidence: ConfidenceHigh,
				Lines: []lineSummary{{Avail: "2026-12-07", ShipReady: "2026-12-08", Promise: "2026-12-09", Confidence: ConfidenceHigh,
					Sources: []string{"stock 119 @2026-12-01>2026-12-02", "purchase_order 1 PO-1 due 2026-12-07 @2026-12-07>2026-12-08"}}}},
		},
		{
			// 120 on hand covers the 120: HIGH, promise Thu 3.
			name: "120 on hand covers 10 Box x 12", now: now,
			order:  Order{Name: "SO-1", Lines: []Line{{ID: "1", ItemCode: "A", Warehouse: wh, Qty: 120}}},
			supply: Supply{Stock: []Stock{stock("A", 120)}},
			want:   onHandLine("120", "2026-12-01", "2026-12-02", "2026-12-03"),
		},
		{
			// Overdue PO (Nov 25) counts on the first working day after today, Wed 2: ship Thu 3;
			// promise Fri 4; LOW (docs/promise.md).
			name: "overdue PO", now: now, order: oneLine("A", 5),
			supply: Supply{Receipts: []Receipt{po(t, "PO-1", "A", 5, "2026-11-25")}},
			want: summary{Status: StatusOK, Promise: "2026-12-04", Raw: "2026-12-04", Confidence: ConfidenceLow,
				Lines: []lineSummary{{Avail: "2026-12-02", ShipReady: "2026-12-03", Promise: "2026-12-04", Confidence: ConfidenceLow,
					Sources: []string{"purchase_order 5 PO-1 due 2026-11-25 overdue @2026-12-02>2026-12-03"}}}},
		},
		{
			// A PO more than 7 days out (Mon 14, 13 days) outweighs no stock: LOW. Available Mon 14;
			// ship Tue 15; promise Wed 16.
			name: "far PO", now: now, order: oneLine("A", 5),
			supply: Supply{Receipts: []Receipt{po(t, "PO-1", "A", 5, "2026-12-14")}},
			want: summary{Status: StatusOK, Promise: "2026-12-16", Raw: "2026-12-16", Confidence: ConfidenceLow,
				Lines: []lineSummary{{Avail: "2026-12-14", ShipReady: "2026-12-15", Promise: "2026-12-16", Confidence: ConfidenceLow,
					Sources: []string{"purchase_order 5 PO-1 due 2026-12-14 @2026-12-14>2026-12-15"}}}},
		},
	})
}

func TestComputeSameItemLines(t *testing.T) {
	now := "2026-12-01 10:00:00"
	twoLines := func(q1, q2 float64) Order {
		return Order{Name: "SO-1", Lines: []Line{
			{ID: "1", ItemCode: "A", Warehouse: wh, Qty: q1},
			{ID: "2", ItemCode: "A", Warehouse: wh, Qty: q2},
		}}
	}
	runCases(t, []computeCase{
		{
			// 8 on hand, PO-1 10 on Mon 7. Line 1 (5): ATP(Tue) = 8 → Tue 1; its 5 join demand on Tue.
			// Line 2 (5): S−D = 3 (Tue), 13 (Mon) → Mon 7. Order: latest ship-ready Tue 8 + 1 → Wed 9.
			// Order confidence: 8 of 10 from stock → MEDIUM.
			name: "lines consume in line order", now: now, order: twoLines(5, 5),
			supply: Supply{Stock: []Stock{stock("A", 8)}, Receipts: []Receipt{po(t, "PO-1", "A", 10, "2026-12-07")}},
			want: summary{Status: StatusOK, Promise: "2026-12-09", Raw: "2026-12-09", Confidence: ConfidenceMedium,
				Lines: []lineSummary{
					{Avail: "2026-12-01", ShipReady: "2026-12-02", Promise: "2026-12-03", Confidence: ConfidenceHigh,
						Sources: []string{"stock 5 @2026-12-01>2026-12-02"}},
					{Avail: "2026-12-07", ShipReady: "2026-12-08", Promise: "2026-12-09", Confidence: ConfidenceMedium,
						Sources: []string{"stock 3 @2026-12-01>2026-12-02", "purchase_order 2 PO-1 due 2026-12-07 @2026-12-07>2026-12-08"}},
				}},
		},
		{
			// 5 on hand, PO-1 10 on Thu 10. Line 1 (12) needs the PO: Thu 10. Line 2 (3): S−D = 5 (Tue),
			// 15−12 = 3 (Thu 10) → ATP(Tue) = 3 → Tue 1. Attribution must not count the stock twice:
			// line 2 (due first) takes 3 from stock, line 1 the other 2 and 10 from the PO.
			// Line 1: Thu 10 → ship Fri 11 → promise Mon 14 (10 of 12 from a 9-day-out PO: far 10 > near 0 + stock 2 → LOW).
			name: "a later line fits before an earlier one", now: now, order: twoLines(12, 3),
			supply: Supply{Stock: []Stock{stock("A", 5)}, Receipts: []Receipt{po(t, "PO-1", "A", 10, "2026-12-10")}},
			want: summary{Status: StatusOK, Promise: "2026-12-14", Raw: "2026-12-14", Confidence: ConfidenceLow,
				Lines: []lineSummary{
					{Avail: "2026-12-10", ShipReady: "2026-12-11", Promise: "2026-12-14", Confidence: ConfidenceLow,
						Sources: []string{"stock 2 @2026-12-01>2026-12-02", "purchase_order 10 PO-1 due 2026-12-10 @2026-12-10>2026-12-11"}},
					{Avail: "2026-12-01", ShipReady: "2026-12-02", Promise: "2026-12-03", Confidence: ConfidenceHigh,
						Sources: []string{"stock 3 @2026-12-01>2026-12-02"}},
				}},
		},
	})
}

func TestComputeFallbacksAndShortages(t *testing.T) {
	now := "2026-12-01 10:00:00"
	runCases(t, []computeCase{
		{
			// Nothing known; item lead time 10 days: Tue 1 + 10 = Fri 11; ship Mon 14; promise Tue 15. LOW.
			name: "item lead time", now: now, order: oneLine("A", 5), supply: Supply{Items: stockItem("A", 10)},
			want: summary{Status: StatusOK, Promise: "2026-12-15", Raw: "2026-12-15", Confidence: ConfidenceLow,
				Lines: []lineSummary{{Avail: "2026-12-11", ShipReady: "2026-12-14", Promise: "2026-12-15", Confidence: ConfidenceLow,
					Sources: []string{"lead_time 5 @2026-12-11>2026-12-14"}}}},
		},
		{
			// Item lead time 0, default 5: Tue 1 + 5 = Sun 6 → Mon 7; ship Tue 8; promise Wed 9.
			name: "default lead time", now: now, order: oneLine("A", 5), supply: Supply{Items: stockItem("A", 0)},
			rules: func(r *Rules) { r.DefaultLeadTimeDays = 5 },
			want: summary{Status: StatusOK, Promise: "2026-12-09", Raw: "2026-12-09", Confidence: ConfidenceLow,
				Lines: []lineSummary{{Avail: "2026-12-07", ShipReady: "2026-12-08", Promise: "2026-12-09", Confidence: ConfidenceLow,
					Sources: []string{"lead_time 5 @2026-12-07>2026-12-08"}}}},
		},
		{
			// 2 on hand, lead time 10: the 2 come from stock, the other 3 by the lead time on Fri 11.
			name: "stock plus lead time", now: now, order: oneLine("A", 5),
			supply: Supply{Stock: []Stock{stock("A", 2)}, Items: stockItem("A", 10)},
			want: summary{Status: StatusOK, Promise: "2026-12-15", Raw: "2026-12-15", Confidence: ConfidenceLow,
				Lines: []lineSummary{{Avail: "2026-12-11", ShipReady: "2026-12-14", Promise: "2026-12-15", Confidence: ConfidenceLow,
					Sources: []string{"stock 2 @2026-12-01>2026-12-02", "lead_time 3 @2026-12-11>2026-12-14"}}}},
		},
		{
			// A PO on Jan 15 would cover it, but the 10-day lead time (Fri 11) is sooner: as SAP's RLT,
			// the promise is at the lead time, not later.
			name: "lead time sooner than a far PO", now: now, order: oneLine("A", 5),
			supply: Supply{Receipts: []Receipt{po(t, "PO-1", "A", 5, "2027-01-15")}, Items: stockItem("A", 10)},
			want: summary{Status: StatusOK, Promise: "2026-12-15", Raw: "2026-12-15", Confidence: ConfidenceLow,
				Lines: []lineSummary{{Avail: "2026-12-11", ShipReady: "2026-12-14", Promise: "2026-12-15", Confidence: ConfidenceLow,
					Sources: []string{"lead_time 5 @2026-12-11>2026-12-14"}}}},
		},
		{
			// A non-stock item (a service) is available on the intake day with no source: HIGH, promise Thu 3.
			name: "non-stock item", now: now, order: oneLine("SVC", 5),
			supply: Supply{Items: map[string]Item{"SVC": {Code: "SVC", IsStockItem: false}}},
			want: summary{Status: StatusOK, Promise: "2026-12-03", Raw: "2026-12-03", Confidence: ConfidenceHigh,
				Lines: []lineSummary{{Avail: "2026-12-01", ShipReady: "2026-12-02", Promise: "2026-12-03", Confidence: ConfidenceHigh}}},
		},
		{
			// A disabled item is a shortage of the whole quantity: CANNOT_FULFILL, no promise date;
			// the raw date is the intake day's ship-ready (Wed 2) + 1 buffer → Thu 3.
			name: "disabled item", now: now, order: oneLine("OLD", 5),
			supply: Supply{Stock: []Stock{stock("OLD", 50)}, Items: map[string]Item{"OLD": {Code: "OLD", IsStockItem: true, Disabled: true}}},
			want: summary{Status: StatusCannotFulfill, Raw: "2026-12-03", Confidence: ConfidenceLow,
				Lines: []lineSummary{{Shortage: 5, Confidence: ConfidenceLow}}},
		},
		{
			// 3 on hand for 5, no PO, no lead time: shortage 2 (40% > 10% → LOW), CANNOT_FULFILL.
			name: "shortage", now: now, order: oneLine("A", 5), supply: Supply{Stock: []Stock{stock("A", 3)}},
			want: summary{Status: StatusCannotFulfill, Raw: "2026-12-03", Confidence: ConfidenceLow,
				Lines: []lineSummary{{Shortage: 2, Confidence: ConfidenceLow, Sources: []string{"stock 3 @2026-12-01>2026-12-02"}}}},
		},
		{
			// 19 of 20 on hand: a 5% shortage is not over 10% → MEDIUM (the thresholds of docs/promise.md), but CANNOT_FULFILL.
			name: "small shortage", now: now, order: oneLine("A", 20), supply: Supply{Stock: []Stock{stock("A", 19)}},
			want: summary{Status: StatusCannotFulfill, Raw: "2026-12-03", Confidence: ConfidenceMedium,
				Lines: []lineSummary{{Shortage: 1, Confidence: ConfidenceMedium, Sources: []string{"stock 19 @2026-12-01>2026-12-02"}}}},
		},
		{
			// A shortage with a supply warning: CANNOT_PROMISE_RELIABLY (the earlier OTP, docs/quote-api.md), LOW.
			name: "shortage with a warning", now: now, order: oneLine("A", 5),
			supply: Supply{Stock: []Stock{stock("A", 3)}, Warnings: []string{"Purchase Order: permission denied"}},
			want: summary{Status: StatusCannotPromiseReliably, Raw: "2026-12-03", Confidence: ConfidenceLow,
				Lines: []lineSummary{{Shortage: 2, Confidence: ConfidenceLow, Sources: []string{"stock 3 @2026-12-01>2026-12-02"}}}},
		},
		{
			// Fully on hand but a warning: OK and LOW.
			name: "warning without shortage", now: now, order: oneLine("A", 5),
			supply: Supply{Stock: []Stock{stock("A", 5)}, Warnings: []string{"Bin: timeout"}},
			want: summary{Status: StatusOK, Promise: "2026-12-03", Raw: "2026-12-03", Confidence: ConfidenceLow,
				Lines: []lineSummary{{Avail: "2026-12-01", ShipReady: "2026-12-02", Promise: "2026-12-03", Confidence: ConfidenceLow,
					Sources: []string{"stock 5 @2026-12-01>2026-12-02"}}}},
		},
		{
			// Line 1 on hand, line 2 short: PromiseDateRaw still comes from line 1 (v1), PromiseDate is zero.
			// Line 1 has a PO on Mon 7: ship Tue 8, raw Wed 9.
			name: "raw date from the lines that can be fulfilled", now: now,
			order:  Order{Name: "SO-1", Lines: []Line{{ID: "1", ItemCode: "A", Warehouse: wh, Qty: 5}, {ID: "2", ItemCode: "B", Warehouse: wh, Qty: 4}}},
			supply: Supply{Receipts: []Receipt{po(t, "PO-1", "A", 5, "2026-12-07")}},
			want: summary{Status: StatusCannotFulfill, Raw: "2026-12-09", Confidence: ConfidenceLow,
				Lines: []lineSummary{
					{Avail: "2026-12-07", ShipReady: "2026-12-08", Promise: "2026-12-09", Confidence: ConfidenceMedium,
						Sources: []string{"purchase_order 5 PO-1 due 2026-12-07 @2026-12-07>2026-12-08"}},
					{Shortage: 4, Confidence: ConfidenceLow},
				}},
		},
	})
}

func TestComputeDesiredDate(t *testing.T) {
	now := "2026-12-01 10:00:00" // stock on hand: raw promise Thu 3
	in := Supply{Stock: []Stock{stock("A", 10)}}
	short := Supply{Stock: []Stock{stock("A", 1)}}
	with := func(desired string, mode DesiredDateMode) Order {
		o := oneLine("A", 5)
		o.DesiredDate, o.DesiredDateMode = MustDate(t, desired), mode
		return o
	}
	yes, no := ptr(true), ptr(false)
	base := func(prom string, onTime *bool, adjusted, missed bool) summary {
		s := onHandLine("5", "2026-12-01", "2026-12-02", "2026-12-03")
		s.Promise, s.OnTime, s.Adjusted, s.MissedStrict = prom, onTime, adjusted, missed
		return s
	}
	shortSummary := func(missed bool) summary {
		return summary{Status: StatusCannotFulfill, Raw: "2026-12-03", Confidence: ConfidenceLow, MissedStrict: missed,
			Lines: []lineSummary{{Shortage: 4, Confidence: ConfidenceLow, Sources: []string{"stock 1 @2026-12-01>2026-12-02"}}}}
	}
	runCases(t, []computeCase{
		// LATEST_ACCEPTABLE (also the default for an empty mode): promise = raw; on time when raw <= desired.
		{name: "latest: equal is on time", now: now, order: with("2026-12-03", LatestAcceptable), supply: in, want: base("2026-12-03", yes, false, false)},
		{name: "latest: default mode", now: now, order: with("2026-12-04", ""), supply: in, want: base("2026-12-03", yes, false, false)},
		{name: "latest: late", now: now, order: with("2026-12-02", LatestAcceptable), supply: in, want: base("2026-12-03", no, false, false)},
		// A Saturday desired date is the latest acceptable day: Thu 3 is on time.
		{name: "latest: non-working desired date", now: now, order: with("2026-12-05", LatestAcceptable), supply: in, want: base("2026-12-03", yes, false, false)},
		{name: "latest: shortage has no on-time", now: now, order: with("2026-12-05", LatestAcceptable), supply: short, want: shortSummary(false)},
		// STRICT_FAIL: promise = raw; MissedStrict when raw > desired, or when the order cannot be fulfilled.
		{name: "strict: met", now: now, order: with("2026-12-03", StrictFail), supply: in, want: base("2026-12-03", yes, false, false)},
		{name: "strict: missed", now: now, order: with("2026-12-02", StrictFail), supply: in, want: base("2026-12-03", no, false, true)},
		{name: "strict: shortage misses", now: now, order: with("2026-12-10", StrictFail), supply: short, want: shortSummary(true)},
		// NO_EARLY_DELIVERY: raw Thu 3 before desired Mon 7 → promise Mon 7, adjusted, on time.
		{name: "no early: adjusted", now: now, order: with("2026-12-07", NoEarlyDelivery), supply: in, want: base("2026-12-07", yes, true, false)},
		// Desired Sat 5 is not a working day: the promise is the first working day on or after it, Mon 7.
		{name: "no early: non-working desired date", now: now, order: with("2026-12-05", NoEarlyDelivery), supply: in, want: base("2026-12-07", yes, true, false)},
		// raw == desired: not adjusted, on time (v1 said "0 days late").
		{name: "no early: equal", now: now, order: with("2026-12-03", NoEarlyDelivery), supply: in, want: base("2026-12-03", yes, false, false)},
		{name: "no early: late", now: now, order: with("2026-12-02", NoEarlyDelivery), supply: in, want: base("2026-12-03", no, false, false)},
		{name: "no early: shortage is never adjusted", now: now, order: with("2026-12-07", NoEarlyDelivery), supply: short, want: shortSummary(false)},
		{
			// Thu 3 order: ship Fri 4, raw Mon 7. Desired Sat 5 (non-working): Mon 7 is the first day
			// the customer can take delivery, so Mon 7 is on time, not adjusted.
			name: "no early: raw on the first working day after a non-working desired date", now: "2026-12-03 10:00:00",
			order: with("2026-12-05", NoEarlyDelivery), supply: in,
			want: summary{Status: StatusOK, Promise: "2026-12-07", Raw: "2026-12-07", Confidence: ConfidenceHigh, OnTime: yes,
				Lines: []lineSummary{{Avail: "2026-12-03", ShipReady: "2026-12-04", Promise: "2026-12-07", Confidence: ConfidenceHigh,
					Sources: []string{"stock 5 @2026-12-03>2026-12-04"}}}},
		},
	})
}

// TestComputeText checks reasons, blockers, options, procurement and the
// explanation word for word.
func TestComputeText(t *testing.T) {
	now := MustTime(t, time.UTC, "2026-12-01 10:00:00")
	rules := DefaultRules()
	t.Run("stock and PO over a weekend and a holiday", func(t *testing.T) {
		cal := satSun()
		cal.Holidays = map[Date]string{MustDate(t, "2026-12-08"): "Immaculate Conception"}
		order := oneLine("WIDGET", 10)
		order.DesiredDate = MustDate(t, "2026-12-07")
		supply := Supply{
			Stock:    []Stock{stock("WIDGET", 10), {ItemCode: "WIDGET", Warehouse: "Finished Goods - WH", ActualQty: 8}},
			Receipts: []Receipt{po(t, "PUR-ORD-2026-00012", "WIDGET", 4, "2026-12-04")},
			Demand: []Demand{demand(t, "SO-2", "WIDGET", 4, "2026-12-02"),
				{ItemCode: "WIDGET", Warehouse: "Finished Goods - WH", Qty: 5.5, Due: MustDate(t, "2026-12-20"), SalesOrder: "SO-3"}},
		}
		// S−D at Stores: 10 (Tue), 6 (Wed), 10 (Fri) → ATP 6 until Fri 4 → available Fri 4;
		// ship-ready skips Sat 5, Sun 6 → Mon 7; buffer skips the holiday Tue 8 → Wed 9.
		p := MustCompute(t, now, order, supply, cal, rules)
		want := Plan{
			Status: StatusOK, PromiseDate: MustDate(t, "2026-12-09"), PromiseDateRaw: MustDate(t, "2026-12-09"),
			DesiredDate: MustDate(t, "2026-12-07"), DesiredDateMode: LatestAcceptable, OnTime: ptr(false),
			WorkingDaysLate: 1, // Tue 8 is a holiday: Wed 9 is one working day after Mon 7
			CanFulfill:      true, Confidence: ConfidenceMedium,
			Lines: []LinePlan{{
				LineID: "1", ItemCode: "WIDGET", Warehouse: wh, QtyRequired: 10,
				Sources: []Source{
					{Kind: SourceStock, Qty: 6, AvailableDate: MustDate(t, "2026-12-01"), ShipReadyDate: MustDate(t, "2026-12-02"), Warehouse: wh},
					{Kind: SourcePurchaseOrder, Qty: 4, AvailableDate: MustDate(t, "2026-12-04"), ShipReadyDate: MustDate(t, "2026-12-07"),
						Warehouse: wh, PurchaseOrder: "PUR-ORD-2026-00012", ExpectedDate: MustDate(t, "2026-12-04")},
				},
				AvailableDate: MustDate(t, "2026-12-04"), ShipReadyDate: MustDate(t, "2026-12-07"), PromiseDate: MustDate(t, "2026-12-09"),
				Confidence: ConfidenceMedium,
			}},
			Reasons: []string{
				"Item WIDGET: 6 from stock at Stores - WH, 4 from PUR-ORD-2026-00012 due 2026-12-04",
				"Item WIDGET: 4 of the 10 on hand at Stores - WH are committed to other orders",
				"Added 1 processing day",
				"Added 1 buffer day",
				"Skipped non-working days: 2026-12-05 (weekend), 2026-12-06 (weekend), 2026-12-08 (holiday: Immaculate Conception)",
				"Desired delivery: 2026-12-07. Late by 2 days.",
			},
			Options: []Option{
				{Type: "alternate_warehouse", Description: "Ship WIDGET from Finished Goods - WH: 2.5 free in stock there",
					Impact: "Could cover 2.5 of the 4 not in stock at Stores - WH (transfer time not included)"},
				// PO today → line on hand Tue 1 → ship Wed 2 → promise Thu 3: 6 days earlier than Wed 9.
				{Type: "expedite_po", PurchaseOrder: "PUR-ORD-2026-00012",
					Description: "Expedite PUR-ORD-2026-00012 for WIDGET (4 due 2026-12-04 into Stores - WH)",
					Impact:      "If it arrived today, the promise would move from 2026-12-09 to 2026-12-03 (6 days earlier)"},
			},
			Explanation: "6 from stock at Stores - WH; 4 from PUR-ORD-2026-00012 due 2026-12-04; +1 processing day; +1 buffer day; " +
				"2026-12-08 is a holiday (Immaculate Conception); 2026-12-05 and 2026-12-06 are weekend days",
		}
		if diff := cmp.Diff(want, p); diff != "" {
			t.Errorf("plan (-want +got):\n%s", diff)
		}
	})
	t.Run("shortage, disabled item, far and overdue POs, warning", func(t *testing.T) {
		order := Order{Name: "SO-1", DesiredDate: MustDate(t, "2026-12-10"), Lines: []Line{
			{ID: "1", ItemCode: "A", Warehouse: wh, Qty: 5},
			{ID: "2", ItemCode: "B", Warehouse: wh, Qty: 2},
			{ID: "3", ItemCode: "OLD", Warehouse: wh, Qty: 1},
			{ID: "4", ItemCode: "C", Warehouse: wh, Qty: 3},
		}}
		supply := Supply{
			Stock:    []Stock{stock("A", 1.5)},
			Receipts: []Receipt{po(t, "PO-FAR", "B", 2, "2026-12-21"), po(t, "PO-LATE", "C", 3, "2026-11-20")},
			Items:    map[string]Item{"OLD": {Code: "OLD", IsStockItem: true, Disabled: true}},
			Warnings: []string{"Purchase Order: permission denied"},
		}
		p := MustCompute(t, now, order, supply, satSun(), rules)
		// Line A short 3.5. B on PO-FAR Mon 21 (20 days out): ship Tue 22, promise Wed 23.
		// C on overdue PO-LATE counted Wed 2. Raw: latest ship-ready Tue 22 + 1 → Wed 23.
		// Shortage required by: desired Thu 10 − 2 working days (processing + buffer) → Tue 8.
		wantText := struct {
			Status      Status
			Raw         Date
			Reasons     []string
			Blockers    []string
			Options     []Option
			Procurement []Suggestion
			Explanation string
		}{
			Status: StatusCannotPromiseReliably,
			Raw:    MustDate(t, "2026-12-23"),
			Reasons: []string{
				"Item A: 1.5 from stock at Stores - WH, short 3.5 — no purchase order covers the rest; a Material Request by 2026-12-08 would",
				"Item B: 2 from PO-FAR due 2026-12-21",
				"Item OLD: item is disabled",
				"Item C: 3 from PO-LATE due 2026-11-20 (overdue, counted on 2026-12-02)",
				"Added 1 processing day",
				"Added 1 buffer day",
				"Desired delivery: 2026-12-10. Not promised: the order cannot be fulfilled.",
			},
			Blockers: []string{
				"Item A: shortage of 3.5 at Stores - WH",
				"Item B: PO PO-FAR arrives in 20 days (2026-12-21)",
				"Item OLD is disabled",
				"Item C: PO PO-LATE was due 2026-11-20 and is overdue",
				"Supply data could not be read (Purchase Order: permission denied): the supply timeline is uncertain",
			},
			Options: []Option{{Type: "split_shipment", Description: "Ship 2 of 4 lines first (B, C)",
				Impact: "Partial delivery by 2026-12-23; the rest cannot be promised yet (shortage)"}},
			Procurement: []Suggestion{{ItemCode: "A", Warehouse: wh, Qty: 3.5, RequiredBy: MustDate(t, "2026-12-08")}},
			// No promise date: no processing or buffer days are added to one.
			Explanation: "A: 1.5 from stock at Stores - WH, short 3.5 — no purchase order covers the rest; a Material Request by 2026-12-08 would; " +
				"B: 2 from PO-FAR due 2026-12-21; OLD: item is disabled; " +
				"C: 3 from PO-LATE due 2026-11-20 (overdue, counted on 2026-12-02); " +
				"supply data incomplete (Purchase Order: permission denied)",
		}
		got := struct {
			Status      Status
			Raw         Date
			Reasons     []string
			Blockers    []string
			Options     []Option
			Procurement []Suggestion
			Explanation string
		}{p.Status, p.PromiseDateRaw, p.Reasons, p.Blockers, p.Options, p.Procurement, p.Explanation}
		if diff := cmp.Diff(wantText, got); diff != "" {
			t.Errorf("text (-want +got):\n%s", diff)
		}
	})
}

func TestComputeOptions(t *testing.T) {
	now := MustTime(t, time.UTC, "2026-12-01 10:00:00")
	rules := DefaultRules()
	other := "Finished Goods - WH"
	base := Supply{
		Stock:    []Stock{{ItemCode: "A", Warehouse: other, ActualQty: 8}},
		Receipts: []Receipt{po(t, "PO-1", "A", 10, "2026-12-07")},
		Demand:   []Demand{{ItemCode: "A", Warehouse: other, Qty: 3, Due: MustDate(t, "2026-12-03"), SalesOrder: "SO-9"}},
	}
	alt := func(p Plan) []Option {
		var out []Option
		for _, o := range p.Options {
			if o.Type == "alternate_warehouse" {
				out = append(out, o)
			}
		}
		return out
	}
	t.Run("free stock in another warehouse", func(t *testing.T) {
		p := MustCompute(t, now, oneLine("A", 10), base, satSun(), rules)
		want := []Option{{Type: "alternate_warehouse", Description: "Ship A from Finished Goods - WH: 5 free in stock there",
			Impact: "Could cover 5 of the 10 not in stock at Stores - WH (transfer time not included)"}}
		if diff := cmp.Diff(want, alt(p)); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})
	t.Run("not a shipping warehouse", func(t *testing.T) {
		s := base
		s.ShippingWarehouses = map[string]bool{wh: true, other: false}
		if got := alt(MustCompute(t, now, oneLine("A", 10), s, satSun(), rules)); got != nil {
			t.Errorf("options = %v, want none", got)
		}
	})
	t.Run("stock there is committed", func(t *testing.T) {
		s := base
		s.Demand = []Demand{{ItemCode: "A", Warehouse: other, Qty: 8, Due: MustDate(t, "2026-12-20"), SalesOrder: "SO-9"}}
		if got := alt(MustCompute(t, now, oneLine("A", 10), s, satSun(), rules)); got != nil {
			t.Errorf("options = %v, want none", got)
		}
	})
	t.Run("covered from stock needs no alternative", func(t *testing.T) {
		s := base
		s.Stock = append(s.Stock, stock("A", 10))
		if got := MustCompute(t, now, oneLine("A", 10), s, satSun(), rules).Options; got != nil {
			t.Errorf("options = %v, want none", got)
		}
	})
	t.Run("expedite only the PO that moves the order", func(t *testing.T) {
		// A waits for PO-A (Mon 7 → ship Tue 8); B waits for PO-B (Thu 10 → ship Fri 11 → raw Mon 14).
		// PO-B today: B ships Wed 2, A still Tue 8 → raw Wed 9: 5 days earlier. PO-A today: the
		// order still waits for B → no saving → no option.
		order := Order{Name: "SO-1", Lines: []Line{{ID: "1", ItemCode: "A", Warehouse: wh, Qty: 5}, {ID: "2", ItemCode: "B", Warehouse: wh, Qty: 5}}}
		s := Supply{Receipts: []Receipt{po(t, "PO-A", "A", 5, "2026-12-07"), po(t, "PO-B", "B", 5, "2026-12-10")}}
		p := MustCompute(t, now, order, s, satSun(), rules)
		want := []Option{{Type: "expedite_po", PurchaseOrder: "PO-B",
			Description: "Expedite PO-B for B (5 due 2026-12-10 into Stores - WH)",
			Impact:      "If it arrived today, the promise would move from 2026-12-14 to 2026-12-09 (5 days earlier)"}}
		if diff := cmp.Diff(want, p.Options); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})
	t.Run("no expedite when two items set the date", func(t *testing.T) {
		// A and B both wait for POs on Mon 7: expediting either leaves the other at Mon 7.
		order := Order{Name: "SO-1", Lines: []Line{{ID: "1", ItemCode: "A", Warehouse: wh, Qty: 5}, {ID: "2", ItemCode: "B", Warehouse: wh, Qty: 5}}}
		s := Supply{Receipts: []Receipt{po(t, "PO-A", "A", 5, "2026-12-07"), po(t, "PO-B", "B", 5, "2026-12-07")}}
		p := MustCompute(t, now, order, s, satSun(), rules)
		if p.PromiseDate != MustDate(t, "2026-12-09") || p.Options != nil {
			t.Errorf("promise %s, options %+v; want 2026-12-09 and no options", p.PromiseDate, p.Options)
		}
	})
	t.Run("expedite a PO the line does not use yet", func(t *testing.T) {
		// The line waits for PO-1 (6 on Mon 7 → promise Wed 9); PO-2 (10 on Mon 14) is not needed.
		// Expediting PO-1 gives Thu 3 (6 days); expediting PO-2 also covers it today: Thu 3 (6 days).
		// Equal savings: the earlier PO first.
		s := Supply{Receipts: []Receipt{po(t, "PO-2", "A", 10, "2026-12-14"), po(t, "PO-1", "A", 6, "2026-12-07")}}
		p := MustCompute(t, now, oneLine("A", 5), s, satSun(), rules)
		var got []string
		for _, o := range p.Options {
			got = append(got, o.PurchaseOrder+": "+o.Impact)
		}
		want := []string{
			"PO-1: If it arrived today, the promise would move from 2026-12-09 to 2026-12-03 (6 days earlier)",
			"PO-2: If it arrived today, the promise would move from 2026-12-09 to 2026-12-03 (6 days earlier)",
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})
	t.Run("split shipment when the desired date is missed", func(t *testing.T) {
		// A on hand: promise Thu 3. B on PO Mon 7: promise Wed 9 = the order's. Desired Fri 4 is missed.
		order := Order{Name: "SO-1", DesiredDate: MustDate(t, "2026-12-04"), Lines: []Line{
			{ID: "1", ItemCode: "A", Warehouse: wh, Qty: 5}, {ID: "2", ItemCode: "B", Warehouse: wh, Qty: 5}}}
		s := Supply{Stock: []Stock{stock("A", 5)}, Receipts: []Receipt{po(t, "PO-B", "B", 5, "2026-12-07")}}
		p := MustCompute(t, now, order, s, satSun(), rules)
		want := Option{Type: "split_shipment", Description: "Ship 1 of 2 lines first (A)",
			Impact: "Partial delivery by 2026-12-03; the rest by 2026-12-09"}
		if n := len(p.Options); n == 0 || !cmp.Equal(want, p.Options[n-1]) {
			t.Errorf("options = %+v, want last %+v", p.Options, want)
		}
		// On time: no split.
		order.DesiredDate = MustDate(t, "2026-12-09")
		for _, o := range MustCompute(t, now, order, s, satSun(), rules).Options {
			if o.Type == "split_shipment" {
				t.Errorf("split offered for an on-time order: %+v", o)
			}
		}
	})
}

func TestComputeProcurement(t *testing.T) {
	now := MustTime(t, time.UTC, "2026-12-01 10:00:00")
	order := Order{Name: "SO-1", Lines: []Line{
		{ID: "1", ItemCode: "A", Warehouse: wh, Qty: 5},
		{ID: "2", ItemCode: "A", Warehouse: wh, Qty: 2},
		{ID: "3", ItemCode: "L", Warehouse: wh, Qty: 4},
		{ID: "4", ItemCode: "P", Warehouse: wh, Qty: 1},
	}}
	supply := Supply{
		Stock:    []Stock{stock("A", 3), stock("L", 1)},
		Receipts: []Receipt{po(t, "PO-P", "P", 1, "2026-12-07")},
		Items:    map[string]Item{"L": {Code: "L", IsStockItem: true, LeadTimeDays: 10}},
	}
	tests := []struct {
		name    string
		desired string
		want    []Suggestion
	}{
		{
			// A: lines short 2 and 2 → one suggestion of 4. Without a desired date it is required by
			// the latest availability of the rest of the order: L's lead time Fri 11.
			// L: 3 by the 10-day lead time, required by its availability Fri 11.
			name: "no desired date",
			want: []Suggestion{
				{ItemCode: "A", Warehouse: wh, Qty: 4, RequiredBy: MustDate(t, "2026-12-11")},
				{ItemCode: "L", Warehouse: wh, Qty: 3, RequiredBy: MustDate(t, "2026-12-11")},
			},
		},
		{
			// Desired Wed 16: minus 2 working days (1 processing + 1 buffer) → Mon 14.
			name: "desired date", desired: "2026-12-16",
			want: []Suggestion{
				{ItemCode: "A", Warehouse: wh, Qty: 4, RequiredBy: MustDate(t, "2026-12-14")},
				{ItemCode: "L", Warehouse: wh, Qty: 3, RequiredBy: MustDate(t, "2026-12-11")},
			},
		},
		{
			// Desired Wed 2 minus 2 working days is Fri Nov 27, before the intake day → Tue 1.
			name: "desired date too close", desired: "2026-12-02",
			want: []Suggestion{
				{ItemCode: "A", Warehouse: wh, Qty: 4, RequiredBy: MustDate(t, "2026-12-01")},
				{ItemCode: "L", Warehouse: wh, Qty: 3, RequiredBy: MustDate(t, "2026-12-11")},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := order
			if tt.desired != "" {
				o.DesiredDate = MustDate(t, tt.desired)
			}
			p := MustCompute(t, now, o, supply, satSun(), DefaultRules())
			if diff := cmp.Diff(tt.want, p.Procurement); diff != "" {
				t.Errorf("procurement (-want +got):\n%s", diff)
			}
		})
	}
}

func TestComputeInvalidInput(t *testing.T) {
	now := MustTime(t, time.UTC, "2026-12-01 10:00:00")
	good := func() (Order, Supply, Calendar, Rules) {
		return oneLine("A", 5), Supply{Stock: []Stock{stock("A", 5)}}, satSun(), DefaultRules()
	}
	tests := []struct {
		name   string
		change func(*time.Time, *Order, *Supply, *Calendar, *Rules)
	}{
		{"zero qty", func(_ *time.Time, o *Order, _ *Supply, _ *Calendar, _ *Rules) { o.Lines[0].Qty = 0 }},
		{"negative qty", func(_ *time.Time, o *Order, _ *Supply, _ *Calendar, _ *Rules) { o.Lines[0].Qty = -1 }},
		{"NaN qty", func(_ *time.Time, o *Order, _ *Supply, _ *Calendar, _ *Rules) { o.Lines[0].Qty = math.NaN() }},
		{"Inf qty", func(_ *time.Time, o *Order, _ *Supply, _ *Calendar, _ *Rules) { o.Lines[0].Qty = math.Inf(1) }},
		{"empty item code", func(_ *time.Time, o *Order, _ *Supply, _ *Calendar, _ *Rules) { o.Lines[0].ItemCode = " " }},
		{"empty warehouse", func(_ *time.Time, o *Order, _ *Supply, _ *Calendar, _ *Rules) { o.Lines[0].Warehouse = "" }},
		{"no lines", func(_ *time.Time, o *Order, _ *Supply, _ *Calendar, _ *Rules) { o.Lines = nil }},
		{"unknown mode", func(_ *time.Time, o *Order, _ *Supply, _ *Calendar, _ *Rules) { o.DesiredDateMode = "SOMETIME" }},
		{"nil location", func(_ *time.Time, _ *Order, _ *Supply, _ *Calendar, r *Rules) { r.Location = nil }},
		{"negative processing days", func(_ *time.Time, _ *Order, _ *Supply, _ *Calendar, r *Rules) { r.ProcessingDays = -1 }},
		{"negative buffer days", func(_ *time.Time, _ *Order, _ *Supply, _ *Calendar, r *Rules) { r.BufferDays = -1 }},
		{"negative default lead time", func(_ *time.Time, _ *Order, _ *Supply, _ *Calendar, r *Rules) { r.DefaultLeadTimeDays = -2 }},
		{"cutoff hour 24", func(_ *time.Time, _ *Order, _ *Supply, _ *Calendar, r *Rules) { r.CutoffHour = 24 }},
		{"share above 1", func(_ *time.Time, _ *Order, _ *Supply, _ *Calendar, r *Rules) { r.Confidence.HighStockShare = 1.5 }},
		{"negative item lead time", func(_ *time.Time, _ *Order, s *Supply, _ *Calendar, _ *Rules) { s.Items = stockItem("A", -1) }},
		{"stock without item code", func(_ *time.Time, _ *Order, s *Supply, _ *Calendar, _ *Rules) { s.Stock[0].ItemCode = "" }},
		{"receipt without item code", func(_ *time.Time, _ *Order, s *Supply, _ *Calendar, _ *Rules) {
			s.Receipts = []Receipt{{Warehouse: wh, Qty: 1, Date: 1}}
		}},
		{"demand without item code", func(_ *time.Time, _ *Order, s *Supply, _ *Calendar, _ *Rules) {
			s.Demand = []Demand{{Warehouse: wh, Qty: 1, Due: 1}}
		}},
		{"NaN stock", func(_ *time.Time, _ *Order, s *Supply, _ *Calendar, _ *Rules) { s.Stock[0].ActualQty = math.NaN() }},
		{"Inf receipt", func(_ *time.Time, _ *Order, s *Supply, _ *Calendar, _ *Rules) {
			s.Receipts = []Receipt{{ItemCode: "A", Warehouse: wh, Qty: math.Inf(1), Date: 1}}
		}},
		{"receipt without date", func(_ *time.Time, _ *Order, s *Supply, _ *Calendar, _ *Rules) {
			s.Receipts = []Receipt{{ItemCode: "A", Warehouse: wh, Qty: 1}}
		}},
		{"NaN demand", func(_ *time.Time, _ *Order, s *Supply, _ *Calendar, _ *Rules) {
			s.Demand = []Demand{{ItemCode: "A", Warehouse: wh, Qty: math.NaN(), Due: 1}}
		}},
		{"half a holiday list range", func(_ *time.Time, _ *Order, _ *Supply, c *Calendar, _ *Rules) { c.ListFrom = 5 }},
		{"zero now", func(n *time.Time, _ *Order, _ *Supply, _ *Calendar, _ *Rules) { *n = time.Time{} }},
		{"no working day", func(_ *time.Time, _ *Order, _ *Supply, c *Calendar, _ *Rules) {
			c.Weekend = []time.Weekday{0, 1, 2, 3, 4, 5, 6}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := now
			o, s, c, r := good()
			tt.change(&n, &o, &s, &c, &r)
			p, err := Compute(n, o, s, c, r)
			if !errors.Is(err, ErrInvalidInput) {
				t.Fatalf("Compute error = %v, want ErrInvalidInput", err)
			}
			if !cmp.Equal(p, Plan{}) {
				t.Errorf("plan = %+v, want zero", p)
			}
		})
	}
	t.Run("a service needs no warehouse", func(t *testing.T) {
		o := Order{Lines: []Line{{ID: "1", ItemCode: "SVC", Qty: 1}}}
		s := Supply{Items: map[string]Item{"SVC": {Code: "SVC"}}}
		if p := MustCompute(t, now, o, s, satSun(), DefaultRules()); p.PromiseDate != MustDate(t, "2026-12-03") {
			t.Errorf("promise = %s, want 2026-12-03", p.PromiseDate)
		}
	})
}

func TestFormatQty(t *testing.T) {
	got := []string{FormatQty(6), FormatQty(2.5), FormatQty(0.1 + 0.2), FormatQty(120.0), FormatQty(-0.0000001), FormatQty(1e-12)}
	want := []string{"6", "2.5", "0.3", "120", "0", "0"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
