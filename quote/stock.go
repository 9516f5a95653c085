package quote

import (
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/erpnext-otp/otp/erp"
)

// stockResponse is GET /api/items/stock (v1 docs/erpnext.md#headers).
type stockResponse struct {
	ItemCode       string  `json:"item_code"`
	Warehouse      string  `json:"warehouse"`
	StockActual    float64 `json:"stock_actual"`
	StockReserved  float64 `json:"stock_reserved"`
	StockAvailable float64 `json:"stock_available"`
	StockProjected float64 `json:"stock_projected"`
}

// stockQuery is GET /api/items/stock's query string. Blank values are a
// 400, not a 422, as in the earlier OTP.
type stockQuery struct {
	ItemCode  *string `json:"item_code" validate:"required"`
	Warehouse *string `json:"warehouse" validate:"required"`
}

// ItemStock is GET /api/items/stock?item_code=&warehouse=: one Bin.
//
// Both parameters are required (422 when missing, 400 when blank, as in the
// earlier OTP). stock_available is on hand minus reserved, never negative
// (docs/quote-api.md#what-differs-from-the-earlier-otp-and-why). An item and warehouse that both exist but have no Bin have never
// held stock there: 200 with zeros. An item or warehouse ERPNext does not
// have is a 404 naming it (the earlier OTP answered 404 for both cases).
// Names compare without case, as in ERPNext, and the reply spells them as
// ERPNext does.
func (a *API) ItemStock(c echo.Context) error {
	params := map[string]any{}
	for _, k := range []string{"item_code", "warehouse"} {
		if vs, ok := c.QueryParams()[k]; ok && len(vs) > 0 {
			params[k] = vs[0]
		}
	}
	var p stockQuery
	if errs := a.fields.BindQuery(params, &p); errs != nil {
		return validationFailed(errs)
	}
	item, wh := strings.TrimSpace(*p.ItemCode), strings.TrimSpace(*p.Warehouse)
	switch {
	case item == "":
		return &Error{Status: http.StatusBadRequest, Message: "bad request", Detail: "item_code is required"}
	case wh == "":
		return &Error{Status: http.StatusBadRequest, Message: "bad request", Detail: "warehouse is required"}
	}
	ctx := c.Request().Context()
	q, err := a.request(ctx)
	if err != nil {
		return err
	}
	bins, err := q.erp.Bins(ctx, []string{item}, []string{wh})
	if err != nil {
		return err
	}
	resp := stockResponse{ItemCode: item, Warehouse: wh}
	for _, b := range bins {
		if strings.EqualFold(b.ItemCode, item) && strings.EqualFold(b.Warehouse, wh) {
			// ERPNext matched the names without case: answer with its spelling.
			resp.ItemCode, resp.Warehouse = b.ItemCode, b.Warehouse
			resp.StockActual, resp.StockReserved, resp.StockProjected = b.ActualQty, b.ReservedQty, b.ProjectedQty
			resp.StockAvailable = max(0, b.ActualQty-b.ReservedQty)
			return c.JSON(http.StatusOK, resp)
		}
	}
	// No Bin: find out which of the two ERPNext does not have.
	items, err := q.erp.Items(ctx, []string{item})
	if err != nil {
		return err
	}
	if len(items) == 0 {
		return notFound(fmt.Sprintf("Item '%s' not found", item))
	}
	resp.ItemCode = items[0].Code
	// A list read, not GET by name: list filters and names compare in the
	// database's collation, without case, whatever the API's route does.
	whs, err := q.erp.Warehouses(ctx, "") // any company's, as a GET by name found
	if err != nil {
		return err
	}
	i := slices.IndexFunc(whs, func(w erp.Warehouse) bool { return strings.EqualFold(w.Name, wh) })
	if i < 0 {
		return notFound(fmt.Sprintf("Warehouse '%s' not found", wh))
	}
	resp.Warehouse = whs[i].Name
	return c.JSON(http.StatusOK, resp)
}
