package promise

import (
	"testing"
	"time"
	_ "time/tzdata" // the zone tests must not depend on the machine's zoneinfo
)

// MustDate parses "YYYY-MM-DD" or fails the test.
func MustDate(tb testing.TB, s string) Date {
	tb.Helper()
	d, err := ParseDate(s)
	if err != nil {
		tb.Fatal(err)
	}
	return d
}

// MustLocation loads an IANA zone or fails the test.
func MustLocation(tb testing.TB, name string) *time.Location {
	tb.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		tb.Fatal(err)
	}
	return loc
}

// MustTime parses "YYYY-MM-DD HH:MM:SS" in loc or fails the test.
func MustTime(tb testing.TB, loc *time.Location, s string) time.Time {
	tb.Helper()
	t, err := time.ParseInLocation(time.DateTime, s, loc)
	if err != nil {
		tb.Fatal(err)
	}
	return t
}

// MustCompute runs Compute or fails the test.
func MustCompute(tb testing.TB, now time.Time, order Order, supply Supply, cal Calendar, rules Rules) Plan {
	tb.Helper()
	p, err := Compute(now, order, supply, cal, rules)
	if err != nil {
		tb.Fatalf("Compute: %v", err)
	}
	return p
}

// satSun is the default calendar: Saturday and Sunday off, no holiday list.
func satSun() Calendar {
	return Calendar{Weekend: []time.Weekday{time.Saturday, time.Sunday}}
}

// oneLine is an order for qty of item at Stores - WH.
func oneLine(item string, qty float64) Order {
	return Order{Name: "SO-1", Lines: []Line{{ID: "1", ItemCode: item, Warehouse: wh, Qty: qty}}}
}

const wh = "Stores - WH"
