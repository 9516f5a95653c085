package quote

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/erpnext-otp/otp/erp"
	"github.com/erpnext-otp/otp/promise"
	"github.com/erpnext-otp/otp/quote/internal/fastapi"
)

// procurementBody is v1's ProcurementSuggestionRequest, plus an optional
// warehouse per item (the earlier OTP always used its default warehouse,
// docs/quote-api.md#what-differs-from-the-earlier-otp-and-why).
type procurementBody struct {
	Items          []procurementLine `json:"items" validate:"required,min=1,max=1000,dive"`
	SuggestionType *string           `json:"suggestion_type" validate:"omitempty,oneof=material_request draft_po task"`
	Priority       *string           `json:"priority"`
}

type procurementLine struct {
	ItemCode   *string       `json:"item_code" validate:"required,notblank"`
	QtyNeeded  *float64      `json:"qty_needed" validate:"required,gt=0,lte=1e12"`
	RequiredBy *promise.Date `json:"required_by" validate:"required"`
	Reason     *string       `json:"reason" validate:"required"`
	Warehouse  *string       `json:"warehouse"`
}

// procurementRequest is a decoded POST /otp/procurement-suggest.
type procurementRequest struct {
	Type     string
	Priority string // ERPNext's "High", "Medium" or "Low"
	Items    []procurementItem
}

type procurementItem struct {
	ItemCode   string
	Qty        float64
	RequiredBy promise.Date
	Reason     string
	Warehouse  string // "" = the configured default warehouse
}

func decodeProcurementRequest(v *fastapi.Validator, body []byte) (procurementRequest, []fieldError) {
	var b procurementBody
	if errs := v.DecodeBody(body, &b); errs != nil {
		return procurementRequest{}, errs
	}
	req := procurementRequest{Type: deref(b.SuggestionType, "material_request"), Priority: erpPriority(deref(b.Priority, ""))}
	for _, l := range b.Items {
		req.Items = append(req.Items, procurementItem{ItemCode: strings.TrimSpace(*l.ItemCode), Qty: *l.QtyNeeded,
			RequiredBy: *l.RequiredBy, Reason: *l.Reason, Warehouse: strings.TrimSpace(deref(l.Warehouse, ""))})
	}
	return req, nil
}

// erpPriority maps v1's priority to ERPNext's words; anything else is Medium.
func erpPriority(p string) string {
	switch strings.ToUpper(strings.TrimSpace(p)) {
	case "HIGH":
		return "High"
	case "LOW":
		return "Low"
	}
	return "Medium"
}

// procurementResponse is v1's ProcurementSuggestionResponse.
type procurementResponse struct {
	Status       string  `json:"status"` // "success" or "error"
	SuggestionID string  `json:"suggestion_id"`
	Type         string  `json:"type"`
	ItemsCount   int     `json:"items_count"`
	ERPNextURL   string  `json:"erpnext_url"`
	Error        *string `json:"error"`
}

// ProcurementSuggest is POST /otp/procurement-suggest: create a draft
// Material Request (Purchase) for the items, each required by its own date
// into its own warehouse (or the default one). The reasons go on the
// request's timeline as a comment: Material Request has no field for them,
// and its items' description is the item's own.
//
// 404 names an item or warehouse ERPNext does not have; 200 with status
// "error" carries ERPNext's message when it refuses the document; 503 when
// it cannot be reached. "draft_po" and "task" are not implemented (200
// "error", as in the earlier OTP).
func (a *API) ProcurementSuggest(c echo.Context) error {
	req, q, err := bind(a, c, func(b []byte) (procurementRequest, []fieldError) { return decodeProcurementRequest(a.fields, b) })
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	if req.Type != "material_request" {
		msg := fmt.Sprintf("Suggestion type '%s' not implemented yet", req.Type)
		return c.JSON(http.StatusOK, procurementResponse{Status: "error", Type: req.Type, Error: &msg})
	}
	for i := range req.Items {
		if req.Items[i].Warehouse == "" {
			req.Items[i].Warehouse = a.deps.Planner.DefaultWarehouse
		}
	}
	if err := q.checkKnown(ctx, req.Items); err != nil {
		return err
	}

	mr := erp.MaterialRequest{
		Type:            "Purchase",
		Company:         q.company,
		TransactionDate: q.today(a.deps.Now()).String(),
		Priority:        req.Priority,
	}
	earliest := req.Items[0].RequiredBy
	for _, it := range req.Items {
		earliest = min(earliest, it.RequiredBy)
		mr.Items = append(mr.Items, erp.MaterialRequestItem{
			ItemCode: it.ItemCode, Qty: it.Qty, ScheduleDate: it.RequiredBy.String(), Warehouse: it.Warehouse,
		})
	}
	mr.ScheduleDate = earliest.String()
	name, err := q.erp.CreateMaterialRequest(ctx, mr)
	if err != nil {
		if IsUnavailable(err) {
			return err
		}
		msg := "Failed to create Material Request: " + erpMessage(err)
		return c.JSON(http.StatusOK, procurementResponse{Status: "error", Type: req.Type, Error: &msg})
	}
	if note := reasonsNote(req.Items); note != "" {
		if err := q.erp.AddComment(ctx, "Material Request", name, note); err != nil {
			a.log.WarnContext(c.Request().Context(), "procurement reasons not added to the Material Request", "material_request", name, "err", err)
		}
	}
	return c.JSON(http.StatusOK, procurementResponse{
		Status:       "success",
		SuggestionID: name,
		Type:         req.Type,
		ItemsCount:   len(req.Items),
		ERPNextURL:   strings.TrimRight(q.erp.BaseURL(), "/") + "/app/material-request/" + url.PathEscape(name),
	})
}

// checkKnown answers 404 for the first item or warehouse ERPNext does not
// have, in two requests whatever the number of items. Warehouses are checked
// only when the company is known.
func (q *request) checkKnown(ctx context.Context, items []procurementItem) error {
	var codes []string
	seen := map[string]bool{}
	for _, it := range items {
		if k := strings.ToLower(it.ItemCode); !seen[k] {
			seen[k] = true
			codes = append(codes, it.ItemCode)
		}
	}
	found, err := q.erp.Items(ctx, codes)
	if err != nil {
		return err
	}
	have := map[string]bool{}
	for _, it := range found {
		have[strings.ToLower(it.Code)] = true // ERPNext's names compare without case
	}
	for _, code := range codes {
		if !have[strings.ToLower(code)] {
			return notFound(fmt.Sprintf("Item '%s' not found", code))
		}
	}
	if q.company == "" {
		return nil
	}
	whs, err := q.erp.Warehouses(ctx, q.company)
	if err != nil {
		return err
	}
	known := map[string]bool{}
	for _, w := range whs {
		known[strings.ToLower(w.Name)] = true
	}
	for _, it := range items {
		if !known[strings.ToLower(it.Warehouse)] {
			return notFound(fmt.Sprintf("Warehouse '%s' not found", it.Warehouse))
		}
	}
	return nil
}

// reasonsNote is the timeline comment carrying each item's reason.
func reasonsNote(items []procurementItem) string {
	var b strings.Builder
	for _, it := range items {
		if strings.TrimSpace(it.Reason) == "" {
			continue
		}
		fmt.Fprintf(&b, "<li>%s: %s</li>", html.EscapeString(it.ItemCode), html.EscapeString(it.Reason))
	}
	if b.Len() == 0 {
		return ""
	}
	return "Suggested by OTP:<ul>" + b.String() + "</ul>"
}
