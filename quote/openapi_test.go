package quote_test

import (
	"crypto/sha256"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/labstack/echo/v4"

	"github.com/erpnext-otp/otp/quote"
)

// openAPISHA256 is the SHA-256 of openapi.json as the earlier OTP's
// clients know it: the document changes only on purpose, with this line.
const openAPISHA256 = "5a360917a0a17798cde11fc6fa90a0f92d0c10e3d35e18d329eb51d75f959e3d"

func TestOpenAPIUnchanged(t *testing.T) {
	if got := fmt.Sprintf("%x", sha256.Sum256([]byte(quote.OpenAPIDocument))); got != openAPISHA256 {
		t.Errorf("openapi.json's SHA-256 is %s, want %s: the quote API's description changed", got, openAPISHA256)
	}
}

func TestOpenAPIServedAsWritten(t *testing.T) {
	q := MustQuoteEnv(t)
	status, body := q.call(t, http.MethodGet, "/openapi.json", nil)
	if status != http.StatusOK || string(body) != quote.OpenAPIDocument {
		t.Errorf("GET /openapi.json: status %d, %d bytes; want 200 and the embedded document (%d bytes)", status, len(body), len(quote.OpenAPIDocument))
	}
}

// TestOpenAPIDescribesEveryQuoteRoute: the description and the route table
// name the same operations (MustSpec has already validated the document).
func TestOpenAPIDescribesEveryQuoteRoute(t *testing.T) {
	q := MustQuoteEnv(t)
	var routed []string
	for _, r := range q.srv.Handler().(*echo.Echo).Routes() {
		if strings.HasPrefix(r.Path, "/otp/") || strings.HasPrefix(r.Path, "/api/") || r.Path == "/openapi.json" {
			// Echo's ":id" is OpenAPI's "{sales_order_id}".
			routed = append(routed, r.Method+" "+strings.Replace(r.Path, ":id", "{sales_order_id}", 1))
		}
	}
	var described []string
	for path, item := range q.spec.doc.Paths.Map() {
		for method := range item.Operations() {
			described = append(described, method+" "+path)
		}
	}
	slices.Sort(routed)
	slices.Sort(described)
	if diff := cmp.Diff(described, routed); diff != "" {
		t.Errorf("routes (-described +routed):\n%s", diff)
	}
}

// TestOpenAPIRejectsWhatHandlersReject: requests the handlers refuse with
// 422 are refused by the description too, where OpenAPI can say why.
func TestOpenAPIRejectsWhatHandlersReject(t *testing.T) {
	q := MustQuoteEnv(t)
	for _, tt := range []struct{ path, body string }{
		{"/otp/promise", `{"customer":"C","items":[]}`},
		{"/otp/promise", `{"items":[{"item_code":"SKU-001","qty":1}]}`},
		{"/otp/promise", `{"customer":"C","items":[{"item_code":"SKU-001","qty":0}]}`},
		{"/otp/promise", `{"customer":"C","items":[{"item_code":"SKU-001","qty":1}],"desired_date":"soon"}`},
		{"/otp/promise", `{"customer":"C","items":[{"item_code":"SKU-001","qty":1}],"rules":{"desired_date_mode":"X"}}`},
		{"/otp/promise", `{"customer":"C","items":[{"item_code":"SKU-001","qty":1}],"rules":{"lead_time_buffer_days":-1}}`},
		{"/otp/apply", `{"sales_order_id":"X","promise_date":"2026-12-04","confidence":"SURE"}`},
		{"/otp/apply", `{"sales_order_id":"X","promise_date":"2026-12-04","confidence":"HIGH","action":"delete"}`},
		{"/otp/procurement-suggest", `{"items":[{"item_code":"SKU-001","qty_needed":1,"reason":"r"}]}`},
	} {
		status, _ := q.call(t, http.MethodPost, tt.path, tt.body)
		if status != http.StatusUnprocessableEntity {
			t.Errorf("POST %s %s: status %d, want 422", tt.path, tt.body, status)
			continue
		}
		if err := q.spec.validateRequest(http.MethodPost, tt.path, tt.body); err == nil {
			t.Errorf("POST %s %s: the handler answers 422 but openapi.json accepts it", tt.path, tt.body)
		}
	}
}
