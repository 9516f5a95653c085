package quote

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/erpnext-otp/otp/accuracy"
	"github.com/erpnext-otp/otp/planner"
	"github.com/erpnext-otp/otp/promise"
)

// errReportOff answers the report when no history reader is wired.
var errReportOff = &Error{Status: http.StatusServiceUnavailable, Message: "accuracy report not configured",
	Detail: "ERPNext unavailable: the server has no reader of deliveries and receipts"}

// reportQuery is GET /otp/report/accuracy's query string.
type reportQuery struct {
	From    *promise.Date `json:"from" validate:"required"`
	To      *promise.Date `json:"to" validate:"required"`
	Company *string       `json:"company"`
}

// AccuracyReport is GET /otp/report/accuracy?from=&to=[&company=]: how
// often the promises of the lines delivered in [from, to] were kept
// (docs/accuracy.md), read from ERPNext on the request.
func (a *API) AccuracyReport(c echo.Context) error {
	var p reportQuery
	if errs := a.fields.BindQuery(queryParams(c), &p); errs != nil {
		return validationFailed(errs)
	}
	from, to, company := *p.From, *p.To, deref(p.Company, "")
	if from > to || from.DaysUntil(to) >= planner.MaxReportDays {
		return validationFailed([]fieldError{{Type: "value_error", Loc: []any{"query", "to"},
			Msg: "to must be on or after from, at most a year later", Input: to.String()}})
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
