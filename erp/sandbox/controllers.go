package sandbox

import (
	"fmt"
	"net/url"
	"sort"
	"strings"
	"unicode"

	"github.com/erpnext-otp/otp/erp/sandbox/internal/pyexpr"
)

// controller runs a doctype controller's method (the Python class methods of
// ERPNext and Frappe that matter to OTP).
func (t *tx) controller(method string, d, before *document, action string) error {
	switch d.DocType {
	case "Sales Order":
		return t.salesOrder(method, d, before, action)
	case "Purchase Order":
		return t.purchaseOrder(method, d, before, action)
	case "Purchase Receipt":
		return t.purchaseReceipt(method, d, action)
	case "Delivery Note":
		return t.deliveryNote(method, d, action)
	case "Stock Entry":
		return t.stockEntry(method, d)
	case "Material Request":
		return t.materialRequest(method, d, before, action)
	case "Item":
		if method == "validate" {
			t.itemValidate(d)
		}
	case "Warehouse":
		if method == "autoname" {
			name := str(d.V["warehouse_name"])
			if c := t.get("Company", str(d.V["company"])); c != nil {
				suffix := " - " + str(c.V["abbr"])
				if !strings.HasSuffix(name, suffix) {
					name += suffix
				}
			}
			d.V["name"] = name
		}
	case "Holiday List":
		if method == "validate" {
			return t.holidayListValidate(d)
		}
	case "Custom Field":
		return t.customField(method, d, before)
	case "Webhook":
		if method == "validate" {
			return t.webhookValidate(d)
		}
	case "User":
		switch method {
		case "autoname":
			d.V["name"] = strings.TrimSpace(str(d.V["email"]))
		case "validate":
			full := strings.TrimSpace(str(d.V["first_name"]) + " " + str(d.V["last_name"]))
			d.V["full_name"] = full
		}
	case "Comment":
		if method == "validate" {
			if str(d.V["comment_email"]) == "" {
				d.V["comment_email"] = t.user
			}
		}
	}
	return nil
}

// setIf sets a column only when the doctype has it.
func (t *tx) setIf(d *document, field string, v any) {
	if f := t.s.metas[d.DocType].field(field); f != nil && f.hasColumn() {
		cv, err := castValue(f, v)
		if err == nil {
			d.V[field] = cv
		}
	}
}

func (t *tx) hasField(d *document, field string) bool {
	return t.s.metas[d.DocType].field(field) != nil
}

func (t *tx) isStockItem(code string) bool {
	it := t.get("Item", code)
	return it != nil && toInt(it.V["is_stock_item"]) == 1
}

// fillItemRow is ERPNext's set_missing_item_details + set_qty_as_per_stock_uom
// for one transaction row: item name, stock UOM, UOM, conversion factor
// (1 for the stock UOM, else the Item's UOM Conversion Detail), stock qty.
func (t *tx) fillItemRow(r *document, defaultWarehouse, whField, stockQtyField string) error {
	code := str(r.V["item_code"])
	item := t.get("Item", code)
	if item == nil {
		return nil
	}
	if str(r.V["item_name"]) == "" {
		t.setIf(r, "item_name", item.V["item_name"])
	}
	if t.hasField(r, "description") && str(r.V["description"]) == "" {
		t.setIf(r, "description", item.V["description"])
	}
	stockUOM := str(item.V["stock_uom"])
	t.setIf(r, "stock_uom", stockUOM)
	if str(r.V["uom"]) == "" {
		r.V["uom"] = stockUOM
	}
	uom := str(r.V["uom"])
	cf := toFloat(r.V["conversion_factor"])
	if uom == stockUOM {
		cf = 1
	} else if cf <= 0 {
		for _, u := range item.Tables["uoms"] {
			if str(u.V["uom"]) == uom {
				cf = toFloat(u.V["conversion_factor"])
			}
		}
	}
	if cf <= 0 {
		return validationErr(fmt.Sprintf("Row #%d: UOM Conversion factor is required for UOM: %s in Item: %s", toInt(r.V["idx"]), uom, code))
	}
	r.V["conversion_factor"] = cf
	if stockQtyField != "" {
		r.V[stockQtyField] = roundQty(toFloat(r.V["qty"]) * cf)
	}
	if whField != "" && str(r.V[whField]) == "" && defaultWarehouse != "" {
		r.V[whField] = defaultWarehouse
	}
	if t.hasField(r, "amount") {
		r.V["amount"] = toFloat(r.V["qty"]) * toFloat(r.V["rate"])
	}
	t.setIf(r, "is_stock_item", item.V["is_stock_item"])
	return nil
}

