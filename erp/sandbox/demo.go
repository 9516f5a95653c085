package sandbox

import (
	"fmt"
	"time"
)

// Well-known names of the demo data set (WithDemoData). Everything is dated
// relative to the clock's today when the sandbox is built; documents named
// by a naming series are listed in Demo (their year comes from the clock).
const (
	DemoCompany       = "OTP Demo Co"
	DemoAbbr          = "WH"
	DemoHolidayList   = "OTP Demo Holidays"
	DemoAllWarehouses = "All Warehouses - WH"
	DemoStores        = "Stores - WH"
	DemoStoresEast    = "Stores East - WH"
	DemoFinishedGoods = "Finished Goods - WH"
	DemoTransit       = "Goods In Transit - WH"
	DemoWIP           = "Work In Progress - WH"

	DemoCustomer      = "Café Dupont" // non-ASCII on purpose: webhook bodies escape it as \u00e9
	DemoCustomer2     = "Acme Retail"
	DemoCustomer3     = "Globex Stores"
	DemoSupplier      = "Northwind Supplies"
	DemoSupplier2     = "Contoso Parts"
	DemoUOM           = "Nos"
	DemoBoxUOM        = "Box"
	DemoBoxFactor     = 12.0
	DemoItemCount     = 50
	DemoItemInStock   = "SKU-001" // 120 in Stores, lead time 5
	DemoItemPartlyIn  = "SKU-002" // 40 in Stores, a PO partly received
	DemoItemDelivered = "SKU-003" // delivered on DemoData.DeliveredSO
	DemoItemNoStock   = "SKU-031" // no stock, a PO with only schedule_date
	DemoItemOverdue   = "SKU-032" // no stock, an overdue PO
	DemoItemFarPO     = "SKU-033" // no stock, a PO 60 days out
	DemoItemNoSupply  = "SKU-035" // no stock, no PO, lead time 0: cannot be promised
	DemoItemLeadTime  = "SKU-036" // no stock, no PO, lead time 10 days
	DemoItemEast      = "SKU-041" // stock only in Stores East
	DemoItemService   = "SKU-046" // is_stock_item 0
	DemoItemService2  = "SKU-047" // is_stock_item 0
	DemoItemDisabled  = "SKU-048"
	DemoItemBox       = "SKU-049" // stock UOM Nos, also sold and bought in Box of 12
	DemoItemContended = "SKU-050" // 20 in stock, 55 on open orders, 40 on a PO
)

// DemoData holds the names of the demo transactions.
type DemoData struct {
	ContendedSO1     string // SKU-050 × 30, due in 3 days
	ContendedSO2     string // SKU-050 × 25, due in 10 days
	PastDueSO        string // SKU-001 × 5, due 2 days ago
	MultiLineSO      string // SKU-002 × 10, SKU-049 × 2 Box, SKU-046 × 1
	DraftSO          string // SKU-050 × 10, draft
	DraftSO2         string // SKU-031 × 5, draft
	ClosedSO         string // SKU-001 × 8, Closed
	OnHoldSO         string // SKU-004 × 3, On Hold
	DeliveredSO      string // SKU-003 × 4, fully delivered
	DeliveryNote     string
	OpenPO           string // SKU-050 × 40, expected in 7 days
	ScheduleOnlyPO   string // SKU-031 × 100, schedule_date in 14 days, no expected date
	OverduePO        string // SKU-032 × 20, expected 5 days ago
	FarPO            string // SKU-033 × 50, schedule_date in 60 days
	BoxPO            string // SKU-049 × 10 Box, expected in 10 days
	PartlyReceivedPO string // SKU-002 × 30, 10 received
	DraftPO          string // SKU-034 × 15, draft
	PurchaseReceipt  string
	StockEntry       string // the opening Material Receipt
}

// Demo returns the names of the demo transactions (empty without WithDemoData).
func (s *Sandbox) Demo() DemoData {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.demo
}

type demoItem struct {
	code, name string
	stock      float64
	warehouse  string
	lead       int
	isStock    bool
	disabled   bool
}

