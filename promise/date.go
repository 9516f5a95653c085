package promise

import (
	"fmt"
	"strings"
	"time"
)

// Date is a calendar day with no time of day and no zone: the unit ERPNext
// dates and promises are expressed in. The zero Date is "no date".
//
// It is stored as days since 0001-01-01 (proleptic Gregorian) so that
// calendar arithmetic in the hot path is integer arithmetic; day 0 being
// 0001-01-01, a day no order has, lets the zero value mean "unset".
type Date int32

// unixEpochDays converts between Date and Unix days.
const unixEpochDays = 719162 // days from 0001-01-01 to 1970-01-01

// NewDate returns the Date for the given year, month and day.
func NewDate(year int, month time.Month, day int) Date {
	t := time.Date(year, month, day, 0, 0, 0, 0, time.UTC)
	return Date(t.Unix()/86400 + unixEpochDays)
}

// DateOf returns the calendar day of t in t's location.
func DateOf(t time.Time) Date {
	y, m, d := t.Date()
	return NewDate(y, m, d)
}

// ParseDate parses "YYYY-MM-DD" (ERPNext's Date format).
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return 0, fmt.Errorf("promise: invalid date %q: want YYYY-MM-DD", s)
	}
	return DateOf(t), nil
}

// IsZero reports whether d is unset.
func (d Date) IsZero() bool { return d == 0 }

// Time returns midnight UTC of d.
func (d Date) Time() time.Time {
	return time.Unix(int64(d-unixEpochDays)*86400, 0).UTC()
}

// Weekday returns the day of the week of d.
func (d Date) Weekday() time.Weekday {
	// 1970-01-01 was a Thursday.
	return time.Weekday((int64(d-unixEpochDays)%7 + 7 + int64(time.Thursday)) % 7)
}

// AddDays returns d moved by n calendar days.
func (d Date) AddDays(n int) Date { return d + Date(n) }

// DaysUntil returns the number of calendar days from d to e (negative if e is earlier).
func (d Date) DaysUntil(e Date) int { return int(e - d) }

// String formats d as "YYYY-MM-DD", or "" when d is zero.
func (d Date) String() string {
	if d.IsZero() {
		return ""
	}
	y, m, dd := d.civil()
	if y < 0 || y > 9999 {
		return d.Time().Format(time.DateOnly)
	}
	b := [10]byte{
		byte('0' + y/1000), byte('0' + y/100%10), byte('0' + y/10%10), byte('0' + y%10), '-',
		byte('0' + m/10), byte('0' + m%10), '-', byte('0' + dd/10), byte('0' + dd%10),
	}
	return string(b[:])
}

// civil returns the proleptic Gregorian year, month and day of d, without
// going through time.Time (Howard Hinnant's days_from_civil inverse).
func (d Date) civil() (year, month, day int) {
	z := int64(d-unixEpochDays) + 719468
	era := z / 146097
	if z < 0 && z%146097 != 0 {
		era--
	}
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	day = int(doy - (153*mp+2)/5 + 1)
	month = int(mp + 3)
	if month > 12 {
		month -= 12
	}
	year = int(yoe + era*400)
	if month <= 2 {
		year++
	}
	return year, month, day
}

// MarshalText formats d as "YYYY-MM-DD"; a zero Date marshals as "".
func (d Date) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText parses "YYYY-MM-DD"; "" gives the zero Date.
func (d *Date) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*d = 0
		return nil
	}
	v, err := ParseDate(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// ParseClock reads a time of day "H:M" on a 24-hour clock, one or two
// digits each, as Python's %H:%M does: "14:00", "9:05" and "9:5" are
// times; "14:00:00", "2pm" and "24:00" are not. It is the one grammar of
// OTP_CUTOFF_TIME and of a quote's cutoff_time, which the earlier OTP read
// with strptime.
func ParseClock(s string) (hour, minute int, err error) {
	hs, ms, found := strings.Cut(strings.TrimSpace(s), ":")
	bad := fmt.Errorf("%q is not a time of day HH:MM", s)
	if !found || len(hs) < 1 || len(hs) > 2 || len(ms) < 1 || len(ms) > 2 {
		return 0, 0, bad
	}
	hour, okH := digits(hs)
	minute, okM := digits(ms)
	if !okH || !okM || hour > 23 || minute > 59 {
		return 0, 0, bad
	}
	return hour, minute, nil
}

// digits reads a string of ASCII digits only (no sign, no space).
func digits(s string) (int, bool) {
	n := 0
	for _, r := range s {
		if r < '0' || r > '9' {
			return 0, false
		}
		n = n*10 + int(r-'0')
	}
	return n, true
}
