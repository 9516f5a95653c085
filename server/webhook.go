package server

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hibiken/asynq"
	"github.com/labstack/echo/v4"

	"github.com/erpnext-otp/otp/tasks"
)

// SignatureHeader carries base64(HMAC-SHA256(secret, raw body))
// (docs/erpnext.md#the-signature).
const SignatureHeader = "X-Frappe-Webhook-Signature"

// supplyDocTypes maps the webhook path's slug to the DocType whose saves
// change supply or demand.
var supplyDocTypes = map[string]string{
	"purchase-order":   "Purchase Order",
	"purchase-receipt": "Purchase Receipt",
	"delivery-note":    "Delivery Note",
	"stock-entry":      "Stock Entry",
}

// delivery is the part of a Frappe webhook body OTP reads. Frappe sends JSON
// whatever the webhook's "Request Structure" and Content-Type say
// (docs/erpnext.md#the-request-body); every other key is ignored, so any template
// or webhook_data selection that includes `name` is accepted.
type delivery struct {
	DocType  string `json:"doctype"`
	Name     string `json:"name"`
	Modified string `json:"modified"`
	// Items are the child rows when the template sends them; only
	// item_code is read, and rows of any other shape are skipped.
	Items []json.RawMessage `json:"items"`
}

// acceptedBody answers a webhook that is (or already was) queued.
type acceptedBody struct {
	Status string `json:"status"` // "queued" or "duplicate"
	TaskID string `json:"task_id,omitempty"`
}

// salesOrderWebhook queues a promise for the Sales Order in the delivery.
// ERPNext is never called here (README.md#how-it-works).
func (s *Server) salesOrderWebhook(c echo.Context) error {
	d, err := s.readDelivery(c, "Sales Order")
	if err != nil {
		return err
	}
	id := tasks.PromiseOrderID(d.Name, s.version(d))
	task, err := tasks.NewPromiseOrderTask(tasks.PromiseOrder{SalesOrder: d.Name, Modified: d.Modified, Event: eventOf(c), Trace: tasks.TraceFrom(c.Request().Context())}, asynq.TaskID(id))
	if err != nil {
		s.metrics.webhook("Sales Order", "invalid")
		return badRequest("invalid webhook body", err.Error())
	}
	status, body, err := s.enqueue(c, task, id, "Sales Order", "sales_order", d.Name, d.Modified)
	if err != nil {
		return err
	}
	// Recorded after the task is safely queued: the record only lets older
	// queued versions of the order finish without work, so failing to
	// write it costs some ERPNext reads, while recording a version whose
	// task was never queued would make those older tasks skip the order.
	if d.Modified != "" {
		if _, err := s.deps.Versions.Record(c.Request().Context(), d.Name, d.Modified); err != nil {
			s.log.WarnContext(c.Request().Context(), "newest version not recorded; older queued saves will be promised too", "sales_order", d.Name, "modified", d.Modified, "err", err)
		}
	}
	return c.JSON(status, body)
}

// supplyWebhook queues a re-promise of the orders that a saved Purchase
// Order, Purchase Receipt, Delivery Note or Stock Entry may move.
func (s *Server) supplyWebhook(c echo.Context) error {
	slug := c.Param("doctype")
	doctype, ok := supplyDocTypes[slug]
	if !ok {
		known := make([]string, 0, len(supplyDocTypes)+1)
		for k := range supplyDocTypes {
			known = append(known, k)
		}
		known = append(known, "sales-order")
		slices.Sort(known)
		return &Error{Status: http.StatusNotFound, Message: fmt.Sprintf("no webhook receiver for %q", slug), Detail: map[string][]string{"receivers": known}}
	}
	d, err := s.readDelivery(c, doctype)
	if err != nil {
		return err
	}
	p := tasks.SupplyChanged{
		DocType:  doctype,
		Name:     d.Name,
		Modified: d.Modified,
		Event:    eventOf(c),
		Items:    itemCodes(d.Items),
		Trace:    tasks.TraceFrom(c.Request().Context()),
	}
	versioned := p
	versioned.Modified = s.version(d)
	id := tasks.SupplyChangedID(versioned)
	task, err := tasks.NewSupplyChangedTask(p, asynq.TaskID(id))
	if err != nil {
		s.metrics.webhook(doctype, "invalid")
		return badRequest("invalid webhook body", err.Error())
	}
	status, body, err := s.enqueue(c, task, id, doctype, "document", d.Name, d.Modified)
	if err != nil {
		return err
	}
	return c.JSON(status, body)
}

// version is the saved version a delivery's task id is derived from: its
// `modified`, or without one its arrival time. One save cannot then be told
// from the next, so each delivery gets its own task rather than later saves
// being dropped as duplicates of the first for tasks.Retention.
func (s *Server) version(d delivery) string {
	if d.Modified != "" {
		return d.Modified
	}
	s.log.Warn("webhook without modified: duplicates cannot be recognised; add modified to the webhook template",
		"doctype", d.DocType, "name", d.Name)
	return "received " + s.deps.Now().UTC().Format(time.RFC3339Nano)
}

