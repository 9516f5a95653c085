package quote

import (
	"errors"
	"fmt"
	"html"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/erpnext-otp/otp/erp"
	"github.com/erpnext-otp/otp/promise"
	"github.com/erpnext-otp/otp/quote/internal/fastapi"
)

// Apply actions (v1's ApplyPromiseRequest.action).
const (
	actionAddComment     = "add_comment"
	actionSetCustomField = "set_custom_field"
	actionBoth           = "both"
)

// applyBody is v1's ApplyPromiseRequest. Unlike the earlier OTP, action
// and confidence are checked (docs/quote-api.md#what-differs-from-the-earlier-otp-and-why).
type applyBody struct {
	SalesOrderID *string       `json:"sales_order_id" validate:"required,notblank"`
	PromiseDate  *promise.Date `json:"promise_date" validate:"required"`
	Confidence   *string       `json:"confidence" validate:"required,oneof=HIGH MEDIUM LOW"`
	Action       *string       `json:"action" validate:"omitempty,oneof=add_comment set_custom_field both"`
	CommentText  *string       `json:"comment_text"`
}

// applyRequest is a decoded POST /otp/apply.
type applyRequest struct {
	SalesOrder  string
	PromiseDate promise.Date
	Confidence  string
	Action      string
	CommentText string
}

func decodeApplyRequest(v *fastapi.Validator, body []byte) (applyRequest, []fieldError) {
	var b applyBody
	if errs := v.DecodeBody(body, &b); errs != nil {
		return applyRequest{}, errs
	}
	return applyRequest{SalesOrder: *b.SalesOrderID, PromiseDate: *b.PromiseDate, Confidence: *b.Confidence,
		Action: deref(b.Action, actionBoth), CommentText: deref(b.CommentText, "")}, nil
}

// applyResponse is v1's ApplyPromiseResponse.
type applyResponse struct {
	Status          string         `json:"status"` // "success" or "error"
	SalesOrderID    string         `json:"sales_order_id"`
	ActionsTaken    []string       `json:"actions_taken"`
	ERPNextResponse map[string]any `json:"erpnext_response"`
	Error           *string        `json:"error"`
}

// Apply is POST /otp/apply: write a promise onto a Sales Order, as its
// custom fields (ONE PUT: date, confidence, and the first promised date
// when the order has none yet) and/or a timeline comment.
//
// The order must exist (404 otherwise, not the earlier OTP's 200 "error").
// The fields are written before the comment, so a comment never announces
// a promise that was not saved. When ERPNext refuses a write (for example
// 417: the field is missing or not Allow on Submit), the answer is 200 with
// status "error" and ERPNext's message, and what was done before it is
// listed; when ERPNext cannot be reached before anything was written, 503.
func (a *API) Apply(c echo.Context) error {
	req, q, err := bind(a, c, func(b []byte) (applyRequest, []fieldError) { return decodeApplyRequest(a.fields, b) })
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	so, err := q.erp.SalesOrder(ctx, req.SalesOrder)
	if errors.Is(err, erp.ErrNotFound) {
		return notFound(fmt.Sprintf("Sales Order %s not found", req.SalesOrder))
	}
	if err != nil {
		return err
	}

	resp := applyResponse{Status: "success", SalesOrderID: so.Name, ActionsTaken: []string{}, ERPNextResponse: map[string]any{}}
	fail := func(msg string) error {
		resp.Status = "error"
		resp.Error = &msg
		return c.JSON(http.StatusOK, resp)
	}
	date := req.PromiseDate.String()

	if req.Action == actionSetCustomField || req.Action == actionBoth {
		fields := map[string]any{erp.FieldPromiseDate: date, erp.FieldConfidence: req.Confidence}
		if so.FirstPromiseDate == "" {
			fields[erp.FieldFirstPromiseDate] = date // set once, never overwritten (docs/erpnext.md#otps-custom-fields)
		}
		saved, err := q.erp.UpdateSalesOrder(ctx, so, fields, nil)
		if err != nil {
			if IsUnavailable(err) {
				return err // nothing written yet: 503
			}
			return fail("Failed to set custom fields: " + erpMessage(err))
		}
		resp.ActionsTaken = append(resp.ActionsTaken,
			fmt.Sprintf("Set custom field '%s' to %s", erp.FieldPromiseDate, date),
			fmt.Sprintf("Set custom field '%s' to %s", erp.FieldConfidence, req.Confidence))
		resp.ERPNextResponse["custom_field"] = map[string]any{
			erp.FieldPromiseDate:      saved.PromiseDate,
			erp.FieldConfidence:       saved.Confidence,
			erp.FieldFirstPromiseDate: saved.FirstPromiseDate,
			"modified":                saved.Modified,
		}
	}
	if req.Action == actionAddComment || req.Action == actionBoth {
		text := req.CommentText
		if text == "" {
			text = fmt.Sprintf("Order Promise Date: %s (Confidence: %s)\nCalculated by OTP Engine.", date, req.Confidence)
		}
		// Comment content is HTML in Frappe's timeline: send the text as text.
		content := strings.ReplaceAll(html.EscapeString(text), "\n", "<br>")
		if err := q.erp.AddComment(ctx, "Sales Order", so.Name, content); err != nil {
			if IsUnavailable(err) && len(resp.ActionsTaken) == 0 {
				return err
			}
			return fail("Failed to add comment: " + erpMessage(err))
		}
		resp.ActionsTaken = append(resp.ActionsTaken, "Added comment to "+so.Name)
		resp.ERPNextResponse["comment"] = map[string]any{"reference_doctype": "Sales Order", "reference_name": so.Name, "content": content}
	}
	return c.JSON(http.StatusOK, resp)
}

// erpMessage is ERPNext's own words for a failed call, with the status.
func erpMessage(err error) string {
	var e *erp.Error
	if errors.As(err, &e) {
		msg := e.Message
		if msg == "" {
			msg = string(e.Kind)
		}
		if e.Status != 0 {
			return fmt.Sprintf("ERPNext %d: %s", e.Status, msg)
		}
		return "ERPNext " + string(e.Kind) + ": " + msg
	}
	return err.Error()
}