func demoItems() []demoItem {
	var out []demoItem
	for i := 1; i <= DemoItemCount; i++ {
		it := demoItem{code: fmt.Sprintf("SKU-%03d", i), name: fmt.Sprintf("Demo Part %03d", i), warehouse: DemoStores, isStock: true}
		switch {
		case i <= 30:
			it.stock = float64(20 + (i*37)%180)
			it.lead = []int{5, 0, 7, 14, 3}[i%5]
		case i <= 40:
			it.lead = []int{0, 10, 21, 0, 5}[i%5]
		case i <= 45:
			it.stock = float64(10 * (i - 40))
			it.warehouse = DemoStoresEast
			if i == 45 {
				it.warehouse = DemoFinishedGoods
			}
			it.lead = 7
		case i == 46:
			it.name, it.isStock = "Installation Service", false
		case i == 47:
			it.name, it.isStock = "Extended Warranty", false
		case i == 48:
			it.name, it.disabled, it.stock, it.lead = "Discontinued Part", true, 0, 0
		case i == 49:
			it.name, it.stock, it.lead = "Boxed Fastener", 60, 4
		case i == 50:
			it.name, it.stock, it.lead = "Contended Widget", 20, 0
		}
		switch it.code {
		case DemoItemInStock:
			it.stock, it.lead = 120, 5
		case DemoItemPartlyIn:
			it.stock = 30
		case DemoItemNoSupply:
			it.lead = 0
		case DemoItemLeadTime:
			it.lead = 10
		}
		out = append(out, it)
	}
	return out
}

