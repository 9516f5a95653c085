package sandbox

import (
	"fmt"
	"strconv"
)

// Bin bookkeeping (docs/erpnext.md#bin, erpnext/stock/stock_balance.py): one Bin
// per (item, warehouse), created on the first transaction of a stock item;
// reserved, ordered and indented quantities recomputed from the documents
// as ERPNext's SQL sums do; actual_qty moved by stock transactions;
// projected_qty always actual + ordered + indented + planned − reserved −
// reserved_for_production − reserved_for_sub_contract −
// reserved_for_production_plan.

func (t *tx) findBin(item, warehouse string) *document {
	if item == "" || warehouse == "" {
		return nil
	}
	for _, b := range t.s.docs["Bin"] {
		if str(b.V["item_code"]) == item && str(b.V["warehouse"]) == warehouse {
			return b
		}
	}
	return nil
}

// refreshBins recomputes the Bins of the given pairs, applying actual_qty
// deltas. Non-stock items and rows without a warehouse have no Bin.
func (t *tx) refreshBins(pairs [][2]string, actualDelta map[[2]string]float64) error {
	seen := map[[2]string]bool{}
	for _, p := range pairs {
		if seen[p] {
			continue
		}
		seen[p] = true
		item, wh := p[0], p[1]
		if wh == "" || !t.isStockItem(item) {
			continue
		}
		b := t.findBin(item, wh)
		if b == nil {
			it := t.get("Item", item)
			nb, err := t.insert("Bin", map[string]any{"item_code": item, "warehouse": wh, "stock_uom": it.V["stock_uom"]}, opIgnorePerms)
			if err != nil {
				return err
			}
			b = nb
		}
		delta := actualDelta[p]
		reserved := t.reservedQty(item, wh)
		ordered := t.orderedQty(item, wh)
		indented := t.indentedQty(item, wh)
		actual := roundQty(toFloat(b.V["actual_qty"]) + delta)
		if actual < 0 && delta < 0 {
			return frappeErr("NegativeStockError", fmt.Sprintf("%s units of %s needed in %s to complete this transaction.",
				strconv.FormatFloat(-actual, 'f', -1, 64), fmt.Sprintf("Item <strong>%s</strong>", item), fmt.Sprintf("Warehouse <strong>%s</strong>", wh)))
		}
		err := t.dbSet("Bin", b.name(), func(c *document) {
			c.V["actual_qty"] = actual
			c.V["reserved_qty"] = reserved
			c.V["ordered_qty"] = ordered
			c.V["indented_qty"] = indented
			for _, f := range []string{"planned_qty", "reserved_qty_for_production", "reserved_qty_for_sub_contract", "reserved_qty_for_production_plan", "reserved_stock"} {
				c.V[f] = toFloat(c.V[f])
			}
			c.V["projected_qty"] = roundQty(actual + ordered + indented + toFloat(c.V["planned_qty"]) - reserved -
				toFloat(c.V["reserved_qty_for_production"]) - toFloat(c.V["reserved_qty_for_sub_contract"]) -
				toFloat(c.V["reserved_qty_for_production_plan"]))
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// reservedQty: Σ stock_qty × (qty − delivered_qty) / qty over submitted Sales
// Orders not On Hold or Closed, not drop-shipped.
func (t *tx) reservedQty(item, wh string) float64 {
	var sum float64
	for _, so := range t.s.docs["Sales Order"] {
		if so.docstatus() != 1 {
			continue
		}
		if st := str(so.V["status"]); st == "On Hold" || st == "Closed" {
			continue
		}
		for _, r := range so.Tables["items"] {
			if str(r.V["item_code"]) != item || str(r.V["warehouse"]) != wh || toInt(r.V["delivered_by_supplier"]) == 1 {
				continue
			}
			qty := toFloat(r.V["qty"])
			if qty <= 0 {
				continue
			}
			open := qty - toFloat(r.V["delivered_qty"])
			if open > 0 {
				sum += toFloat(r.V["stock_qty"]) * open / qty
			}
		}
	}
	return roundQty(sum)
}

// orderedQty: Σ (qty − received_qty) × conversion_factor over submitted
// Purchase Orders not Closed or Delivered, lines not drop-shipped.
func (t *tx) orderedQty(item, wh string) float64 {
	var sum float64
	for _, po := range t.s.docs["Purchase Order"] {
		if po.docstatus() != 1 {
			continue
		}
		if st := str(po.V["status"]); st == "Closed" || st == "Delivered" {
			continue
		}
		for _, r := range po.Tables["items"] {
			if str(r.V["item_code"]) != item || str(r.V["warehouse"]) != wh || toInt(r.V["delivered_by_supplier"]) == 1 {
				continue
			}
			if open := toFloat(r.V["qty"]) - toFloat(r.V["received_qty"]); open > 0 {
				sum += open * toFloat(r.V["conversion_factor"])
			}
		}
	}
	return roundQty(sum)
}

// indentedQty: Σ (stock_qty − ordered_qty) over submitted, not stopped
// Material Requests; Material Issue requests subtract.
func (t *tx) indentedQty(item, wh string) float64 {
	var sum float64
	for _, mr := range t.s.docs["Material Request"] {
		if mr.docstatus() != 1 || str(mr.V["status"]) == "Stopped" {
			continue
		}
		sign := 1.0
		switch str(mr.V["material_request_type"]) {
		case "Material Issue":
			sign = -1
		case "Purchase", "Manufacture", "Customer Provided", "Material Transfer":
		default:
			continue
		}
		for _, r := range mr.Tables["items"] {
			if str(r.V["item_code"]) != item || str(r.V["warehouse"]) != wh {
				continue
			}
			if open := toFloat(r.V["stock_qty"]) - toFloat(r.V["ordered_qty"]); open > 0 {
				sum += sign * open
			}
		}
	}
	return roundQty(sum)
}
