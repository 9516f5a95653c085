package quote

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/erpnext-otp/otp/erp"
	"github.com/erpnext-otp/otp/planner"
	"github.com/erpnext-otp/otp/promise"
)

// Error is an answer other than 2xx that the quote API decides itself.
// server's error mapper writes it as {"error": Message, "detail": Detail};
// ERPNext's own errors reach the mapper as they are.
type Error struct {
	Status  int
	Message string
	Detail  any
}

func (e *Error) Error() string { return e.Message }

// notFound is a 404 in the earlier OTP's shape: {"detail": msg}.
func notFound(msg string) *Error {
	return &Error{Status: http.StatusNotFound, Message: "not found", Detail: msg}
}

// Answers is the middleware of every quote route, innermost: it turns the
// planner's and the engine's errors into the quote API's answers. ERPNext's
// own errors pass as they are, for server's error mapper.
func Answers(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		err := next(c)
		var unknown *planner.NotFoundError
		switch {
		case err == nil:
		case errors.As(err, &unknown):
			return notFound(unknownDetail(unknown))
		case IsUnavailable(err):
		case errors.Is(err, promise.ErrInvalidInput):
			return validationFailed([]fieldError{
				{Type: "value_error", Loc: []any{"body"}, Msg: "Value error, " + err.Error(), Input: nil},
			})
		}
		return err
	}
}

// unknownDetail names what a quote asked for that ERPNext does not have:
// "Item 'X' not found".
func unknownDetail(e *planner.NotFoundError) string {
	kind := e.Kind
	if kind != "" {
		kind = strings.ToUpper(kind[:1]) + kind[1:]
	}
	return fmt.Sprintf("%s '%s' not found", kind, e.Name)
}

// IsUnavailable reports an ERPNext that cannot answer now: transport
// errors, timeouts, 5xx, 429 and an open circuit breaker (erp.IsRetryable),
// or the request's own deadline passing while waiting for it. The quote
// API answers these 503.
func IsUnavailable(err error) bool {
	return erp.IsRetryable(err) || errors.Is(err, context.DeadlineExceeded)
}