// roundQty rounds to the 9 decimals of a Float column (decimal(21,9)).
func roundQty(f float64) float64 {
	const p = 1e9
	if f > 1e12 || f < -1e12 {
		return f
	}
	r := float64(int64(f*p+copySign(0.5, f))) / p
	return r
}

func copySign(a, b float64) float64 {
	if b < 0 {
		return -a
	}
	return a
}

func (t *tx) checkWarehouse(r *document, whField string) error {
	wh := str(r.V[whField])
	if wh == "" {
		return nil
	}
	if w := t.get("Warehouse", wh); w != nil && toInt(w.V["is_group"]) == 1 {
		return validationErr("Group node warehouse is not allowed to select for transactions")
	}
	return nil
}

func (t *tx) totals(d *document, table string) {
	var qty, amount float64
	for _, r := range d.Tables[table] {
		qty += toFloat(r.V["qty"])
		amount += toFloat(r.V["amount"])
	}
	t.setIf(d, "total_qty", qty)
	t.setIf(d, "total", amount)
	t.setIf(d, "grand_total", amount)
}

// ---- Sales Order (docs/erpnext.md#sales-order, #sales-order-item) ----

func (t *tx) salesOrder(method string, d, before *document, action string) error {
	switch method {
	case "validate":
		if c := t.get("Customer", str(d.V["customer"])); c != nil {
			d.V["customer_name"] = c.V["customer_name"]
		}
		for _, r := range d.Tables["items"] {
			if err := t.fillItemRow(r, str(d.V["set_warehouse"]), "warehouse", "stock_qty"); err != nil {
				return err
			}
			r.V["transaction_date"] = d.V["transaction_date"]
			if err := t.checkWarehouse(r, "warehouse"); err != nil {
				return err
			}
			code := str(r.V["item_code"])
			if t.isStockItem(code) && str(r.V["warehouse"]) == "" && toInt(r.V["delivered_by_supplier"]) == 0 {
				return frappeErr("WarehouseRequired", fmt.Sprintf("Delivery warehouse required for stock item %s", code))
			}
			// validate_for_items: a snapshot of the Bin, not live.
			if b := t.findBin(code, str(r.V["warehouse"])); b != nil {
				r.V["projected_qty"] = b.V["projected_qty"]
				r.V["actual_qty"] = b.V["actual_qty"]
			}
		}
		t.totals(d, "items")
		if err := t.validateDeliveryDate(d); err != nil {
			return err
		}
		if str(d.V["delivery_status"]) == "" {
			d.V["delivery_status"] = "Not Delivered"
		}
		if str(d.V["billing_status"]) == "" {
			d.V["billing_status"] = "Not Billed"
		}
		return t.setStatus(d, before)
	case "before_update_after_submit":
		return t.validateDeliveryDate(d)
	case "before_cancel":
		d.V["status"] = "Cancelled"
	case "on_submit", "on_cancel":
		return t.refreshBins(itemPairs(d), nil)
	}
	return nil
}

// validateDeliveryDate is SalesOrder.validate_delivery_date (docs/erpnext.md#sales-order-item).
func (t *tx) validateDeliveryDate(d *document) error {
	if str(d.V["order_type"]) != "Sales" || toInt(d.V["skip_delivery_note"]) == 1 {
		return nil
	}
	maxDate := ""
	for _, r := range d.Tables["items"] {
		if dd := str(r.V["delivery_date"]); dd > maxDate {
			maxDate = dd
		}
	}
	if maxDate != "" && str(d.V["delivery_date"]) != maxDate {
		d.V["delivery_date"] = maxDate
	}
	if str(d.V["delivery_date"]) == "" {
		return validationErr("Please enter Delivery Date")
	}
	for _, r := range d.Tables["items"] {
		if str(r.V["delivery_date"]) == "" {
			r.V["delivery_date"] = d.V["delivery_date"]
		}
		if str(d.V["transaction_date"]) > str(r.V["delivery_date"]) {
			e := validationErr("Expected Delivery Date should be after Sales Order Date")
			e.Title = "Invalid Delivery Date"
			e.Indicator = "orange"
			return e
		}
	}
	return nil
}