// loadDemoData inserts the demo data set through the normal code path, one
// transaction per document, so Bins are the result of real bookkeeping.
func (s *Sandbox) loadDemoData() error {
	today := s.now()
	day := func(n int) string { return today.AddDate(0, 0, n).Format("2006-01-02") }
	var names DemoData
	ins := func(doctype string, doc map[string]any) (string, error) {
		var name string
		err := s.run(Administrator, func(t *tx) error {
			d, err := t.insert(doctype, doc)
			if err != nil {
				return fmt.Errorf("%s: %w", doctype, err)
			}
			name = d.name()
			return nil
		})
		return name, err
	}
	mustIns := func(doctype string, doc map[string]any) string {
		n, err := ins(doctype, doc)
		if err != nil {
			panic(err)
		}
		return n
	}
	var loadErr error
	func() {
		defer func() {
			if r := recover(); r != nil {
				if e, ok := r.(error); ok {
					loadErr = e
					return
				}
				panic(r)
			}
		}()
		mustIns("Holiday List", demoHolidays(today))
		mustIns("Company", map[string]any{"company_name": DemoCompany, "abbr": DemoAbbr, "default_currency": "EUR",
			"country": "France", "default_holiday_list": DemoHolidayList})
		mustIns("Warehouse", map[string]any{"warehouse_name": "All Warehouses", "company": DemoCompany, "is_group": 1})
		for _, w := range []struct{ name, typ string }{{"Stores", ""}, {"Stores East", ""}, {"Finished Goods", ""},
			{"Goods In Transit", "Transit"}, {"Work In Progress", ""}} {
			doc := map[string]any{"warehouse_name": w.name, "company": DemoCompany, "parent_warehouse": DemoAllWarehouses}
			if w.typ != "" {
				doc["warehouse_type"] = w.typ
			}
			mustIns("Warehouse", doc)
		}
		for _, c := range []string{DemoCustomer, DemoCustomer2, DemoCustomer3} {
			mustIns("Customer", map[string]any{"customer_name": c, "customer_group": "Commercial", "territory": "France"})
		}
		for _, sup := range []string{DemoSupplier, DemoSupplier2} {
			mustIns("Supplier", map[string]any{"supplier_name": sup, "supplier_group": "Hardware"})
		}
		items := demoItems()
		for _, it := range items {
			doc := map[string]any{"item_code": it.code, "item_name": it.name, "item_group": "Products",
				"stock_uom": DemoUOM, "is_stock_item": boolInt(it.isStock), "lead_time_days": it.lead, "valuation_rate": 10.0}
			if it.code == DemoItemBox {
				doc["uoms"] = []any{map[string]any{"uom": DemoUOM, "conversion_factor": 1.0},
					map[string]any{"uom": DemoBoxUOM, "conversion_factor": DemoBoxFactor}}
				doc["purchase_uom"] = DemoBoxUOM
				doc["sales_uom"] = DemoBoxUOM
			}
			mustIns("Item", doc)
		}
		var rows []any
		for _, it := range items {
			if it.stock > 0 {
				rows = append(rows, map[string]any{"item_code": it.code, "qty": it.stock, "t_warehouse": it.warehouse, "basic_rate": 10.0})
			}
		}
		names.StockEntry = mustIns("Stock Entry", map[string]any{"stock_entry_type": "Material Receipt", "company": DemoCompany,
			"posting_date": day(-30), "set_posting_time": 1, "items": rows, "docstatus": 1})

		// order makes the Purchase or Sales Order inserter: the party, a
		// transaction date days from today, the lines from Stores.
		order := func(doctype, partyField string) func(party string, txDays int, lines []map[string]any, submit bool) string {
			return func(party string, txDays int, lines []map[string]any, submit bool) string {
				doc := map[string]any{partyField: party, "company": DemoCompany, "transaction_date": day(txDays),
					"set_warehouse": DemoStores, "items": toAnyList(lines)}
				if submit {
					doc["docstatus"] = 1
				}
				return mustIns(doctype, doc)
			}
		}
		po, so := order("Purchase Order", "supplier"), order("Sales Order", "customer")
		names.OpenPO = po(DemoSupplier, -10, []map[string]any{{"item_code": DemoItemContended, "qty": 40, "rate": 8.0,
			"schedule_date": day(7), "expected_delivery_date": day(7)}}, true)
		names.ScheduleOnlyPO = po(DemoSupplier, -5, []map[string]any{{"item_code": DemoItemNoStock, "qty": 100, "rate": 3.0,
			"schedule_date": day(14)}}, true)
		names.OverduePO = po(DemoSupplier2, -30, []map[string]any{{"item_code": DemoItemOverdue, "qty": 20, "rate": 5.0,
			"schedule_date": day(-5), "expected_delivery_date": day(-5)}}, true)
		names.FarPO = po(DemoSupplier2, -2, []map[string]any{{"item_code": DemoItemFarPO, "qty": 50, "rate": 2.0,
			"schedule_date": day(60)}}, true)
		names.BoxPO = po(DemoSupplier, -3, []map[string]any{{"item_code": DemoItemBox, "qty": 10, "uom": DemoBoxUOM, "rate": 60.0,
			"schedule_date": day(10), "expected_delivery_date": day(10)}}, true)
		names.PartlyReceivedPO = po(DemoSupplier, -15, []map[string]any{{"item_code": DemoItemPartlyIn, "qty": 30, "rate": 4.0,
			"schedule_date": day(-1), "expected_delivery_date": day(4)}}, true)
		names.DraftPO = po(DemoSupplier2, 0, []map[string]any{{"item_code": "SKU-034", "qty": 15, "rate": 1.0,
			"schedule_date": day(20)}}, false)

		pog := s.mustGet("Purchase Order", names.PartlyReceivedPO)
		poRow := pog.Tables["items"][0]
		names.PurchaseReceipt = mustIns("Purchase Receipt", map[string]any{"supplier": DemoSupplier, "company": DemoCompany,
			"posting_date": day(-1), "set_posting_time": 1, "docstatus": 1, "items": []any{map[string]any{
				"item_code": DemoItemPartlyIn, "qty": 10, "warehouse": DemoStores, "purchase_order": names.PartlyReceivedPO,
				"purchase_order_item": poRow.name(), "rate": 4.0}}})

		names.ContendedSO1 = so(DemoCustomer, -3, []map[string]any{{"item_code": DemoItemContended, "qty": 30, "rate": 25.0, "delivery_date": day(3)}}, true)
		names.ContendedSO2 = so(DemoCustomer2, -1, []map[string]any{{"item_code": DemoItemContended, "qty": 25, "rate": 25.0, "delivery_date": day(10)}}, true)
		names.PastDueSO = so(DemoCustomer3, -20, []map[string]any{{"item_code": DemoItemInStock, "qty": 5, "rate": 12.0, "delivery_date": day(-2)}}, true)
		names.MultiLineSO = so(DemoCustomer, -2, []map[string]any{
			{"item_code": DemoItemPartlyIn, "qty": 10, "rate": 9.0, "delivery_date": day(5)},
			{"item_code": DemoItemBox, "qty": 2, "uom": DemoBoxUOM, "rate": 90.0, "delivery_date": day(6)},
			{"item_code": DemoItemService, "qty": 1, "rate": 150.0, "delivery_date": day(6)},
		}, true)
		names.DraftSO = so(DemoCustomer2, 0, []map[string]any{{"item_code": DemoItemContended, "qty": 10, "rate": 25.0, "delivery_date": day(7)}}, false)
		names.DraftSO2 = so(DemoCustomer3, 0, []map[string]any{{"item_code": DemoItemNoStock, "qty": 5, "rate": 7.0, "delivery_date": day(21)}}, false)
		names.ClosedSO = so(DemoCustomer2, -10, []map[string]any{{"item_code": DemoItemInStock, "qty": 8, "rate": 12.0, "delivery_date": day(4)}}, true)
		names.OnHoldSO = so(DemoCustomer3, -4, []map[string]any{{"item_code": "SKU-004", "qty": 3, "rate": 11.0, "delivery_date": day(8)}}, true)
		names.DeliveredSO = so(DemoCustomer, -8, []map[string]any{{"item_code": DemoItemDelivered, "qty": 4, "rate": 10.0, "delivery_date": day(-1)}}, true)

		for _, st := range []struct{ name, status string }{{names.ClosedSO, "Closed"}, {names.OnHoldSO, "On Hold"}} {
			if err := s.run(Administrator, func(t *tx) error {
				_, err := t.updateStatus("Sales Order", st.name, st.status)
				return err
			}); err != nil {
				panic(err)
			}
		}
		sog := s.mustGet("Sales Order", names.DeliveredSO)
		soRow := sog.Tables["items"][0]
		names.DeliveryNote = mustIns("Delivery Note", map[string]any{"customer": DemoCustomer, "company": DemoCompany,
			"posting_date": day(-1), "set_posting_time": 1, "docstatus": 1, "items": []any{map[string]any{
				"item_code": DemoItemDelivered, "qty": 4, "warehouse": DemoStores, "against_sales_order": names.DeliveredSO,
				"so_detail": soRow.name(), "rate": 10.0}}})
		mustIns2 := func(code string) {
			if err := s.run(Administrator, func(t *tx) error {
				_, err := t.update("Item", code, map[string]any{"disabled": 1})
				return err
			}); err != nil {
				panic(err)
			}
		}
		mustIns2(DemoItemDisabled)
	}()
	if loadErr != nil {
		return loadErr
	}
	s.mu.Lock()
	s.demo = names
	s.mu.Unlock()
	return nil
}

