package quote

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/erpnext-otp/otp/accuracy"
	"github.com/erpnext-otp/otp/planner"
)

// errReportOff answers the report when no history reader is wired.
var errReportOff = &Error{Status: http.StatusServiceUnavailable, Message: "accuracy report not configured",
	Detail: "ERPNext unavailable: the server has no reader of deliveries and receipts"}

// AccuracyReport is GET /otp/report/accuracy?from=&to=[&company=]: how
// often the promises of the lines delivered in [from, to] were kept
// (docs/accuracy.md), read from ERPNext on the request.
func (a *API) AccuracyReport(c echo.Context) error {
	var ch checker
	loc := []any{"query"}
	params := queryParams(c)
	from := ch.date(params, "from", loc, true)
	to := ch.date(params, "to", loc, true)
	company, _ := ch.str(params, "company", loc, false)
	if ch.ok() && (from > to || from.DaysUntil(to) >= planner.MaxReportDays) {
		ch.add("value_error", at(loc, "to"), "to must be on or after from, at most a year later", to.String(), nil)
	}
	if !ch.ok() {
		return validationFailed(ch.errs)
	}
	if a.deps.History == nil {
		return errReportOff
	}
	ctx := c.Request().Context()
	qc, err := a.request(ctx)
	if err != nil {
		return err
	}
	r, err := qc.planner.AccuracyReport(ctx, from, to, company, a.deps.Probabilities)
	if errors.Is(err, accuracy.ErrInvalidInput) {
		return &Error{Status: http.StatusUnprocessableEntity, Message: "validation failed", Detail: err.Error()}
	}
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, r)
}