// itemPairs lists the (item, warehouse) pairs of a document's items, the
// Bins its quantities book into.
func itemPairs(d *document) [][2]string {
	var out [][2]string
	for _, r := range d.Tables["items"] {
		out = append(out, [2]string{str(r.V["item_code"]), str(r.V["warehouse"])})
	}
	return out
}

// itemDeltas is how far each of a stock transaction's items moves its Bin's
// actual_qty: sign × stock_qty, summed per (item, warehouse).
func itemDeltas(d *document, sign float64) map[[2]string]float64 {
	deltas := map[[2]string]float64{}
	for _, r := range d.Tables["items"] {
		deltas[[2]string{str(r.V["item_code"]), str(r.V["warehouse"])}] += sign * toFloat(r.V["stock_qty"])
	}
	return deltas
}

// ---- status maps (erpnext/controllers/status_updater.py) ----

// computeStatus evaluates a doctype's status map in reverse, first match
// wins, as StatusUpdater.set_status does.
func computeStatus(d *document) string {
	ds := d.docstatus()
	st := str(d.V["status"])
	perBilled := toFloat(d.V["per_billed"])
	switch d.DocType {
	case "Sales Order":
		perDel := toFloat(d.V["per_delivered"])
		skip := toInt(d.V["skip_delivery_note"]) == 1
		switch {
		case st == "On Hold":
			return "On Hold"
		case st == "Closed" && ds != 2:
			return "Closed"
		case ds == 2:
			return "Cancelled"
		case (perDel >= 100 || skip) && perBilled >= 100 && ds == 1:
			return "Completed"
		case perDel < 100 && perBilled >= 100 && ds == 1 && !skip:
			return "To Deliver"
		case (perDel >= 100 || skip) && perBilled < 100 && ds == 1:
			return "To Bill"
		case perDel < 100 && perBilled < 100 && ds == 1:
			return "To Deliver and Bill"
		}
		return "Draft"
	case "Purchase Order":
		perRec := toFloat(d.V["per_received"])
		switch {
		case st == "Closed":
			return "Closed"
		case st == "On Hold":
			return "On Hold"
		case ds == 2:
			return "Cancelled"
		case st == "Delivered":
			return "Delivered"
		case perRec >= 100 && perBilled == 100 && ds == 1:
			return "Completed"
		case perRec < 100 && perBilled == 100 && ds == 1:
			return "To Receive"
		case perRec >= 100 && perBilled < 100 && ds == 1:
			return "To Bill"
		case perRec < 100 && perBilled < 100 && ds == 1:
			return "To Receive and Bill"
		}
		return "Draft"
	case "Delivery Note", "Purchase Receipt":
		switch {
		case st == "Closed" && ds != 2:
			return "Closed"
		case ds == 2:
			return "Cancelled"
		case toInt(d.V["is_return"]) == 1 && ds == 1:
			return map[string]string{"Delivery Note": "Return", "Purchase Receipt": "Return"}[d.DocType]
		case perBilled == 100 && ds == 1:
			return "Completed"
		case perBilled < 100 && ds == 1:
			return "To Bill"
		}
		return "Draft"
	case "Material Request":
		perOrd := toFloat(d.V["per_ordered"])
		switch {
		case st == "Stopped":
			return "Stopped"
		case ds == 2:
			return "Cancelled"
		case perOrd > 0 && perOrd < 100 && ds == 1:
			return "Partially Ordered"
		case perOrd >= 100 && ds == 1 && str(d.V["material_request_type"]) == "Purchase":
			return "Ordered"
		case perOrd >= 100 && ds == 1 && str(d.V["material_request_type"]) == "Material Transfer":
			return "Transferred"
		case perOrd >= 100 && ds == 1 && str(d.V["material_request_type"]) == "Material Issue":
			return "Issued"
		case perOrd == 0 && ds == 1:
			return "Pending"
		}
		return "Draft"
	}
	return st
}

