package promise

import (
	"errors"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestCalendarArithmetic(t *testing.T) {
	friSat := Calendar{Weekend: []time.Weekday{time.Friday, time.Saturday}}
	// A Holiday List for 2026 whose weekly offs are Sundays only (a six-day
	// week); outside 2026 the configured Sat/Sun weekend applies.
	list := Calendar{
		Weekend:  []time.Weekday{time.Saturday, time.Sunday},
		ListFrom: MustDate(t, "2026-01-01"),
		ListTo:   MustDate(t, "2026-12-31"),
		WeeklyOffs: map[Date]bool{
			MustDate(t, "2026-12-06"): true, MustDate(t, "2026-12-13"): true,
			MustDate(t, "2026-12-20"): true, MustDate(t, "2026-12-27"): true,
		},
		Holidays: map[Date]string{MustDate(t, "2026-12-25"): "Christmas Day", MustDate(t, "2026-12-26"): ""},
	}
	tests := []struct {
		name       string
		cal        Calendar
		noWeekends bool
		from       string
		n          int
		wantNext   string // first working day on or after from
		wantAdd    string // from + n working days
	}{
		// The earlier OTP's examples (Fri/Sat weekend): Thu+1 = Sun, Wed+2 = Sun, Sun+5 = next Sun, Mon+10 = Mon two weeks later.
		{"v1 Thu+1", friSat, true, "2026-12-03", 1, "2026-12-03", "2026-12-06"},
		{"v1 Wed+2", friSat, true, "2026-12-02", 2, "2026-12-02", "2026-12-06"},
		{"v1 Sun+5", friSat, true, "2026-12-06", 5, "2026-12-06", "2026-12-13"},
		{"v1 Mon+10", friSat, true, "2026-12-07", 10, "2026-12-07", "2026-12-21"},
		// n = 0 leaves the date unchanged, even on a weekend day (the earlier OTP, docs/quote-api.md); next rolls Fri to Sun.
		{"Fri/Sat +0 on Fri", friSat, true, "2026-12-04", 0, "2026-12-06", "2026-12-04"},
		// Sat/Sun: Fri+1 = Mon; Sat rolls to Mon; Sat+1 = Mon (Sun skipped, Mon is the first working day after Sat).
		{"Sat/Sun Fri+1", satSun(), true, "2026-12-04", 1, "2026-12-04", "2026-12-07"},
		{"Sat/Sun Sat+1", satSun(), true, "2026-12-05", 1, "2026-12-07", "2026-12-07"},
		// no_weekends=false: weekends count; Fri+1 = Sat.
		{"weekends working", satSun(), false, "2026-12-04", 1, "2026-12-04", "2026-12-05"},
		// Holiday list: Sat 2026-12-05 is a working day (only Sundays are weekly offs inside the list).
		{"list Fri+1 = Sat", list, true, "2026-12-04", 1, "2026-12-04", "2026-12-05"},
		// Thu 24 +1: Fri 25 and Sat 26 are holidays, Sun 27 a weekly off → Mon 28.
		{"list holidays", list, true, "2026-12-24", 1, "2026-12-24", "2026-12-28"},
		// Holidays stay non-working with no_weekends=false; Sun 27 becomes working: Thu 24 +1 = Sun 27.
		{"list holidays, weekends working", list, false, "2026-12-24", 1, "2026-12-24", "2026-12-27"},
		// Thu 2026-12-31 +1: 2027-01-01 (Fri) is outside the list, not a weekend day → Fri 1; +2 → Mon 4 (Sat/Sun fallback).
		{"beyond list +1", list, true, "2026-12-31", 1, "2026-12-31", "2027-01-01"},
		{"beyond list +2", list, true, "2026-12-31", 2, "2026-12-31", "2027-01-04"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			from := MustDate(t, tt.from)
			next, err := tt.cal.NextWorkingDay(from, tt.noWeekends)
			if err != nil {
				t.Fatal(err)
			}
			add, err := tt.cal.AddWorkingDays(from, tt.n, tt.noWeekends)
			if err != nil {
				t.Fatal(err)
			}
			got := []string{next.String(), add.String()}
			want := []string{tt.wantNext, tt.wantAdd}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("[next, add] (-want +got):\n%s", diff)
			}
			if tt.cal.IsWorkingDay(next, tt.noWeekends) != true {
				t.Errorf("IsWorkingDay(%s) = false for NextWorkingDay's answer", next)
			}
		})
	}
}

