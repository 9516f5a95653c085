package quote

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/erpnext-otp/otp/planner"
	"github.com/erpnext-otp/otp/promise"
	"github.com/erpnext-otp/otp/quote/internal/fastapi"
)

// The bounds of a request, as its types' tags state them: at most
// maxQuoteLines lines (the earlier OTP had no bound); quantities at most
// maxQty, far above any real order and low enough that sums of quantities
// stay exact to the unit; processing and buffer days at most maxRuleDays,
// ten years, the engine's own bound.
const (
	maxQuoteLines = 1000
	maxQty        = 1e12
	maxRuleDays   = 3660
)

// promiseBody is v1's PromiseRequest.
type promiseBody struct {
	Customer *string `json:"customer" validate:"required"`
	// SalesOrderID, when set, names the saved order the quote re-promises:
	// its own reservation is not counted as competing demand (the earlier
	// OTP counted it against itself, docs/quote-api.md#what-differs-from-the-earlier-otp-and-why).
	SalesOrderID *string       `json:"sales_order_id"`
	Items        []promiseLine `json:"items" validate:"required,min=1,max=1000,dive"`
	DesiredDate  *promise.Date `json:"desired_date"`
	Rules        *rulesBody    `json:"rules"`
}

type promiseLine struct {
	ItemCode  *string  `json:"item_code" validate:"required,notblank"`
	Qty       *float64 `json:"qty" validate:"required,gt=0,lte=1e12"`
	Warehouse *string  `json:"warehouse"`
}

// rulesBody is v1's PromiseRules; each field absent keeps the configured rule.
type rulesBody struct {
	NoWeekends     *bool   `json:"no_weekends"`
	CutoffTime     *string `json:"cutoff_time" validate:"omitempty,clock"`
	Timezone       *string `json:"timezone" validate:"omitempty,zone"`
	BufferDays     *int    `json:"lead_time_buffer_days" validate:"omitempty,gte=0,lte=3660"`
	ProcessingDays *int    `json:"processing_lead_time_days" validate:"omitempty,gte=0,lte=3660"`
	Mode           *string `json:"desired_date_mode" validate:"omitempty,oneof=LATEST_ACCEPTABLE STRICT_FAIL NO_EARLY_DELIVERY"`
}

// promiseRequest is a decoded POST /otp/promise.
type promiseRequest struct {
	Customer   string
	SalesOrder string
	Quote      planner.Quote
}

// newValidator reads the quote API's request types (package fastapi), with
// its value checks: a cutoff time of day and an IANA zone name.
func newValidator() *fastapi.Validator {
	return fastapi.New(map[string]func(string) error{
		"clock": func(s string) error { _, _, err := parseClock(s); return err },
		"zone":  func(s string) error { _, err := loadZone(s); return err },
	})
}

// decodePromiseRequest reads a PromiseRequest body, with rules defaulting
// to base (the configured rules). It never panics; every problem comes back
// as a field error.
func decodePromiseRequest(v *fastapi.Validator, body []byte, base promise.Rules) (promiseRequest, []fieldError) {
	var b promiseBody
	if errs := v.DecodeBody(body, &b); errs != nil {
		return promiseRequest{}, errs
	}
	req := promiseRequest{Customer: *b.Customer, SalesOrder: deref(b.SalesOrderID, "")}
	for _, l := range b.Items {
		// ERPNext strips names when it saves them: a code typed with
		// spaces around it names the same item.
		req.Quote.Lines = append(req.Quote.Lines, planner.QuoteLine{
			ItemCode: strings.TrimSpace(*l.ItemCode), Warehouse: strings.TrimSpace(deref(l.Warehouse, "")), Qty: *l.Qty,
		})
	}
	req.Quote.DesiredDate = deref(b.DesiredDate, 0)
	req.Quote.Rules = base
	req.Quote.Mode = promise.LatestAcceptable
	if r := b.Rules; r != nil {
		rules := &req.Quote.Rules
		rules.NoWeekends = deref(r.NoWeekends, base.NoWeekends)
		if r.CutoffTime != nil {
			rules.CutoffHour, rules.CutoffMinute, _ = parseClock(*r.CutoffTime) // checked by its tag
		}
		if r.Timezone != nil {
			rules.Location, _ = loadZone(*r.Timezone)
		}
		rules.BufferDays = deref(r.BufferDays, base.BufferDays)
		rules.ProcessingDays = deref(r.ProcessingDays, base.ProcessingDays)
		req.Quote.Mode = promise.DesiredDateMode(deref(r.Mode, string(promise.LatestAcceptable)))
	}
	return req, nil
}