// setStatus recomputes status and, for an existing document whose status
// changes, adds the "Label" comment ERPNext adds to the timeline.
func (t *tx) setStatus(d, before *document) error {
	prev := str(d.V["status"])
	d.V["status"] = computeStatus(d)
	if before != nil && prev != str(d.V["status"]) {
		return t.addStatusComment(d, str(d.V["status"]))
	}
	return nil
}

func (t *tx) addStatusComment(d *document, status string) error {
	switch status {
	case "Cancelled", "Partially Ordered", "Ordered", "Issued", "Transferred":
		return nil
	}
	_, err := t.insert("Comment", map[string]any{
		"comment_type": "Label", "reference_doctype": d.DocType, "reference_name": d.name(),
		"content": status, "comment_email": t.user,
	}, opIgnorePerms)
	return err
}

// UpdateStatus is ERPNext's update_status for a Sales Order or Purchase
// Order: "Closed", "On Hold", or "Draft" to re-open. It writes through
// db_set (fires on_change only) and rebooks the Bins.
func (t *tx) updateStatus(doctype, name, status string) (*document, error) {
	cur := t.get(doctype, name)
	if cur == nil {
		return nil, notFound(doctype, name)
	}
	if !t.can(doctype, "write", cur) {
		return nil, permissionErr(doctype, "write")
	}
	if cur.docstatus() != 1 {
		return nil, frappeErr("InvalidStatusError", fmt.Sprintf("%s %s must be submitted", doctype, name))
	}
	err := t.dbSet(doctype, name, func(c *document) {
		c.V["status"] = status
		c.V["status"] = computeStatus(c)
		if doctype == "Sales Order" && c.V["status"] == "Closed" {
			c.V["delivery_status"] = "Closed"
		}
	})
	if err != nil {
		return nil, err
	}
	d := t.get(doctype, name)
	if err := t.addStatusComment(d, str(d.V["status"])); err != nil {
		return nil, err
	}
	switch doctype {
	case "Sales Order", "Purchase Order":
		err = t.refreshBins(itemPairs(d), nil)
	}
	return t.get(doctype, name), err
}

// ---- Purchase Order (docs/erpnext.md#purchase-order) ----

func (t *tx) purchaseOrder(method string, d, before *document, action string) error {
	switch method {
	case "validate":
		if s := t.get("Supplier", str(d.V["supplier"])); s != nil {
			d.V["supplier_name"] = s.V["supplier_name"]
		}
		for _, r := range d.Tables["items"] {
			if err := t.fillItemRow(r, str(d.V["set_warehouse"]), "warehouse", "stock_qty"); err != nil {
				return err
			}
			if err := t.checkWarehouse(r, "warehouse"); err != nil {
				return err
			}
		}
		t.totals(d, "items")
		if err := t.validateScheduleDate(d); err != nil {
			return err
		}
		return t.setStatus(d, before)
	case "before_update_after_submit":
		return t.validateScheduleDate(d)
	case "before_cancel":
		d.V["status"] = "Cancelled"
	case "on_submit", "on_cancel":
		if err := t.updateTargets(d); err != nil {
			return err
		}
		return t.refreshBins(itemPairs(d), nil)
	}
	return nil
}

// validateScheduleDate is BuyingController.validate_schedule_date: the
// order's Required By is the earliest line date; lines without one get it.
func (t *tx) validateScheduleDate(d *document) error {
	minDate := ""
	for _, r := range d.Tables["items"] {
		if sd := str(r.V["schedule_date"]); sd != "" && (minDate == "" || sd < minDate) {
			minDate = sd
		}
	}
	if minDate != "" {
		d.V["schedule_date"] = minDate
	}
	if str(d.V["schedule_date"]) == "" {
		return validationErr("Please enter Reqd by Date")
	}
	for _, r := range d.Tables["items"] {
		if str(r.V["schedule_date"]) == "" {
			r.V["schedule_date"] = d.V["schedule_date"]
		}
		if str(r.V["schedule_date"]) < str(d.V["transaction_date"]) {
			return validationErr(fmt.Sprintf("Row #%d: Reqd by Date cannot be before Transaction Date", toInt(r.V["idx"])))
		}
	}
	return nil
}

