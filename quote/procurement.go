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
)

var suggestionTypes = []string{"material_request", "draft_po", "task"}

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

// decodeProcurementRequest reads v1's ProcurementSuggestionRequest, plus an
// optional warehouse per item (the earlier OTP always used its default
// warehouse, docs/quote-api.md#what-differs-from-the-earlier-otp-and-why).
func decodeProcurementRequest(body []byte) (procurementRequest, []fieldError) {
	var req procurementRequest
	c, obj, errs := decodeObject(body)
	if errs != nil {
		return req, errs
	}
	root := []any{"body"}
	if items, ok := c.list(obj, "items", root, maxQuoteLines); ok {
		for i, it := range items {
			loc := at(at(root, "items"), i)
			m, ok := c.object(it, loc)
			if !ok {
				continue
			}
			var pi procurementItem
			code, _ := c.nonEmpty(m, "item_code", loc)
			pi.ItemCode = strings.TrimSpace(code)
			pi.Qty, _ = c.positive(m, "qty_needed", loc, maxQty)
			pi.RequiredBy = c.date(m, "required_by", loc, true)
			pi.Reason, _ = c.str(m, "reason", loc, true)
			wh, _ := c.str(m, "warehouse", loc, false)
			pi.Warehouse = strings.TrimSpace(wh)
			req.Items = append(req.Items, pi)
		}
	}
	req.Type = c.enum(obj, "suggestion_type", root, suggestionTypes, "material_request")
	prio, _ := c.str(obj, "priority", root, false)
	req.Priority = erpPriority(prio)
	if !c.ok() {
		return procurementRequest{}, c.errs
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
	body, err := readBody(c)
	if err != nil {
		return err
	}
	req, errs := decodeProcurementRequest(body)
	if errs != nil {
		return validationFailed(errs)
	}
	ctx := c.Request().Context()
	q, err := a.request(ctx)
	if err != nil {
		return err
	}
	if req.Type != "material_request" {
		msg := fmt.Sprintf("Suggestion type '%s' not implemented yet", req.Type)
		return c.JSON(http.StatusOK, procurementResponse{Status: "error", Type: req.Type, Error: &msg})
	}
	for i := range req.Items {
		if req.Items[i].Warehouse == "" {
			req.Items[i].Warehouse = a.deps.DefaultWarehouse
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
