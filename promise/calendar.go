package promise

import (
	"errors"
	"fmt"
	"time"
)

// ErrNoWorkingDay is returned when a search for a working day finds none
// within maxSearchDays (for example a calendar whose weekend is all seven
// days): the engine answers with an error instead of looping for ever.
var ErrNoWorkingDay = errors.New("promise: no working day in the calendar")

// maxSearchDays caps every forward or backward search for a working day:
// five years of consecutive non-working days means the calendar is broken.
const maxSearchDays = 5 * 366

// IsWorkingDay reports whether d is a working day (docs/promise.md).
//
// A holiday (Calendar.Holidays) is never a working day. With noWeekends
// true, weekly offs are not working days either: inside the Holiday List's
// range [ListFrom, ListTo] they are exactly Calendar.WeeklyOffs (the rows
// ERPNext generated, docs/erpnext.md); outside it, or when there is
// no list, they are the Calendar.Weekend weekdays. With noWeekends false,
// weekly offs and weekend days are working days.
func (c Calendar) IsWorkingDay(d Date, noWeekends bool) bool {
	w := c.compile(noWeekends)
	return w.working(d)
}

// NextWorkingDay returns the first working day on or after d (d itself when
// it is a working day). It returns ErrNoWorkingDay when there is none within
// five years.
func (c Calendar) NextWorkingDay(d Date, noWeekends bool) (Date, error) {
	w := c.compile(noWeekends)
	return w.next(d)
}

// AddWorkingDays returns d moved forward by n working days: it steps one day
// at a time and counts only working days, so n = 0 returns d unchanged (even
// when d is not a working day) and the result of n > 0 is always a working
// day. Negative n is an ErrInvalidInput.
func (c Calendar) AddWorkingDays(d Date, n int, noWeekends bool) (Date, error) {
	if n < 0 {
		return 0, fmt.Errorf("%w: negative number of working days %d", ErrInvalidInput, n)
	}
	w := c.compile(noWeekends)
	return w.add(d, n)
}

// NonWorkingReason says why d is not a working day: "holiday" or
// "holiday (Christmas Day)" for a Holiday row, "weekend" for a weekly off or
// a weekend day, and "" for a working day.
func (c Calendar) NonWorkingReason(d Date, noWeekends bool) string {
	w := c.compile(noWeekends)
	switch w.kind(d) {
	case dayHoliday:
		if desc := c.Holidays[d]; desc != "" {
			return "holiday (" + desc + ")"
		}
		return "holiday"
	case dayWeekend:
		return "weekend"
	}
	return ""
}

// validate reports a calendar whose list range is half set or inverted.
func (c Calendar) validate() error {
	if (c.ListFrom == 0) != (c.ListTo == 0) {
		return fmt.Errorf("%w: holiday list range needs both ListFrom and ListTo (got %q, %q)",
			ErrInvalidInput, c.ListFrom, c.ListTo)
	}
	if c.ListFrom > c.ListTo {
		return fmt.Errorf("%w: holiday list range %s..%s is inverted", ErrInvalidInput, c.ListFrom, c.ListTo)
	}
	for _, wd := range c.Weekend {
		if wd < time.Sunday || wd > time.Saturday {
			return fmt.Errorf("%w: weekend day %d is not a weekday", ErrInvalidInput, int(wd))
		}
	}
	return nil
}

// workCal is a Calendar prepared for the hot path: the weekend as a lookup
// table, and the noWeekends switch folded in.
type workCal struct {
	weekend    [7]bool
	weeklyOffs map[Date]bool
	holidays   map[Date]string
	from, to   Date
	noWeekends bool
	// A cache of the days from first on: a book asks about the same few
	// hundred days hundreds of thousands of times. known is each day's
	// kind; before[i] counts the working days before first+i, and work
	// lists the working days, so that next, prev, add, sub and between are
	// index arithmetic inside the cached range.
	first  Date
	known  []dayKind
	before []int32
	work   []Date
}

