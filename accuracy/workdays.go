package accuracy

import (
	"fmt"

	"github.com/erpnext-otp/otp/promise"
)

// maxSpanDays bounds the days a report's dates may span (twenty years):
// beyond that a date is a typo, not history.
const maxSpanDays = 20 * 366

// workdays counts working days over the span of a report's dates, with
// promise.Calendar's IsWorkingDay, once per day.
type workdays struct {
	first promise.Date
	cum   []int // cum[i]: working days in [first, first+i]
}

func newWorkdays(in Input) (*workdays, error) {
	lo, hi := in.From, in.To
	see := func(d promise.Date) {
		if d.IsZero() {
			return
		}
		lo, hi = min(lo, d), max(hi, d)
	}
	for _, l := range in.Lines {
		see(l.FirstPromise)
		see(l.LatestPromise)
		for _, d := range l.Deliveries {
			see(d.Date)
		}
	}
	for _, r := range in.Receipts {
		see(r.Due)
		see(r.Received)
	}
	if int(hi-lo) > maxSpanDays {
		return nil, fmt.Errorf("%w: dates span %s..%s, over %d days", ErrInvalidInput, lo, hi, maxSpanDays)
	}
	w := &workdays{first: lo, cum: make([]int, int(hi-lo)+1)}
	n := 0
	for d := lo; d <= hi; d++ {
		if in.Calendar.IsWorkingDay(d, in.NoWeekends) {
			n++
		}
		w.cum[d-lo] = n
	}
	return w, nil
}

// between counts the working days d with a < d ≤ b: how many working days
// late a delivery on b is against a promise for a. Both dates are in span.
func (w *workdays) between(a, b promise.Date) int {
	if b <= a {
		return 0
	}
	return w.cum[b-w.first] - w.cum[a-w.first]
}