func TestCalendarNonWorkingReason(t *testing.T) {
	cal := satSun()
	cal.Holidays = map[Date]string{MustDate(t, "2026-12-08"): "Immaculate Conception", MustDate(t, "2026-12-09"): ""}
	got := []string{
		cal.NonWorkingReason(MustDate(t, "2026-12-05"), true),
		cal.NonWorkingReason(MustDate(t, "2026-12-05"), false),
		cal.NonWorkingReason(MustDate(t, "2026-12-07"), true),
		cal.NonWorkingReason(MustDate(t, "2026-12-08"), false),
		cal.NonWorkingReason(MustDate(t, "2026-12-09"), true),
	}
	want := []string{"weekend", "", "", "holiday (Immaculate Conception)", "holiday"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestCalendarWithoutWorkingDays(t *testing.T) {
	all := Calendar{Weekend: []time.Weekday{0, 1, 2, 3, 4, 5, 6}}
	d := MustDate(t, "2026-12-01")
	if _, err := all.NextWorkingDay(d, true); !errors.Is(err, ErrNoWorkingDay) {
		t.Errorf("NextWorkingDay error = %v, want ErrNoWorkingDay", err)
	}
	if _, err := all.AddWorkingDays(d, 1, true); !errors.Is(err, ErrNoWorkingDay) {
		t.Errorf("AddWorkingDays error = %v, want ErrNoWorkingDay", err)
	}
	// With no_weekends=false the same calendar works every day.
	if got, err := all.AddWorkingDays(d, 3, false); err != nil || got != d+3 {
		t.Errorf("AddWorkingDays(no_weekends=false) = %s, %v; want %s", got, err, d+3)
	}
	if _, err := all.AddWorkingDays(d, -1, false); !errors.Is(err, ErrInvalidInput) {
		t.Errorf("AddWorkingDays(-1) error = %v, want ErrInvalidInput", err)
	}
}

// The allocation's cached calendar answers exactly as the day-by-day one,
// inside its range and across both of its ends.
func TestCalendarCacheAgrees(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	base := MustDate(t, "2026-11-01")
	for range 200 {
		cal := Calendar{Weekend: []time.Weekday{time.Saturday, time.Sunday}, Holidays: map[Date]string{}}
		for range r.IntN(20) {
			cal.Holidays[base+Date(r.IntN(120))] = "Holiday"
		}
		noWeekends := r.IntN(4) != 0
		plain := cal.compile(noWeekends)
		cached := cal.compile(noWeekends)
		cached.remember(base+20, base+80)
		for d := base; d < base+100; d++ {
			n := r.IntN(5)
			type answer struct {
				D   Date
				Err bool
			}
			ask := func(f func(Date, int) (Date, error), d Date, n int) answer {
				v, err := f(d, n)
				return answer{v, err != nil}
			}
			for name, pair := range map[string][2]answer{
				"next": {ask(func(d Date, _ int) (Date, error) { return plain.next(d) }, d, n), ask(func(d Date, _ int) (Date, error) { return cached.next(d) }, d, n)},
				"prev": {ask(func(d Date, _ int) (Date, error) { return plain.prev(d) }, d, n), ask(func(d Date, _ int) (Date, error) { return cached.prev(d) }, d, n)},
				"add":  {ask(plain.add, d, n), ask(cached.add, d, n)},
				"sub":  {ask(plain.sub, d, n), ask(cached.sub, d, n)},
			} {
				if pair[0] != pair[1] {
					t.Fatalf("%s(%s, %d): cached %+v, day by day %+v", name, d, n, pair[1], pair[0])
				}
			}
			e := d + Date(r.IntN(30))
			if a, b := plain.between(d, e), cached.between(d, e); a != b {
				t.Fatalf("between(%s, %s): cached %d, day by day %d", d, e, b, a)
			}
		}
	}
}
