package quote

import (
	_ "embed"
	"net/http"

	"github.com/labstack/echo/v4"
)

// openAPI is the OpenAPI 3 description of the quote API, written by hand
// and checked against the handlers by openapi_test.go: every test request
// and response of a quote endpoint is validated against it.
//
//go:embed openapi.json
var openAPI string

// OpenAPI is GET /openapi.json.
func (a *API) OpenAPI(c echo.Context) error {
	return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, []byte(openAPI))
}