// ---- Purchase Receipt ----

func (t *tx) purchaseReceipt(method string, d *document, action string) error {
	switch method {
	case "validate":
		if s := t.get("Supplier", str(d.V["supplier"])); s != nil {
			d.V["supplier_name"] = s.V["supplier_name"]
		}
		for _, r := range d.Tables["items"] {
			if err := t.fillItemRow(r, str(d.V["set_warehouse"]), "warehouse", "stock_qty"); err != nil {
				return err
			}
			r.V["received_qty"] = toFloat(r.V["qty"]) + toFloat(r.V["rejected_qty"])
			r.V["received_stock_qty"] = roundQty(toFloat(r.V["received_qty"]) * toFloat(r.V["conversion_factor"]))
			if t.isStockItem(str(r.V["item_code"])) && str(r.V["warehouse"]) == "" {
				return validationErr(fmt.Sprintf("Row #%d: Accepted Warehouse is mandatory for the accepted Item %s", toInt(r.V["idx"]), str(r.V["item_code"])))
			}
			if err := t.checkWarehouse(r, "warehouse"); err != nil {
				return err
			}
			if err := t.checkAgainstOrder(r, "Purchase Order", "purchase_order", "purchase_order_item"); err != nil {
				return err
			}
		}
		t.totals(d, "items")
		d.V["status"] = computeStatus(d)
	case "before_cancel":
		d.V["status"] = "Cancelled"
	case "on_submit", "on_cancel":
		// A receipt adds its stock; cancelling takes it back.
		sign := 1.0
		if method == "on_cancel" {
			sign = -1
		}
		if err := t.refreshBins(itemPairs(d), itemDeltas(d, sign)); err != nil {
			return err
		}
		return t.updateTargets(d)
	}
	return nil
}

// checkAgainstOrder checks a row's link to an order line: the line must be
// on that order and be for the same item.
func (t *tx) checkAgainstOrder(r *document, orderType, orderField, rowField string) error {
	order, row := str(r.V[orderField]), str(r.V[rowField])
	if row == "" {
		return nil
	}
	o := t.get(orderType, order)
	if o == nil {
		return nil // link validation reports a missing order
	}
	for _, or := range o.Tables["items"] {
		if or.name() == row {
			if str(or.V["item_code"]) != str(r.V["item_code"]) {
				return validationErr(fmt.Sprintf("Row #%d: Item %s does not match %s %s row %s", toInt(r.V["idx"]), str(r.V["item_code"]), orderType, order, row))
			}
			return nil
		}
	}
	return validationErr(fmt.Sprintf("Row #%d: %s row %s not found in %s %s", toInt(r.V["idx"]), orderType, row, orderType, order))
}

// ---- Delivery Note (docs/erpnext.md#item-warehouse-company-holiday-list) ----

func (t *tx) deliveryNote(method string, d *document, action string) error {
	switch method {
	case "validate":
		if c := t.get("Customer", str(d.V["customer"])); c != nil {
			d.V["customer_name"] = c.V["customer_name"]
		}
		for _, r := range d.Tables["items"] {
			if err := t.fillItemRow(r, str(d.V["set_warehouse"]), "warehouse", "stock_qty"); err != nil {
				return err
			}
			if t.isStockItem(str(r.V["item_code"])) && str(r.V["warehouse"]) == "" {
				return frappeErr("WarehouseRequired", fmt.Sprintf("Warehouse required for stock Item %s", str(r.V["item_code"])))
			}
			if err := t.checkWarehouse(r, "warehouse"); err != nil {
				return err
			}
			if err := t.checkAgainstOrder(r, "Sales Order", "against_sales_order", "so_detail"); err != nil {
				return err
			}
		}
		t.totals(d, "items")
		d.V["status"] = computeStatus(d)
	case "before_cancel":
		d.V["status"] = "Cancelled"
	case "on_submit", "on_cancel":
		// A delivery takes its stock out; cancelling puts it back.
		sign := -1.0
		if method == "on_cancel" {
			sign = 1
		}
		if err := t.refreshBins(itemPairs(d), itemDeltas(d, sign)); err != nil {
			return err
		}
		return t.updateTargets(d)
	}
	return nil
}

