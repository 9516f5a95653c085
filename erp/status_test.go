package erp

import (
	"slices"
	"testing"
)

// The sweep's filter is the closed statuses and Cancelled: one rule, two
// spellings kept for the queries' sake.
func TestUnsweptIsClosedAndCancelled(t *testing.T) {
	want := append(slices.Clone(closedSalesOrderStatuses), "Cancelled")
	got := slices.Clone(unsweptSalesOrderStatuses)
	slices.Sort(want)
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("unswept %v, want the closed statuses and Cancelled %v", got, want)
	}
	for _, s := range []string{"Draft", "To Deliver and Bill", "To Bill", "To Deliver"} {
		if !SalesOrderOpen(s) {
			t.Errorf("SalesOrderOpen(%q) = false", s)
		}
	}
	for _, s := range []string{"Draft", "Cancelled", "Closed", "Completed", "Delivered"} {
		if PurchaseOrderOpen(s) {
			t.Errorf("PurchaseOrderOpen(%q) = true", s)
		}
	}
	if !PurchaseOrderOpen("On Hold") || !PurchaseOrderOpen("To Receive and Bill") {
		t.Error("On Hold and To Receive and Bill POs bring supply")
	}
}
