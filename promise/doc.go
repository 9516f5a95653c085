// Package promise computes when an order can ship: cumulative available-to-promise
// with look-ahead over stock, purchase orders and other orders' demand, on a
// working-day calendar, with a confidence and an explanation (DESIGN.md §5).
//
// It is pure: no I/O, no clock. The caller passes the time and every input.
package promise