// ---- Stock Entry ----

var stockEntryPurposes = map[string]bool{"Material Issue": true, "Material Receipt": true, "Material Transfer": true}

func (t *tx) stockEntry(method string, d *document) error {
	switch method {
	case "validate":
		if str(d.V["purpose"]) == "" && stockEntryPurposes[str(d.V["stock_entry_type"])] {
			d.V["purpose"] = d.V["stock_entry_type"]
		}
		purpose := str(d.V["purpose"])
		if !stockEntryPurposes[purpose] {
			return validationErr(fmt.Sprintf("Purpose must be one of Material Issue, Material Receipt, Material Transfer (got %q)", purpose))
		}
		for _, r := range d.Tables["items"] {
			if purpose != "Material Receipt" && str(r.V["s_warehouse"]) == "" {
				r.V["s_warehouse"] = d.V["from_warehouse"]
			}
			if purpose != "Material Issue" && str(r.V["t_warehouse"]) == "" {
				r.V["t_warehouse"] = d.V["to_warehouse"]
			}
			if purpose == "Material Receipt" {
				r.V["s_warehouse"] = nil
			}
			if purpose == "Material Issue" {
				r.V["t_warehouse"] = nil
			}
			if err := t.fillItemRow(r, "", "", "transfer_qty"); err != nil {
				return err
			}
			idx := toInt(r.V["idx"])
			if purpose != "Material Receipt" && str(r.V["s_warehouse"]) == "" {
				return validationErr(fmt.Sprintf("Source warehouse is mandatory for row %d", idx))
			}
			if purpose != "Material Issue" && str(r.V["t_warehouse"]) == "" {
				return validationErr(fmt.Sprintf("Target warehouse is mandatory for row %d", idx))
			}
			for _, wf := range []string{"s_warehouse", "t_warehouse"} {
				if err := t.checkWarehouse(r, wf); err != nil {
					return err
				}
			}
		}
	case "on_submit", "on_cancel":
		sign := 1.0
		if method == "on_cancel" {
			sign = -1
		}
		deltas := map[[2]string]float64{}
		var pairs [][2]string
		for _, r := range d.Tables["items"] {
			q := toFloat(r.V["transfer_qty"])
			if s := str(r.V["s_warehouse"]); s != "" {
				k := [2]string{str(r.V["item_code"]), s}
				deltas[k] -= sign * q
				pairs = append(pairs, k)
			}
			if tw := str(r.V["t_warehouse"]); tw != "" {
				k := [2]string{str(r.V["item_code"]), tw}
				deltas[k] += sign * q
				pairs = append(pairs, k)
			}
		}
		return t.refreshBins(pairs, deltas)
	}
	return nil
}

// ---- Material Request ----

func (t *tx) materialRequest(method string, d, before *document, action string) error {
	switch method {
	case "validate":
		for _, r := range d.Tables["items"] {
			if err := t.fillItemRow(r, str(d.V["set_warehouse"]), "warehouse", "stock_qty"); err != nil {
				return err
			}
			if str(r.V["schedule_date"]) == "" {
				r.V["schedule_date"] = d.V["schedule_date"]
			}
		}
		if str(d.V["schedule_date"]) == "" {
			for _, r := range d.Tables["items"] {
				if sd := str(r.V["schedule_date"]); sd != "" && (str(d.V["schedule_date"]) == "" || sd < str(d.V["schedule_date"])) {
					d.V["schedule_date"] = sd
				}
			}
		}
		return t.setStatus(d, before)
	case "before_cancel":
		d.V["status"] = "Cancelled"
	case "on_submit", "on_cancel":
		return t.refreshBins(itemPairs(d), nil)
	}
	return nil
}

// ---- masters ----

