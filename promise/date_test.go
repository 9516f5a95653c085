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

func TestParseClock(t *testing.T) {
	for s, want := range map[string][2]int{"14:00": {14, 0}, "9:5": {9, 5}, "09:05": {9, 5}, " 7:30 ": {7, 30}, "0:00": {0, 0}, "23:59": {23, 59}} {
		h, m, err := ParseClock(s)
		if err != nil || [2]int{h, m} != want {
			t.Errorf("ParseClock(%q) = %d, %d, %v; want %v", s, h, m, err, want)
		}
	}
	for _, s := range []string{"", "14", "14:00:00", "2pm", "24:00", "12:60", "+1:00", "1:-0", "123:00", "1:000", " : ", "a:b"} {
		if _, _, err := ParseClock(s); err == nil {
			t.Errorf("ParseClock(%q) accepted", s)
		}
	}
}
