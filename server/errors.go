package server

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/erpnext-otp/otp/erp"
	"github.com/erpnext-otp/otp/quote"
)

// Error is an error with the HTTP status and JSON body it is answered with:
// {"error": Message, "detail": Detail}.
type Error struct {
	Status  int
	Message string
	Detail  any
	Err     error // the cause, for logs and errors.Is; never sent
}

func (e *Error) Error() string {
	if e.Err != nil {
		return e.Message + ": " + e.Err.Error()
	}
	return e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// errorBody is every error response's shape.
type errorBody struct {
	Error  string `json:"error"`
	Detail any    `json:"detail,omitempty"`
}

func badRequest(msg string, detail any) *Error {
	return &Error{Status: http.StatusBadRequest, Message: msg, Detail: detail}
}

func unauthorized(msg string) *Error {
	return &Error{Status: http.StatusUnauthorized, Message: msg}
}

func unavailable(msg string, cause error) *Error {
	return &Error{Status: http.StatusServiceUnavailable, Message: msg, Err: cause}
}

// handleError is the one place an error becomes a status and a JSON body.
// Anything it does not recognise is a 500 whose cause is logged, not sent.
func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	var (
		apiErr   *Error
		httpErr  *echo.HTTPError
		tooBig   *http.MaxBytesError
		quoteErr *quote.Error
		erpErr   *erp.Error
		status   int
		body     errorBody
	)
	switch {
	case errors.As(err, &apiErr):
		status, body = apiErr.Status, errorBody{Error: apiErr.Message, Detail: apiErr.Detail}
	case errors.As(err, &quoteErr):
		status, body = quoteErr.Status, errorBody{Error: quoteErr.Message, Detail: quoteErr.Detail}
	case errors.As(err, &tooBig):
		status, body = http.StatusRequestEntityTooLarge, errorBody{Error: "request body too large", Detail: map[string]int64{"limit_bytes": tooBig.Limit}}
	case errors.As(err, &httpErr):
		status = httpErr.Code
		msg, ok := httpErr.Message.(string)
		if !ok || msg == "" {
			msg = http.StatusText(status)
		}
		// The earlier OTP (FastAPI) answered every HTTP error as
		// {"detail": "<text>"}, Echo's own 404 and 405 included:
		// {"detail":"Not Found"}, {"detail":"Method Not Allowed"}
		// (docs/quote-api.md#the-earlier-otp). Clients read detail; error stays for ours.
		body = errorBody{Error: msg, Detail: msg}
	// ERPNext's errors, on the quote API's routes (webhooks never call it).
	case quote.IsUnavailable(err):
		status, body = http.StatusServiceUnavailable, errorBody{Error: "ERPNext unavailable", Detail: "ERPNext unavailable: " + err.Error()}
		if errors.As(err, &erpErr) && erpErr.RetryAfter > 0 {
			c.Response().Header().Set("Retry-After", strconv.Itoa(int(erpErr.RetryAfter.Seconds()+0.999)))
		}
	case errors.As(err, &erpErr):
		status, body = http.StatusBadGateway, errorBody{Error: "ERPNext error", Detail: "ERPNext returned error: " + err.Error()}
	default:
		status, body = http.StatusInternalServerError, errorBody{Error: "internal server error"}
	}
	if status >= 500 {
		s.log.ErrorContext(c.Request().Context(), "request failed", "method", c.Request().Method, "path", c.Request().URL.Path, "status", status, "err", err)
	}
	if c.Request().Method == http.MethodHead {
		err = c.NoContent(status)
	} else {
		err = c.JSON(status, body)
	}
	if err != nil {
		s.log.Warn("write error response", "err", err)
	}
}