// enqueue queues task: 202 "queued", or 200 "duplicate" when the same task
// id is already queued or recently done (Frappe delivered the same save
// again). id is the task's id, for the duplicate answer: asynq's conflict
// error does not name it.
func (s *Server) enqueue(c echo.Context, task *asynq.Task, id, doctype, key, name, modified string) (int, acceptedBody, error) {
	info, err := s.deps.Queue.EnqueueContext(c.Request().Context(), task)
	switch {
	case errors.Is(err, asynq.ErrTaskIDConflict):
		s.metrics.webhook(doctype, "duplicate")
		s.log.InfoContext(c.Request().Context(), "webhook duplicate", key, name, "modified", modified, "task_id", id)
		return http.StatusOK, acceptedBody{Status: "duplicate", TaskID: id}, nil
	case err != nil:
		s.metrics.webhook(doctype, "unavailable")
		return 0, acceptedBody{}, unavailable("queue unavailable", err)
	}
	s.metrics.webhook(doctype, "queued")
	s.log.InfoContext(c.Request().Context(), "webhook queued", key, name, "modified", modified, "task_id", info.ID, "queue", info.Queue)
	return http.StatusAccepted, acceptedBody{Status: "queued", TaskID: info.ID}, nil
}

// readDelivery reads, authenticates and decodes a webhook body.
func (s *Server) readDelivery(c echo.Context, doctype string) (delivery, error) {
	var d delivery
	req := c.Request()
	body, err := io.ReadAll(http.MaxBytesReader(c.Response(), req.Body, MaxBodyBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			s.metrics.webhook(doctype, "too_large")
			return d, err
		}
		return d, badRequest("could not read request body", err.Error())
	}
	if err := s.verify(req.Header.Get(SignatureHeader), body); err != nil {
		s.metrics.webhook(doctype, "unauthorized")
		s.log.WarnContext(req.Context(), "webhook rejected", "path", req.URL.Path, "reason", err.Message, "remote", c.RealIP())
		return d, err
	}
	if err := decodeDelivery(body, doctype, &d); err != nil {
		s.metrics.webhook(doctype, "invalid")
		return d, err
	}
	return d, nil
}

// verify checks the Frappe signature in constant time. With no secret
// configured (development only) every body is accepted.
func (s *Server) verify(header string, body []byte) *Error {
	if s.deps.WebhookSecret == "" {
		return nil
	}
	if header == "" {
		return unauthorized("missing " + SignatureHeader + " header")
	}
	got, err := base64.StdEncoding.DecodeString(strings.TrimSpace(header))
	if err != nil {
		return unauthorized(SignatureHeader + " is not base64")
	}
	mac := hmac.New(sha256.New, []byte(s.deps.WebhookSecret))
	mac.Write(body)
	if !hmac.Equal(got, mac.Sum(nil)) {
		return unauthorized("bad " + SignatureHeader)
	}
	return nil
}

// frappeModified is the layout of `modified` in a webhook body: str() of a
// Python datetime, microseconds present only when non-zero (docs/erpnext.md#the-request-body).
const frappeModified = "2006-01-02 15:04:05.999999"

// decodeDelivery parses body as JSON and checks what the queue relies on.
func decodeDelivery(body []byte, doctype string, d *delivery) *Error {
	if len(strings.TrimSpace(string(body))) == 0 {
		return badRequest("empty body: want a JSON object with name", nil)
	}
	if err := json.Unmarshal(body, d); err != nil {
		var typeErr *json.UnmarshalTypeError
		var syntaxErr *json.SyntaxError
		switch {
		case errors.As(err, &typeErr) && typeErr.Field != "":
			return badRequest(fmt.Sprintf("field %s: want %s, got %s", typeErr.Field, typeErr.Type, typeErr.Value), map[string]string{"field": typeErr.Field})
		case errors.As(err, &typeErr):
			return badRequest("body is not a JSON object: got "+typeErr.Value, nil)
		case errors.As(err, &syntaxErr):
			return badRequest("malformed JSON", map[string]any{"offset": syntaxErr.Offset, "reason": syntaxErr.Error()})
		}
		return badRequest("malformed JSON", err.Error())
	}
	d.Name = strings.TrimSpace(d.Name)
	d.Modified = strings.TrimSpace(d.Modified)
	if d.Name == "" {
		return badRequest("field name is required", map[string]string{"field": "name"})
	}
	if d.DocType != "" && d.DocType != doctype {
		return badRequest(fmt.Sprintf("field doctype: this receiver takes %s, got %s", doctype, d.DocType), map[string]string{"field": "doctype"})
	}
	if d.Modified != "" {
		// Versions compare as text, so a malformed value would make every
		// later save look older: refuse it.
		if _, err := time.Parse(frappeModified, d.Modified); err != nil {
			return badRequest(fmt.Sprintf("field modified: want YYYY-MM-DD HH:MM:SS[.ffffff], got %s", strconv.Quote(d.Modified)), map[string]string{"field": "modified"})
		}
	}
	return nil
}

// itemCodes returns the distinct item codes of the rows that have one.
func itemCodes(rows []json.RawMessage) []string {
	var out []string
	for _, raw := range rows {
		var row struct {
			ItemCode string `json:"item_code"`
		}
		if json.Unmarshal(raw, &row) != nil || row.ItemCode == "" || slices.Contains(out, row.ItemCode) {
			continue
		}
		out = append(out, row.ItemCode)
	}
	slices.Sort(out)
	return out
}

// eventOf is the webhook event, when the webhook URL names it (?event=on_submit).
func eventOf(c echo.Context) string {
	if ev := c.QueryParam("event"); ev != "" {
		return ev
	}
	return "webhook"
}
