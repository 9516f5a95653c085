package promise

import (
	"testing"
	"time"
)

func TestDateRoundTrip(t *testing.T) {
	for _, s := range []string{"1970-01-01", "2026-11-25", "2024-02-29", "0001-01-02", "2099-12-31"} {
		d, err := ParseDate(s)
		if err != nil {
			t.Fatalf("ParseDate(%q): %v", s, err)
		}
		if got := d.String(); got != s {
			t.Errorf("ParseDate(%q).String() = %q", s, got)
		}
		tm, _ := time.Parse(time.DateOnly, s)
		if got, want := d.Weekday(), tm.Weekday(); got != want {
			t.Errorf("%s weekday = %v, want %v", s, got, want)
		}
	}
	if !Date(0).IsZero() || Date(0).String() != "" {
		t.Error("zero Date must be unset and print as empty")
	}
}

// TestDateStringMatchesTime checks the fast formatter against time.Format
// over every day from 1600 to 2500.
func TestDateStringMatchesTime(t *testing.T) {
	for d := NewDate(1600, time.January, 1); d <= NewDate(2500, time.December, 31); d++ {
		if got, want := d.String(), d.Time().Format(time.DateOnly); got != want {
			t.Fatalf("Date(%d).String() = %q, want %q", int32(d), got, want)
		}
	}
}
