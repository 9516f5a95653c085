package quote

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/erpnext-otp/otp/quote/internal/fastapi"
)

// The quote API reads its requests the way the earlier OTP's FastAPI and
// pydantic v2 did (package fastapi, docs/quote-api.md#the-earlier-otp): each
// request type states its fields and constraints as struct tags.
//
// Where the earlier OTP accepted a value it then failed on (a cutoff that is
// not HH:MM, an unknown timezone: a 500 there, docs/erpnext.md#the-webhook-document), the value is a 422 here.

// fieldError is one validation error in FastAPI's shape.
type fieldError = fastapi.FieldError

// validationFailed is the 422 for a list of field errors.
func validationFailed(errs []fieldError) *Error {
	return &Error{Status: http.StatusUnprocessableEntity, Message: "validation failed", Detail: errs}
}

// queryParams is the query string as an object of strings; empty values
// count as absent.
func queryParams(c echo.Context) map[string]any {
	m := map[string]any{}
	for k, vs := range c.QueryParams() {
		if len(vs) > 0 && vs[0] != "" {
			m[k] = vs[0]
		}
	}
	return m
}