// deref is *p, or def when p is nil (the field was absent or null).
func deref[T any](p *T, def T) T {
	if p == nil {
		return def
	}
	return *p
}

// parseClock reads a cutoff_time (promise.ParseClock, the grammar of
// OTP_CUTOFF_TIME too), naming the field in its error.
func parseClock(s string) (hour, minute int, err error) {
	hour, minute, err = promise.ParseClock(s)
	if err != nil {
		return 0, 0, fmt.Errorf("cutoff_time %w", err)
	}
	return hour, minute, nil
}

// loadZone loads an IANA zone name. "" and "Local" are refused: they name
// the server's own zone, not a place (pytz refuses them too).
func loadZone(name string) (*time.Location, error) {
	if name == "" || name == "Local" {
		return nil, fmt.Errorf("timezone %q is not an IANA zone name", name)
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("unknown timezone %q", name)
	}
	return loc, nil
}

// nullDate is a date that marshals as JSON null when zero.
type nullDate promise.Date

func (d nullDate) MarshalJSON() ([]byte, error) {
	if promise.Date(d).IsZero() {
		return []byte("null"), nil
	}
	return json.Marshal(promise.Date(d).String())
}

// nullString marshals "" as JSON null.
type nullString string

func (s nullString) MarshalJSON() ([]byte, error) {
	if s == "" {
		return []byte("null"), nil
	}
	return json.Marshal(string(s))
}

// PromiseResponse is the body of POST /otp/promise: v1's PromiseResponse
// (nulls serialised), plus explanation and procurement_suggestions; detail
// is set only on a 409. `otp promise --json` prints it too.
type PromiseResponse struct {
	Status                 promise.Status          `json:"status"`
	PromiseDate            nullDate                `json:"promise_date"`
	PromiseDateRaw         nullDate                `json:"promise_date_raw"`
	DesiredDate            nullDate                `json:"desired_date"`
	DesiredDateMode        nullString              `json:"desired_date_mode"`
	OnTime                 *bool                   `json:"on_time"`
	Adjusted               bool                    `json:"adjusted_due_to_no_early_delivery"`
	CanFulfill             bool                    `json:"can_fulfill"`
	Confidence             promise.Confidence      `json:"confidence"`
	Plan                   []itemPlan              `json:"plan"`
	Reasons                []string                `json:"reasons"`
	Blockers               []string                `json:"blockers"`
	Options                []promiseOption         `json:"options"`
	Explanation            string                  `json:"explanation"`
	ProcurementSuggestions []procurementSuggestion `json:"procurement_suggestions"`
	Detail                 string                  `json:"detail,omitempty"`
}

// itemPlan is v1's ItemPlan plus the line's warehouse, dates and confidence.
type itemPlan struct {
	ItemCode      string              `json:"item_code"`
	QtyRequired   float64             `json:"qty_required"`
	Fulfillment   []fulfillmentSource `json:"fulfillment"`
	Shortage      float64             `json:"shortage"`
	Warehouse     string              `json:"warehouse"`
	AvailableDate nullDate            `json:"available_date"`
	ShipReadyDate nullDate            `json:"ship_ready_date"`
	PromiseDate   nullDate            `json:"promise_date"`
	Confidence    promise.Confidence  `json:"confidence"`
}

// fulfillmentSource is v1's FulfillmentSource. source is "stock",
// "purchase_order", or "lead_time" for quantity expected from the item's
// replenishment lead time (which the earlier OTP reported as a shortage).
type fulfillmentSource struct {
	Source        promise.SourceKind `json:"source"`
	Qty           float64            `json:"qty"`
	AvailableDate nullDate           `json:"available_date"`
	ShipReadyDate nullDate           `json:"ship_ready_date"`
	Warehouse     nullString         `json:"warehouse"`
	POID          nullString         `json:"po_id"`
	ExpectedDate  nullDate           `json:"expected_date"`
}

// promiseOption is v1's option.
type promiseOption struct {
	Type        string     `json:"type"`
	Description string     `json:"description"`
	Impact      string     `json:"impact"`
	POID        nullString `json:"po_id"`
}

// procurementSuggestion is one item of a ready-made POST
// /otp/procurement-suggest body, with the warehouse it is needed in.
type procurementSuggestion struct {
	ItemCode   string  `json:"item_code"`
	QtyNeeded  float64 `json:"qty_needed"`
	RequiredBy string  `json:"required_by"`
	Warehouse  string  `json:"warehouse"`
	Reason     string  `json:"reason"`
}

