package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/erpnext-otp/otp/erp"
	"github.com/erpnext-otp/otp/planner"
	"github.com/erpnext-otp/otp/promise"
)

// The quote API: synchronous endpoints compatible with the earlier Python
// OTP (docs/quote-api.md#the-earlier-otp), one file per resource:
//
//	POST /otp/promise                 quote_promise.go
//	POST /otp/apply                   quote_apply.go
//	POST /otp/procurement-suggest     quote_procurement.go
//	GET  /otp/sales-orders[/{id}]     quote_orders.go
//	GET  /api/items/stock             quote_stock.go
//	GET  /otp/report/accuracy         report.go
//	GET  /openapi.json                openapi.go
//
// Unlike the webhooks, these ask ERPNext on the request path; when ERPNext
// cannot be reached they answer 503 (handleError), never 500.

// QuoteERP is what the quote API asks ERPNext; *erp.Client is one.
type QuoteERP interface {
	planner.Reader
	Companies(ctx context.Context) ([]string, error)
	SalesOrders(ctx context.Context, q erp.SalesOrderQuery) ([]erp.SalesOrderSummary, error)
	GetDoc(ctx context.Context, doctype, name string) (map[string]any, error)
	UpdateSalesOrder(ctx context.Context, so *erp.SalesOrder, fields map[string]any, lineFields map[string]map[string]any) (*erp.SalesOrder, error)
	AddComment(ctx context.Context, doctype, name, content string) error
	CreateMaterialRequest(ctx context.Context, mr erp.MaterialRequest) (string, error)
	BaseURL() string
}

// QuoteDeps wire the quote API. With a nil ERP its endpoints answer 503.
type QuoteDeps struct {
	ERP QuoteERP
	// Company whose calendar and warehouses quotes use (OTP_COMPANY). Empty
	// means the site's only company, asked from ERPNext on the first quote.
	Company string
	// DefaultWarehouse is used for lines that name none (OTP_DEFAULT_WAREHOUSE).
	DefaultWarehouse string
	// Rules are the configured promise rules; a request's "rules" override
	// them field by field. A nil Location means promise.DefaultRules().
	Rules promise.Rules
	// Weekend is the configured weekend (OTP_WEEKEND_DAYS), for sites whose
	// holiday list is not readable.
	Weekend []time.Weekday
	// History reads deliveries and receipts: the accuracy report
	// (server/report.go) and OTP_CONFIDENCE_MODE=history need it; nil
	// answers the report with 503.
	History planner.HistoryReader
	// SupplierWindowDays (OTP_SUPPLIER_WINDOW_DAYS) and Probabilities
	// (OTP_ACCURACY_PROBABILITIES) are the report's.
	SupplierWindowDays int
	Probabilities      map[promise.Confidence]float64
}

// quoteState is the quote API's planner, built on first use once the
// company is known.
type quoteState struct {
	mu      sync.Mutex
	planner *planner.Planner
	company string
}

// quoteCtx is what one quote API request works with.
type quoteCtx struct {
	erp     QuoteERP
	planner *planner.Planner
	company string
	rules   promise.Rules
}

// errQuoteOff answers the quote API when no ERPNext is wired.
var errQuoteOff = &Error{Status: http.StatusServiceUnavailable, Message: "quote API not configured",
	Detail: "ERPNext unavailable: the quote API has no ERPNext client"}

// quote returns the request's quote context, building the planner on the
// first call. The company is OTP_COMPANY, else the site's only company; a
// site with several and no OTP_COMPANY gets a weekend-only calendar and
// unchecked warehouses, with a warning.
func (s *Server) quote(ctx context.Context) (*quoteCtx, error) {
	d := s.deps.Quote
	if d.ERP == nil {
		return nil, errQuoteOff
	}
	rules := s.quoteRules()
	st := s.quoteState
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.planner == nil {
		company := d.Company
		if company == "" {
			companies, err := d.ERP.Companies(ctx)
			if err != nil {
				return nil, fmt.Errorf("server: find the company for quotes: %w", err)
			}
			if len(companies) == 1 {
				company = companies[0]
			} else {
				s.log.WarnContext(ctx, "OTP_COMPANY is unset and the site does not have exactly one company: quotes use the configured weekend and do not check warehouses",
					"companies", len(companies))
			}
		}
		st.company = company
		opts := []planner.Option{planner.WithClock(s.deps.Now), planner.WithLogger(s.log.With("component", "quote"))}
		if d.History != nil {
			opts = append(opts, planner.WithHistory(d.History))
		}
		st.planner = planner.New(d.ERP, planner.Config{
			Company:            company,
			DefaultWarehouse:   d.DefaultWarehouse,
			Rules:              rules,
			Weekend:            d.Weekend,
			SupplierWindowDays: d.SupplierWindowDays,
		}, opts...)
	}
	return &quoteCtx{erp: d.ERP, planner: st.planner, company: st.company, rules: rules}, nil
}

// quoteRules are the configured promise rules, a request's defaults.
func (s *Server) quoteRules() promise.Rules {
	if r := s.deps.Quote.Rules; r.Location != nil {
		return r
	}
	return promise.DefaultRules()
}

// today is the date in the configured timezone.
func (q *quoteCtx) today(now time.Time) promise.Date {
	return promise.DateOf(now.In(q.rules.Location))
}

// readBody reads a JSON request body of at most MaxBodyBytes (413 past
// that). The body must be declared JSON (415 otherwise), as FastAPI read
// only declared JSON: a browser cannot send that cross-origin without a
// CORS preflight, so another site cannot make a visitor's browser write
// through /otp/apply.
func readBody(c echo.Context) ([]byte, error) {
	r := c.Request()
	mt, _, err := mime.ParseMediaType(r.Header.Get(echo.HeaderContentType))
	if err != nil || (mt != echo.MIMEApplicationJSON && !strings.HasSuffix(mt, "+json")) {
		return nil, &Error{Status: http.StatusUnsupportedMediaType, Message: "unsupported media type",
			Detail: "Content-Type must be application/json"}
	}
	b, err := io.ReadAll(http.MaxBytesReader(c.Response(), r.Body, MaxBodyBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, err
		}
		return nil, badRequest("cannot read the request body", err.Error())
	}
	return b, nil
}

// notFound is a 404 in the earlier OTP's shape: {"detail": msg}.
func notFound(msg string) *Error {
	return &Error{Status: http.StatusNotFound, Message: "not found", Detail: msg}
}

// isUnavailable reports an ERPNext that cannot answer now: transport
// errors, timeouts, 5xx, 429 and an open circuit breaker (erp.IsRetryable),
// or the request's own deadline passing while waiting for it. The quote
// API answers these 503.
func isUnavailable(err error) bool {
	return erp.IsRetryable(err) || errors.Is(err, context.DeadlineExceeded)
}