// remember caches the days in [from, to].
func (w *workCal) remember(from, to Date) {
	w.known, w.before, w.work = nil, nil, nil // kind must compute, not read the cache being built
	n := max(0, int(to-from)+1)
	known := make([]dayKind, n)
	before := make([]int32, n+1)
	work := make([]Date, 0, n)
	for i := range n {
		d := from + Date(i)
		known[i] = w.kind(d)
		before[i] = int32(len(work))
		if known[i] == dayWorking {
			work = append(work, d)
		}
	}
	before[n] = int32(len(work))
	w.first, w.known, w.before, w.work = from, known, before, work
}

// cached returns d's index in the cache, and whether it is there.
func (w *workCal) cached(d Date) (int, bool) {
	i := int(d - w.first)
	return i, i >= 0 && i < len(w.known)
}

type dayKind uint8

const (
	dayWorking dayKind = iota
	dayHoliday
	dayWeekend
)

func (c Calendar) compile(noWeekends bool) workCal {
	w := workCal{
		weeklyOffs: c.WeeklyOffs,
		holidays:   c.Holidays,
		from:       c.ListFrom,
		to:         c.ListTo,
		noWeekends: noWeekends,
	}
	for _, wd := range c.Weekend {
		if wd >= time.Sunday && wd <= time.Saturday {
			w.weekend[wd] = true
		}
	}
	return w
}

func (w *workCal) kind(d Date) dayKind {
	if i := int(d - w.first); i >= 0 && i < len(w.known) {
		return w.known[i]
	}
	if _, ok := w.holidays[d]; ok {
		return dayHoliday
	}
	if !w.noWeekends {
		return dayWorking
	}
	if w.from != 0 && w.to != 0 && d >= w.from && d <= w.to {
		if w.weeklyOffs[d] {
			return dayWeekend
		}
		return dayWorking
	}
	if w.weekend[d.Weekday()] {
		return dayWeekend
	}
	return dayWorking
}

func (w *workCal) working(d Date) bool { return w.kind(d) == dayWorking }

// next returns the first working day on or after d.
func (w *workCal) next(d Date) (Date, error) {
	if i, ok := w.cached(d); ok {
		if k := int(w.before[i]); k < len(w.work) {
			return w.work[k], nil
		}
	}
	for i := 0; i <= maxSearchDays; i++ {
		if w.working(d + Date(i)) {
			return d + Date(i), nil
		}
	}
	return 0, fmt.Errorf("%w: none within %d days from %s", ErrNoWorkingDay, maxSearchDays, d)
}

// prev returns the last working day on or before d.
func (w *workCal) prev(d Date) (Date, error) {
	if i, ok := w.cached(d); ok {
		if k := int(w.before[i+1]) - 1; k >= 0 {
			return w.work[k], nil
		}
	}
	for i := 0; i <= maxSearchDays; i++ {
		if w.working(d - Date(i)) {
			return d - Date(i), nil
		}
	}
	return 0, fmt.Errorf("%w: none within %d days before %s", ErrNoWorkingDay, maxSearchDays, d)
}

// add moves d forward by n >= 0 working days.
func (w *workCal) add(d Date, n int) (Date, error) {
	if i, ok := w.cached(d); ok && n > 0 {
		if k := int(w.before[i+1]) + n - 1; k < len(w.work) {
			return w.work[k], nil
		}
	}
	cur := d
	for ; n > 0; n-- {
		next, err := w.next(cur + 1)
		if err != nil {
			return 0, err
		}
		cur = next
	}
	return cur, nil
}

// sub moves a working day d back by n >= 0 working days.
func (w *workCal) sub(d Date, n int) (Date, error) {
	if i, ok := w.cached(d); ok && n > 0 {
		if k := int(w.before[i]) - n; k >= 0 {
			return w.work[k], nil
		}
	}
	cur := d
	for ; n > 0; n-- {
		prev, err := w.prev(cur - 1)
		if err != nil {
			return 0, err
		}
		cur = prev
	}
	return cur, nil
}

// between counts the working days after a, up to and including b: how many
// working days later b is than a (0 when b is not later).
func (w *workCal) between(a, b Date) int {
	if b <= a {
		return 0
	}
	ia, okA := w.cached(a)
	ib, okB := w.cached(b)
	if okA && okB {
		return int(w.before[ib+1] - w.before[ia+1])
	}
	n := 0
	for d := a + 1; d <= b; d++ {
		if w.working(d) {
			n++
		}
	}
	return n
}