// NewPromiseResponse turns a plan into the response body.
func NewPromiseResponse(p promise.Plan) PromiseResponse {
	r := PromiseResponse{
		Status:                 p.Status,
		PromiseDate:            nullDate(p.PromiseDate),
		PromiseDateRaw:         nullDate(p.PromiseDateRaw),
		DesiredDate:            nullDate(p.DesiredDate),
		DesiredDateMode:        nullString(p.DesiredDateMode),
		OnTime:                 p.OnTime,
		Adjusted:               p.Adjusted,
		CanFulfill:             p.CanFulfill,
		Confidence:             p.Confidence,
		Plan:                   make([]itemPlan, 0, len(p.Lines)),
		Reasons:                nonNil(p.Reasons),
		Blockers:               nonNil(p.Blockers),
		Options:                make([]promiseOption, 0, len(p.Options)),
		Explanation:            p.Explanation,
		ProcurementSuggestions: make([]procurementSuggestion, 0, len(p.Procurement)),
	}
	for _, l := range p.Lines {
		ip := itemPlan{
			ItemCode:      l.ItemCode,
			QtyRequired:   l.QtyRequired,
			Fulfillment:   make([]fulfillmentSource, 0, len(l.Sources)),
			Shortage:      l.Shortage,
			Warehouse:     l.Warehouse,
			AvailableDate: nullDate(l.AvailableDate),
			ShipReadyDate: nullDate(l.ShipReadyDate),
			PromiseDate:   nullDate(l.PromiseDate),
			Confidence:    l.Confidence,
		}
		for _, s := range l.Sources {
			ip.Fulfillment = append(ip.Fulfillment, fulfillmentSource{
				Source:        s.Kind,
				Qty:           s.Qty,
				AvailableDate: nullDate(s.AvailableDate),
				ShipReadyDate: nullDate(s.ShipReadyDate),
				Warehouse:     nullString(s.Warehouse),
				POID:          nullString(s.PurchaseOrder),
				ExpectedDate:  nullDate(s.ExpectedDate),
			})
		}
		r.Plan = append(r.Plan, ip)
	}
	for _, o := range p.Options {
		r.Options = append(r.Options, promiseOption{Type: o.Type, Description: o.Description, Impact: o.Impact, POID: nullString(o.PurchaseOrder)})
	}
	for _, sg := range p.Procurement {
		r.ProcurementSuggestions = append(r.ProcurementSuggestions, procurementSuggestion{
			ItemCode:   sg.ItemCode,
			QtyNeeded:  sg.Qty,
			RequiredBy: sg.RequiredBy.String(),
			Warehouse:  sg.Warehouse,
			Reason:     fmt.Sprintf("OTP: %s %s needed at %s by %s", promise.FormatQty(sg.Qty), sg.ItemCode, sg.Warehouse, sg.RequiredBy),
		})
	}
	return r
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// strictFailDetail is the 409's detail: the earliest possible promise, or
// why there is none.
func strictFailDetail(p promise.Plan) string {
	if p.PromiseDate.IsZero() {
		return fmt.Sprintf("Cannot meet desired delivery date %s: the order cannot be fulfilled from known supply.", p.DesiredDate)
	}
	late := p.DesiredDate.DaysUntil(p.PromiseDate)
	unit := "days"
	if late == 1 {
		unit = "day"
	}
	return fmt.Sprintf("Cannot meet desired delivery date %s. Earliest possible promise: %s (%d %s late).",
		p.DesiredDate, p.PromiseDate, late, unit)
}

// Promise is POST /otp/promise: compute a promise for the requested
// lines against ERPNext's current supply, without writing anything.
//
// 200 with the plan; 409 with the plan and a detail when a STRICT_FAIL
// desired date cannot be met; 422 for a bad request; 404 naming an unknown
// item or warehouse; 503 when ERPNext cannot be reached.
func (a *API) Promise(c echo.Context) error {
	req, q, err := bind(a, c, func(b []byte) (promiseRequest, []fieldError) {
		return decodePromiseRequest(a.fields, b, a.deps.Planner.Rules)
	})
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	in, err := q.planner.ForQuote(ctx, req.Quote)
	if err != nil {
		return err
	}
	in.Order.Name = req.SalesOrder
	plan, err := q.planner.Plan(in)
	if err != nil {
		return err
	}
	resp := NewPromiseResponse(plan)
	if plan.MissedStrict {
		resp.Detail = strictFailDetail(plan)
		return c.JSON(http.StatusConflict, resp)
	}
	return c.JSON(http.StatusOK, resp)
}
