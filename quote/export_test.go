package quote

// What the tests (package quote_test, which mounts the API on server's
// routes) read of the decoder.
type (
	FieldError     = fieldError
	PromiseRequest = promiseRequest
)

var (
	DecodePromiseRequest = decodePromiseRequest
	OpenAPIDocument      = openAPI
)

const (
	MaxQty        = maxQty
	MaxQuoteLines = maxQuoteLines
	MaxRuleDays   = maxRuleDays
)