func (t *tx) itemValidate(d *document) {
	if str(d.V["item_name"]) == "" {
		d.V["item_name"] = d.V["item_code"]
	}
	if str(d.V["description"]) == "" {
		d.V["description"] = d.V["item_name"]
	}
	stock := str(d.V["stock_uom"])
	for _, u := range d.Tables["uoms"] {
		if str(u.V["uom"]) == stock {
			return
		}
	}
	row := newDocument("UOM Conversion Detail")
	row.V["uom"] = stock
	row.V["conversion_factor"] = 1.0
	row.V["idx"] = len(d.Tables["uoms"]) + 1
	d.Tables["uoms"] = append([]*document{row}, d.Tables["uoms"]...)
	for i, r := range d.Tables["uoms"] {
		r.V["idx"] = i + 1
	}
	t.finishChildren(d)
}

func (t *tx) holidayListValidate(d *document) error {
	from, to := str(d.V["from_date"]), str(d.V["to_date"])
	if from != "" && to != "" && from > to {
		return validationErr("To Date cannot be before From Date")
	}
	rows := d.Tables["holidays"]
	for _, r := range rows {
		hd := str(r.V["holiday_date"])
		if hd != "" && (hd < from || hd > to) {
			return validationErr(fmt.Sprintf("The holiday on %s is not between From Date and To Date", hd))
		}
	}
	sort.SliceStable(rows, func(i, j int) bool { return str(rows[i].V["holiday_date"]) < str(rows[j].V["holiday_date"]) })
	for i, r := range rows {
		r.V["idx"] = i + 1
	}
	d.V["total_holidays"] = len(rows)
	return nil
}

// ---- Custom Field (docs/erpnext.md#custom-fields) ----

var restrictedFieldnames = map[string]bool{"name": true, "parent": true, "creation": true, "modified": true,
	"modified_by": true, "parentfield": true, "parenttype": true, "file_list": true, "flags": true, "docstatus": true}

// setFieldname is CustomField.set_fieldname (v15): a given fieldname is used
// as-is, lowercased; otherwise "custom_" + the label's letters, digits and
// underscores (a break without a label is named after its type and five
// random characters); restricted names get a "1".
func (t *tx) setFieldname(d *document) error {
	fn := str(d.V["fieldname"])
	if fn == "" {
		label := str(d.V["label"])
		if label == "" {
			switch ft := str(d.V["fieldtype"]); ft {
			case "Section Break", "Column Break", "Tab Break":
				label = ft + "_" + t.hash()[:5]
			default:
				return validationErr("Label is mandatory")
			}
		}
		var b strings.Builder
		for _, r := range strings.ReplaceAll(label, " ", "_") {
			if unicode.IsDigit(r) || unicode.IsLetter(r) || r == '_' {
				b.WriteRune(r)
			}
		}
		fn = "custom_" + b.String()
	}
	fn = strings.ToLower(fn)
	if restrictedFieldnames[fn] {
		fn += "1"
	}
	d.V["fieldname"] = fn
	return nil
}

func (t *tx) customField(method string, d, before *document) error {
	switch method {
	case "autoname":
		if err := t.setFieldname(d); err != nil {
			return err
		}
		d.V["name"] = str(d.V["dt"]) + "-" + str(d.V["fieldname"])
	case "before_insert":
		return t.setFieldname(d)
	case "validate":
		m := t.s.metas[str(d.V["dt"])]
		if m == nil {
			return frappeErr("LinkValidationError", "Could not find DocType: "+str(d.V["dt"]))
		}
		fn := str(d.V["fieldname"])
		if fn == "" {
			return validationErr("Fieldname not set for Custom Field")
		}
		if before == nil {
			if m.field(fn) != nil {
				return validationErr(fmt.Sprintf("A field with the name <strong>%s</strong> already exists in %s", fn, m.Name))
			}
		}
		ia := str(d.V["insert_after"])
		if ia == "append" && len(m.Fields) > 0 {
			d.V["insert_after"] = m.Fields[len(m.Fields)-1].Name
		} else if ia != "" && m.field(ia) == nil {
			return frappeErr("DoesNotExistError", fmt.Sprintf("Insert After field '%s' mentioned in Custom Field '%s', with label '%s', does not exist",
				ia, d.name(), str(d.V["label"])))
		}
		if toInt(d.V["translatable"]) == 1 && !supportsTranslation(str(d.V["fieldtype"])) {
			d.V["translatable"] = 0
		}
		switch str(d.V["fieldtype"]) {
		case "Link", "Table", "Dynamic Link":
			if str(d.V["options"]) == "" {
				return validationErr(fmt.Sprintf("Options required for Link or Table type field %s in row 1", fn))
			}
		}
	case "on_update":
		t.applyCustomField(d)
	case "on_trash":
		// CustomField.on_trash (F15): a field Administrator owns (made in
		// process here; on a site, by bench, fixtures or an app's
		// create_custom_fields) is refused to everyone else, System Manager
		// included, whatever the DocPerms say (frappe.throw: 417).
		if str(d.V["owner"]) == Administrator && t.user != Administrator {
			return validationErr(fmt.Sprintf("Custom Field <strong>%s</strong> is created by the Administrator and can only be deleted through the Administrator account.", str(d.V["label"])))
		}
		m := t.s.metas[str(d.V["dt"])]
		if m == nil {
			return nil
		}
		c := m.clone()
		fn := str(d.V["fieldname"])
		for i, f := range c.Fields {
			if f.Name == fn && f.Custom {
				c.Fields = append(c.Fields[:i], c.Fields[i+1:]...)
				break
			}
		}
		t.setMeta(c)
	}
	return nil
}

