// Package quote is the quote API: synchronous endpoints compatible with the
// earlier Python OTP (docs/quote-api.md#the-earlier-otp), the planner's
// second caller beside the worker. server mounts its handlers in its one
// route table, behind its tokens and CORS, and writes its errors with its
// one error mapper. One file per resource:
//
//	POST /otp/promise                 promise.go
//	POST /otp/apply                   apply.go
//	POST /otp/procurement-suggest     procurement.go
//	GET  /otp/sales-orders[/{id}]     orders.go
//	GET  /api/items/stock             stock.go
//	GET  /otp/report/accuracy         report.go
//	GET  /openapi.json                openapi.go
//
// Unlike the webhooks, these ask ERPNext on the request path; when ERPNext
// cannot be reached they answer 503, never 500.
package quote

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/erpnext-otp/otp/erp"
	"github.com/erpnext-otp/otp/planner"
	"github.com/erpnext-otp/otp/promise"
	"github.com/erpnext-otp/otp/quote/internal/fastapi"
)

// ERPNext is what the quote API asks ERPNext; *erp.Client is one.
type ERPNext interface {
	planner.Reader
	Companies(ctx context.Context) ([]string, error)
	SalesOrders(ctx context.Context, q erp.SalesOrderQuery) ([]erp.SalesOrderSummary, error)
	GetDoc(ctx context.Context, doctype, name string) (map[string]any, error)
	UpdateSalesOrder(ctx context.Context, so *erp.SalesOrder, fields map[string]any, lineFields map[string]map[string]any) (*erp.SalesOrder, error)
	AddComment(ctx context.Context, doctype, name, content string) error
	CreateMaterialRequest(ctx context.Context, mr erp.MaterialRequest) (string, error)
	BaseURL() string
}

// Deps wire the quote API. With a nil ERP its endpoints answer 503.
type Deps struct {
	ERP ERPNext
	// Planner is the planner's configuration (config.Config.Planner). An
	// empty Company means the site's only company, asked from ERPNext on
	// the first quote; a nil Rules.Location means promise.DefaultRules().
	// A request's "rules" override Rules field by field; DefaultWarehouse
	// is used for lines that name none.
	Planner planner.Config
	// History reads deliveries and receipts: the accuracy report
	// (report.go) and OTP_CONFIDENCE_MODE=history need it; nil
	// answers the report with 503.
	History planner.HistoryReader
	// Probabilities (OTP_ACCURACY_PROBABILITIES) are the report's.
	Probabilities map[promise.Confidence]float64
	// Now is the clock (time.Now when nil).
	Now    func() time.Time
	Logger *slog.Logger
}

// API is the quote API's handlers.
type API struct {
	deps   Deps
	log    *slog.Logger
	fields *fastapi.Validator // reads the requests

	mu      sync.Mutex // guards the planner, built on first use once the company is known
	planner *planner.Planner
	company string
}

// New returns the quote API.
func New(d Deps) *API {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Planner.Rules.Location == nil {
		d.Planner.Rules = promise.DefaultRules()
	}
	return &API{deps: d, log: d.Logger, fields: newValidator()}
}

// request is what one quote API request works with.
type request struct {
	erp     ERPNext
	planner *planner.Planner
	company string
	rules   promise.Rules
}

// errOff answers the quote API when no ERPNext is wired.
var errOff = &Error{Status: http.StatusServiceUnavailable, Message: "quote API not configured",
	Detail: "ERPNext unavailable: the quote API has no ERPNext client"}

// request returns the request's quote context, building the planner on the
// first call. The company is OTP_COMPANY, else the site's only company; a
// site with several and no OTP_COMPANY gets a weekend-only calendar and
// unchecked warehouses, with a warning.
func (a *API) request(ctx context.Context) (*request, error) {
	d := a.deps
	if d.ERP == nil {
		return nil, errOff
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.planner == nil {
		cfg := d.Planner
		if cfg.Company == "" {
			companies, err := d.ERP.Companies(ctx)
			if err != nil {
				return nil, fmt.Errorf("quote: find the company for quotes: %w", err)
			}
			if len(companies) == 1 {
				cfg.Company = companies[0]
			} else {
				a.log.WarnContext(ctx, "OTP_COMPANY is unset and the site does not have exactly one company: quotes use the configured weekend and do not check warehouses",
					"companies", len(companies))
			}
		}
		a.company = cfg.Company
		opts := []planner.Option{planner.WithClock(d.Now), planner.WithLogger(a.log.With("component", "quote"))}
		if d.History != nil {
			opts = append(opts, planner.WithHistory(d.History))
		}
		a.planner = planner.New(d.ERP, cfg, opts...)
	}
	return &request{erp: d.ERP, planner: a.planner, company: a.company, rules: d.Planner.Rules}, nil
}

// today is the date in the configured timezone.
func (q *request) today(now time.Time) promise.Date {
	return promise.DateOf(now.In(q.rules.Location))
}

// MaxBodyBytes bounds a request body (1 MiB); a larger one gets 413.
const MaxBodyBytes = 1 << 20

// bind is the start every POST handler shares: read the JSON body, decode
// it (its field errors are FastAPI's 422) and take the request's quote
// context.
func bind[T any](a *API, c echo.Context, decode func([]byte) (T, []fieldError)) (T, *request, error) {
	var zero T
	body, err := readBody(c)
	if err != nil {
		return zero, nil, err
	}
	req, errs := decode(body)
	if errs != nil {
		return zero, nil, validationFailed(errs)
	}
	q, err := a.request(c.Request().Context())
	if err != nil {
		return zero, nil, err
	}
	return req, q, nil
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
		return nil, &Error{Status: http.StatusBadRequest, Message: "cannot read the request body", Detail: err.Error()}
	}
	return b, nil
}