func (s *Sandbox) mustGet(doctype, name string) *document {
	s.mu.RLock()
	defer s.mu.RUnlock()
	d := s.docs[doctype][nameKey(name)]
	if d == nil {
		panic(fmt.Errorf("demo: %s %s missing", doctype, name))
	}
	return d
}

func toAnyList(rows []map[string]any) []any {
	out := make([]any, len(rows))
	for i, r := range rows {
		out[i] = r
	}
	return out
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// demoHolidays covers this year and next: Saturdays and Sundays as weekly
// offs (rows with weekly_off=1, as ERPNext generates them) and public
// holidays on weekdays.
func demoHolidays(today time.Time) map[string]any {
	y := today.Year()
	from := time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC)
	to := time.Date(y+1, 12, 31, 0, 0, 0, 0, time.UTC)
	public := map[string]string{}
	for _, yy := range []int{y, y + 1} {
		for _, h := range []struct {
			m    time.Month
			d    int
			desc string
		}{{time.January, 1, "New Year's Day"}, {time.May, 1, "Labour Day"}, {time.July, 14, "Bastille Day"},
			{time.August, 15, "Assumption"}, {time.December, 25, "Christmas Day"}, {time.December, 26, "Boxing Day"}} {
			public[time.Date(yy, h.m, h.d, 0, 0, 0, 0, time.UTC).Format("2006-01-02")] = h.desc
		}
	}
	var rows []any
	for d := from; !d.After(to); d = d.AddDate(0, 0, 1) {
		ds := d.Format("2006-01-02")
		switch {
		case d.Weekday() == time.Saturday || d.Weekday() == time.Sunday:
			rows = append(rows, map[string]any{"holiday_date": ds, "description": d.Weekday().String(), "weekly_off": 1})
		case public[ds] != "":
			rows = append(rows, map[string]any{"holiday_date": ds, "description": public[ds], "weekly_off": 0})
		}
	}
	return map[string]any{"holiday_list_name": DemoHolidayList, "from_date": from.Format("2006-01-02"),
		"to_date": to.Format("2006-01-02"), "holidays": rows}
}
