package quote

import "github.com/erpnext-otp/otp/promise"

// What the tests (package quote_test, which mounts the API on server's
// routes) read of the decoder.
type (
	FieldError     = fieldError
	PromiseRequest = promiseRequest
)

var OpenAPIDocument = openAPI

// DecodePromiseRequest is decodePromiseRequest with the API's validator.
func DecodePromiseRequest(body []byte, base promise.Rules) (PromiseRequest, []FieldError) {
	return decodePromiseRequest(newValidator(), body, base)
}

const (
	MaxQty        = maxQty
	MaxQuoteLines = maxQuoteLines
	MaxRuleDays   = maxRuleDays
)