// supportsTranslation is frappe.model.docfield.supports_translation.
func supportsTranslation(fieldtype string) bool {
	switch fieldtype {
	case "Data", "Select", "Text", "Small Text", "Text Editor":
		return true
	}
	return false
}

// applyCustomField merges a Custom Field into its doctype's meta, after its
// insert_after field (frappe.db.updatedb adds the column at once).
func (t *tx) applyCustomField(d *document) {
	m := t.s.metas[str(d.V["dt"])]
	if m == nil {
		return
	}
	c := m.clone()
	fn := str(d.V["fieldname"])
	for i, f := range c.Fields {
		if f.Name == fn && f.Custom {
			c.Fields = append(c.Fields[:i], c.Fields[i+1:]...)
			break
		}
	}
	label := str(d.V["label"])
	if label == "" {
		label = titleLabel(fn)
	}
	nf := &field{Name: fn, Label: label, Type: str(d.V["fieldtype"]), Options: str(d.V["options"]),
		Default: str(d.V["default"]), Reqd: toInt(d.V["reqd"]) == 1, AllowOnSubmit: toInt(d.V["allow_on_submit"]) == 1,
		ReadOnly: toInt(d.V["read_only"]) == 1, NoCopy: toInt(d.V["no_copy"]) == 1, Custom: true}
	pos := len(c.Fields)
	if ia := str(d.V["insert_after"]); ia != "" {
		for i, f := range c.Fields {
			if f.Name == ia {
				pos = i + 1
			}
		}
	}
	c.Fields = append(c.Fields[:pos], append([]*field{nf}, c.Fields[pos:]...)...)
	t.setMeta(c)
}

// ---- Webhook (docs/erpnext.md#the-webhook-document) ----

func (t *tx) webhookValidate(d *document) error {
	dt := str(d.V["webhook_doctype"])
	m := t.s.metas[dt]
	if m == nil {
		return frappeErr("LinkValidationError", "Could not find DocType: "+dt)
	}
	switch str(d.V["webhook_docevent"]) {
	case "on_submit", "on_cancel", "on_update_after_submit":
		if !m.Submittable {
			return validationErr("DocType must be Submittable for the selected Doc Event")
		}
	}
	if cond := str(d.V["condition"]); cond != "" {
		e, err := pyexpr.Parse(cond)
		if err == nil {
			probe := newDocument(dt)
			_, err = t.evalCondition(e, probe)
		}
		if err != nil {
			return validationErr(fmt.Sprintf("Invalid Condition: %v", err))
		}
	}
	u, err := url.Parse(str(d.V["request_url"]))
	if err != nil || u.Host == "" {
		return validationErr("Check Request URL")
	}
	switch str(d.V["request_structure"]) {
	case "Form URL-Encoded":
		d.V["webhook_json"] = nil
	case "JSON":
		d.Tables["webhook_data"] = nil
	}
	seen := map[string]bool{}
	for _, r := range d.Tables["webhook_data"] {
		fn := str(r.V["fieldname"])
		if seen[fn] {
			return validationErr("Same Field is entered more than once")
		}
		seen[fn] = true
	}
	return nil
}
