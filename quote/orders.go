package quote

import (
	"cmp"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/erpnext-otp/otp/erp"
	"github.com/erpnext-otp/otp/promise"
)

// deliveryModel is what the earlier OTP's SO details offered as the UI's
// default desired-date mode (its DELIVERY_MODEL setting, docs/erpnext.md#the-request-body).
const deliveryModel = "latest_acceptable"

// salesOrderRow is one row of GET /otp/sales-orders (v1 docs/erpnext.md#queueing-and-deduplication, plus customer_name).
type salesOrderRow struct {
	Name            string     `json:"name"`
	Customer        string     `json:"customer"`
	CustomerName    nullString `json:"customer_name"`
	TransactionDate string     `json:"transaction_date"`
	DeliveryDate    nullString `json:"delivery_date"`
	Status          nullString `json:"status"`
	GrandTotal      float64    `json:"grand_total"`
}

// salesOrdersQuery is GET /otp/sales-orders's query string.
type salesOrdersQuery struct {
	Limit    *int          `json:"limit" validate:"omitempty,gte=1,lte=100"`
	Offset   *int          `json:"offset" validate:"omitempty,gte=0,lte=1073741824"`
	Customer *string       `json:"customer"`
	Status   *string       `json:"status"`
	Search   *string       `json:"search"`
	FromDate *promise.Date `json:"from_date"`
	ToDate   *promise.Date `json:"to_date"`
}

// SalesOrders is GET /otp/sales-orders: draft and submitted orders for
// a UI's dropdown, newest first, filtered and paged as in the earlier OTP.
// There is no cache: every call is one ERPNext request, so a new order shows
// at once (the earlier OTP's cache was unbounded and never invalidated, docs/quote-api.md#what-differs-from-the-earlier-otp-and-why).
func (a *API) SalesOrders(c echo.Context) error {
	var p salesOrdersQuery
	if errs := a.fields.BindQuery(queryParams(c), &p); errs != nil {
		return validationFailed(errs)
	}
	q := erp.SalesOrderQuery{
		Limit: deref(p.Limit, 20), Offset: deref(p.Offset, 0),
		Customer: deref(p.Customer, ""), Status: deref(p.Status, ""), Search: deref(p.Search, ""),
	}
	if p.FromDate != nil {
		q.FromDate = p.FromDate.String()
	}
	if p.ToDate != nil {
		q.ToDate = p.ToDate.String()
	}
	ctx := c.Request().Context()
	qc, err := a.request(ctx)
	if err != nil {
		return err
	}
	orders, err := qc.erp.SalesOrders(ctx, q)
	if err != nil {
		return err
	}
	rows := make([]salesOrderRow, 0, len(orders))
	for _, o := range orders {
		rows = append(rows, salesOrderRow{
			Name:            o.Name,
			Customer:        o.Customer,
			CustomerName:    nullString(o.CustomerName),
			TransactionDate: o.TransactionDate,
			DeliveryDate:    nullString(o.DeliveryDate),
			Status:          nullString(o.Status),
			GrandTotal:      o.GrandTotal,
		})
	}
	return c.JSON(http.StatusOK, rows)
}

// salesOrderDetail is GET /otp/sales-orders/{id} (v1 docs/erpnext.md#the-request-body).
type salesOrderDetail struct {
	ID              string            `json:"id"`
	CustomerName    string            `json:"customer_name"`
	TransactionDate string            `json:"transaction_date"`
	DeliveryDate    nullString        `json:"delivery_date"`
	Status          nullString        `json:"status"`
	GrandTotal      float64           `json:"grand_total"`
	Items           []salesOrderLine  `json:"items"`
	Defaults        salesOrderDefault `json:"defaults"`
	// The promise OTP last wrote on the order (docs/erpnext.md#otps-custom-fields).
	PromiseDate nullString `json:"otp_promise_date"`
	Confidence  nullString `json:"otp_confidence"`
}

type salesOrderLine struct {
	ItemCode       string  `json:"item_code"`
	ItemName       string  `json:"item_name"`
	Qty            float64 `json:"qty"`
	UOM            string  `json:"uom"`
	Warehouse      string  `json:"warehouse"`
	StockActual    float64 `json:"stock_actual"`
	StockReserved  float64 `json:"stock_reserved"`
	StockAvailable float64 `json:"stock_available"`
}

type salesOrderDefault struct {
	Warehouse     string `json:"warehouse"`
	DeliveryModel string `json:"delivery_model"`
	CutoffTime    string `json:"cutoff_time"`
	NoWeekends    bool   `json:"no_weekends"`
}

// SalesOrder is GET /otp/sales-orders/{id}: the order with each line's
// stock, read in two requests (the order, then every line's Bin at once).
//
// stock_available is what this order can draw on: on hand minus what other
// orders have reserved, never negative. The earlier OTP subtracted the
// order's own reservation from itself and could go negative (docs/quote-api.md#what-differs-from-the-earlier-otp-and-why).
func (a *API) SalesOrder(c echo.Context) error {
	// Echo leaves a parameter escaped when the path was sent with escapes
	// it would not make itself ("SO%2F24-25%2F001" for ERPNext's
	// "SO/24-25/001" naming series): unescape it.
	id, err := url.PathUnescape(c.Param("id"))
	if err != nil {
		return notFound(fmt.Sprintf("Sales Order %s not found", c.Param("id")))
	}
	if id = strings.TrimSpace(id); id == "" {
		return notFound("Sales Order not found")
	}
	ctx := c.Request().Context()
	q, err := a.request(ctx)
	if err != nil {
		return err
	}
	so, err := q.erp.SalesOrder(ctx, id)
	if errors.Is(err, erp.ErrNotFound) {
		return notFound(fmt.Sprintf("Sales Order %s not found", id))
	}
	if err != nil {
		return err
	}

	stock, err := q.planner.OrderStock(ctx, so)
	if err != nil {
		return err
	}

	out := salesOrderDetail{
		ID:              so.Name,
		CustomerName:    cmp.Or(so.CustomerName, so.Customer, "Unknown"),
		TransactionDate: so.TransactionDate,
		DeliveryDate:    nullString(so.DeliveryDate),
		Status:          nullString(so.Status),
		GrandTotal:      so.GrandTotal,
		Items:           make([]salesOrderLine, 0, len(so.Items)),
		PromiseDate:     nullString(so.PromiseDate),
		Confidence:      nullString(so.Confidence),
	}
	for i, it := range so.Items {
		out.Items = append(out.Items, salesOrderLine{
			ItemCode:       it.ItemCode,
			ItemName:       it.ItemName,
			Qty:            it.Qty,
			UOM:            it.UOM,
			Warehouse:      stock[i].Warehouse,
			StockActual:    stock[i].Actual,
			StockReserved:  stock[i].Reserved,
			StockAvailable: stock[i].Available,
		})
	}
	out.Defaults = salesOrderDefault{
		Warehouse:     a.deps.Planner.DefaultWarehouse,
		DeliveryModel: deliveryModel,
		CutoffTime:    fmt.Sprintf("%02d:%02d", q.rules.CutoffHour, q.rules.CutoffMinute),
		NoWeekends:    q.rules.NoWeekends,
	}
	if so.SetWarehouse != "" {
		out.Defaults.Warehouse = so.SetWarehouse
	} else if len(stock) > 0 {
		out.Defaults.Warehouse = stock[0].Warehouse
	}
	return c.JSON(http.StatusOK, out)
}
