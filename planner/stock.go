package planner

import (
	"cmp"
	"context"

	"github.com/erpnext-otp/otp/erp"
)

// LineStock is one Sales Order line's stock in the warehouse it ships from.
type LineStock struct {
	Warehouse string
	// Actual and Reserved are the Bin's actual_qty and reserved_qty, zero
	// when the line's item has no Bin there.
	Actual, Reserved float64
	// Available is what this order can draw on: on hand minus what other
	// orders have reserved, never negative.
	Available float64
}

// OrderStock reads the stock of every line of so, in one request for every
// line's Bin at once, in so.Items' order. A line ships from its warehouse,
// else the order's set_warehouse, else Config.DefaultWarehouse. A submitted
// order's own reservation, its stock quantity not yet delivered, is not
// counted against it.
func (p *Planner) OrderStock(ctx context.Context, so *erp.SalesOrder) ([]LineStock, error) {
	type key struct{ item, wh string }
	keys := make([]key, len(so.Items))
	own := map[key]float64{}
	var items, whs []string
	seenItem, seenWh := map[string]bool{}, map[string]bool{}
	for i, it := range so.Items {
		k := key{it.ItemCode, p.LineWarehouse(so, it)}
		keys[i] = k
		if !seenItem[k.item] {
			seenItem[k.item] = true
			items = append(items, k.item)
		}
		if !seenWh[k.wh] {
			seenWh[k.wh] = true
			whs = append(whs, k.wh)
		}
		if so.DocStatus == 1 && erp.SalesOrderOpen(so.Status) {
			own[k] += remainingStockQty(it)
		}
	}
	bins, err := p.r.Bins(ctx, items, whs)
	if err != nil {
		return nil, err // as the client said it: the quote API quotes it in its 503
	}
	stock := map[key]erp.Bin{}
	for _, b := range bins {
		stock[key{b.ItemCode, b.Warehouse}] = b
	}
	out := make([]LineStock, len(keys))
	for i, k := range keys {
		b := stock[k]
		others := max(0, b.ReservedQty-own[k])
		out[i] = LineStock{Warehouse: k.wh, Actual: b.ActualQty, Reserved: b.ReservedQty, Available: max(0, b.ActualQty-others)}
	}
	return out, nil
}

// LineWarehouse is the warehouse a line of so ships from: its own, else the
// order's set_warehouse, else Config.DefaultWarehouse.
func (p *Planner) LineWarehouse(so *erp.SalesOrder, it erp.SalesOrderItem) string {
	return cmp.Or(it.Warehouse, so.SetWarehouse, p.cfg.DefaultWarehouse)
}
