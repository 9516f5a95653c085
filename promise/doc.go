// Package promise computes when an order can ship: cumulative available-to-promise
// with look-ahead over stock, purchase orders and other orders' demand, on a
// working-day calendar, with a confidence and an explanation (docs/promise.md).
//
// It is pure: no I/O, no clock. The caller passes the time and every input,
// and the same inputs always give the same Plan.
//
// # Usage
//
//	plan, err := promise.Compute(now, order, supply, calendar, promise.DefaultRules())
//	if errors.Is(err, promise.ErrInvalidInput) {
//		// a 4xx: the message names the bad field
//	}
//	fmt.Println(plan.Status, plan.PromiseDate, plan.Confidence, plan.Explanation)
//	// OK 2026-12-09 MEDIUM 6 from stock at Stores - WH; 4 from PUR-ORD-2026-00012 due 2026-12-04; ...
//
// The calendar arithmetic is exported for callers that validate or explain
// dates: Calendar.IsWorkingDay, Calendar.NextWorkingDay (on or after),
// Calendar.AddWorkingDays and Calendar.NonWorkingReason. FormatQty writes
// quantities as the explanations do ("6", "2.5").
//
// # Rules, where docs/promise.md leaves a choice
//
//   - Today is the date of now in Rules.Location. The intake day is today when
//     today is a working day and now is not after the cutoff (14:00:00 is not
//     after, 14:00:00.001 is); otherwise the first working day after today.
//   - Per item and warehouse, ATP(d) = min over t >= d of S(t) − D(t); a line is
//     available on the first day with ATP >= its quantity, rolled to a working
//     day and never before the intake day. Lines of the order on the same item
//     and warehouse consume in line order. Supply is then handed to demand in
//     due order (other orders first on the same day), which is what
//     LinePlan.Sources reports: a line's sources always arrive by its date and
//     add up, with the shortage, to its quantity.
//   - Replenishment lead time (Item.LeadTimeDays, else Rules.DefaultLeadTimeDays)
//     works as SAP's RLT: a line whose known supply is short, or arrives later
//     than today + lead time, is available at today + lead time (calendar days,
//     rolled to a working day); whatever known supply there is by then is used,
//     the rest is a SourceLeadTime source, and the line is LOW. Taking the
//     earlier of the two keeps the promise monotone: more supply never makes
//     it later and more demand never makes it earlier.
//   - A line with a shortage has no date; the order is CANNOT_FULFILL (or
//     CANNOT_PROMISE_RELIABLY with Supply.Warnings) with a zero PromiseDate;
//     PromiseDateRaw still comes from the lines that can be fulfilled (at least
//     the intake day's ship-ready date plus buffer days).
//   - Confidence applies the earlier OTP's thresholds (Rules.Confidence) per
//     line and over the order, then LOW for any lead-time or overdue-PO source,
//     any Supply.Warnings, and, for the order, any LOW line. A non-stock line
//     counts as covered from stock.
//   - Desired date: LATEST_ACCEPTABLE and STRICT_FAIL keep the raw promise and
//     are on time when it is on or before the desired date; STRICT_FAIL sets
//     MissedStrict when it is later or when the order cannot be fulfilled.
//     NO_EARLY_DELIVERY moves an earlier promise to the first working day on or
//     after the desired date (Adjusted) and is on time when the promise is on
//     or before that day — so a desired Saturday is met by the Monday after.
//   - Options are offered only when true: alternate_warehouse names another
//     shipping warehouse (Supply.ShippingWarehouses) with free stock today and
//     how much; expedite_po re-plans with that PO arriving today and is offered
//     only for a positive saving (at most three, best first); split_shipment
//     when the order misses its desired date or cannot be fulfilled and some
//     lines are ready earlier.
//   - Procurement suggests, per item and warehouse, every shortage and every
//     quantity left to the lead time. Lead-time quantities are required by the
//     line's availability date. Shortages are required by the last working day
//     that still meets the desired date after processing and buffer days, or,
//     without a desired date, by the day the rest of the order is available;
//     never before the intake day. Disabled items get no suggestion.
package promise
