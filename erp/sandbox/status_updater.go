package sandbox

import "sort"

// Status updater (erpnext/controllers/status_updater.py, docs/erpnext.md#which-save-fires-which-event):
// when a source document is submitted or cancelled, each target document its
// rows link to gets, per row, the quantity summed over all submitted source
// rows that name that row, then its percent field and status, written with
// db_set (on_change only), and its Bins rebooked. ERPNext configures this
// with one table of dicts per source doctype; statusUpdaters is that table.
//
// What every entry does alike, as ERPNext's StatusUpdater does for any
// target (the reference covers only the Sales Order; this follows
// status_updater.py): _update_percent_field sets the percent to
// round(ifnull((... having sum(target_ref_field) > 0), 0)), so a target
// whose rows total 0 gets 0 %; set_status(update=True) adds the timeline
// "Label" comment whenever the target's status changes (addStatusComment
// skips the statuses ERPNext skips).

// statusUpdate is one entry of a source doctype's status_updater list.
type statusUpdate struct {
	targetDT         string // the document updated: "Material Request"
	percentJoinField string // source row field naming the target document
	joinField        string // source row field naming the target row
	sourceField      string // source row quantity summed
	targetField      string // target row field set to that sum
	targetRefField   string // target row quantity the percent is a share of
	percentField     string // target field set to the percent covered

	// Where the three updaters have always differed; kept so that behaviour
	// does not change.

	// needsJoinField: a source row counts for its target document only when
	// it also names a target row (PR → PO, DN → SO; PO → MR does not).
	needsJoinField bool
	// skipReturns: return documents (is_return) are not summed (DN → SO).
	skipReturns bool
	// afterPercent sets fields derived from the new percent before status.
	afterPercent func(target *document, per float64)
}

// statusUpdaters maps a source doctype to the targets it updates.
var statusUpdaters = map[string][]statusUpdate{
	// PO lines book against their Material Request lines; the MR's Bins
	// rebook indented_qty.
	"Purchase Order": {{
		targetDT: "Material Request", percentJoinField: "material_request", joinField: "material_request_item",
		sourceField: "stock_qty", targetField: "ordered_qty", targetRefField: "stock_qty", percentField: "per_ordered",
	}},
	"Purchase Receipt": {{
		targetDT: "Purchase Order", percentJoinField: "purchase_order", joinField: "purchase_order_item",
		sourceField: "received_qty", targetField: "received_qty", targetRefField: "qty", percentField: "per_received",
		needsJoinField: true,
	}},
	// DN → SO then rebooks reserved_qty.
	"Delivery Note": {{
		targetDT: "Sales Order", percentJoinField: "against_sales_order", joinField: "so_detail",
		sourceField: "qty", targetField: "delivered_qty", targetRefField: "qty", percentField: "per_delivered",
		needsJoinField: true, skipReturns: true,
		afterPercent: setDeliveryStatus,
	}},
}

// setDeliveryStatus is the Sales Order's delivery_status from per_delivered;
// a Closed order keeps its own.
func setDeliveryStatus(so *document, per float64) {
	switch {
	case str(so.V["status"]) == "Closed":
	case per >= 100:
		so.V["delivery_status"] = "Fully Delivered"
	case per > 0:
		so.V["delivery_status"] = "Partly Delivered"
	default:
		so.V["delivery_status"] = "Not Delivered"
	}
}

// updateTargets runs the status updaters of src's doctype.
func (t *tx) updateTargets(src *document) error {
	for _, u := range statusUpdaters[src.DocType] {
		if err := t.updateTarget(src, u); err != nil {
			return err
		}
	}
	return nil
}

func (t *tx) updateTarget(src *document, u statusUpdate) error {
	targets := map[string]bool{}
	for _, r := range src.Tables["items"] {
		if n := str(r.V[u.percentJoinField]); n != "" && (!u.needsJoinField || str(r.V[u.joinField]) != "") {
			targets[n] = true
		}
	}
	// One pass over the source documents for all target rows: the loop
	// below writes targets, comments and Bins, never a source document.
	sums := t.sumSourceRows(src.DocType, u)
	for _, name := range sortedKeys(targets) {
		if t.get(u.targetDT, name) == nil {
			continue
		}
		var newStatus string
		err := t.dbSet(u.targetDT, name, func(c *document) {
			var total, done float64
			for _, row := range c.Tables["items"] {
				sum := sums[row.name()]
				row.V[u.targetField] = sum
				total += toFloat(row.V[u.targetRefField])
				done += minF(sum, toFloat(row.V[u.targetRefField]))
			}
			per := 0.0
			if total > 0 {
				per = roundQty(done / total * 100)
			}
			c.V[u.percentField] = per
			if u.afterPercent != nil {
				u.afterPercent(c, per)
			}
			prev := str(c.V["status"])
			c.V["status"] = computeStatus(c)
			if prev != str(c.V["status"]) {
				newStatus = str(c.V["status"])
			}
		})
		if err != nil {
			return err
		}
		if newStatus != "" {
			if err := t.addStatusComment(t.get(u.targetDT, name), newStatus); err != nil {
				return err
			}
		}
		if err := t.refreshBins(itemPairs(t.get(u.targetDT, name)), nil); err != nil {
			return err
		}
	}
	return nil
}

// sumSourceRows sums sourceField over the rows of all submitted sourceDT
// documents, by the target row their joinField names.
func (t *tx) sumSourceRows(sourceDT string, u statusUpdate) map[string]float64 {
	sums := map[string]float64{}
	for _, d := range t.s.docs[sourceDT] {
		if d.docstatus() != 1 || (u.skipReturns && toInt(d.V["is_return"]) == 1) {
			continue
		}
		for _, r := range d.Tables["items"] {
			if row := str(r.V[u.joinField]); row != "" {
				sums[row] += toFloat(r.V[u.sourceField])
			}
		}
	}
	return sums
}

func minF(a, b float64) float64 {
	if a < b {
		return a
	}
	return b
}

// sortedKeys is used where Python would iterate a set; kept for determinism.
func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
