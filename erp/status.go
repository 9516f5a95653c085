package erp

import "slices"

// ERPNext's status rules, each defined once: which orders still reserve,
// compete and get promised, and which purchase orders still bring supply
// (docs/promise.md, docs/erpnext.md#bin).

// closedSalesOrderStatuses are the statuses of a Sales Order with nothing
// more to ship. ERPNext's stock_balance.py leaves their open quantities out
// of Bin.reserved_qty (On Hold included: sales paused it).
var closedSalesOrderStatuses = []string{"Closed", "On Hold", "Completed"}

// unsweptSalesOrderStatuses are closedSalesOrderStatuses and Cancelled,
// which the sweep's filter names besides docstatus, in the order it has
// always sent them.
var unsweptSalesOrderStatuses = []string{"Closed", "Completed", "Cancelled", "On Hold"}

// SalesOrderOpen reports whether a Sales Order of this status still ships:
// it is in the order book, reserves its stock when submitted, and is
// promised.
func SalesOrderOpen(status string) bool {
	return !slices.Contains(closedSalesOrderStatuses, status)
}

// closedPurchaseOrderStatuses are the statuses of a submitted Purchase
// Order with nothing more to receive. On Hold still counts as incoming
// supply, as in ERPNext's ordered_qty.
var closedPurchaseOrderStatuses = []string{"Closed", "Completed", "Delivered"}

// PurchaseOrderOpen reports whether a Purchase Order of this status still
// brings supply: submitted (a Draft is not placed, a Cancelled one never
// arrives) and not closed. OpenPurchaseOrderLines asks ERPNext for these.
func PurchaseOrderOpen(status string) bool {
	return status != "Draft" && status != "Cancelled" && !slices.Contains(closedPurchaseOrderStatuses, status)
}
