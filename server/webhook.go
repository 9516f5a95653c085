package server

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-playground/validator/v10"
	gojson "github.com/goccy/go-json"
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
// or webhook_data selection that includes `name` is accepted. The tags are
// the checks the queue relies on (validateDelivery), in the order they
// are reported.
type delivery struct {
	Name    string `json:"name" validate:"required"`
	DocType string `json:"doctype" validate:"omitempty,eqfield=Receiver"`
	// Versions compare as text, so a malformed value would make every
	// later save look older: it is refused.
	Modified string `json:"modified" validate:"omitempty,datetime=2006-01-02 15:04:05.999999"`
	// Receiver is the DocType of the receiver the delivery came to: a
	// doctype in the body must name it. Not read from the body.
	Receiver string `json:"-" validate:"-"`
}

// supplyDelivery is a supply document's delivery: a Sales Order's items
// are not read, so its decoder skips them.
type supplyDelivery struct {
	delivery
	// Items are the child rows when the template sends them; only
	// item_code is read, and rows of any other shape are skipped.
	Items []json.RawMessage `json:"items"`
}

// salesOrderWebhook queues a promise for the Sales Order in the delivery.
// ERPNext is never called here (README.md#how-it-works).
func (s *Server) salesOrderWebhook(c echo.Context) error {
	var d delivery
	if err := s.readDelivery(c, "Sales Order", &d, &d); err != nil {
		return err
	}
	ctx := c.Request().Context()
	id := tasks.PromiseOrderID(d.Name, s.version(d))
	p := tasks.PromiseOrder{SalesOrder: d.Name, Modified: d.Modified, Event: eventOf(c), Trace: tasks.TraceFrom(ctx)}
	if pq, ok := s.deps.Versions.(PromiseQueue); ok {
		return s.answer(c, pq.EnqueuePromise(ctx, p, id), id, tasks.QueuePromise, "Sales Order", "sales_order", d.Name, d.Modified)
	}
	task, err := tasks.NewPromiseOrderTask(p, asynq.TaskID(id))
	if err != nil {
		s.metrics.webhook("Sales Order", "invalid")
		return badRequest("invalid webhook body", err.Error())
	}
	if err := s.enqueue(c, task, id, "Sales Order", "sales_order", d.Name, d.Modified); err != nil {
		return err
	}
	// Recorded after the task is safely queued: the record only lets older
	// queued versions of the order finish without work, so failing to
	// write it costs some ERPNext reads, while recording a version whose
	// task was never queued would make those older tasks skip the order.
	if d.Modified != "" {
		if _, err := s.deps.Versions.Record(ctx, d.Name, d.Modified); err != nil {
			s.log.WarnContext(ctx, "newest version not recorded; older queued saves will be promised too", "sales_order", d.Name, "modified", d.Modified, "err", err)
		}
	}
	return nil
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
	var d supplyDelivery
	if err := s.readDelivery(c, doctype, &d, &d.delivery); err != nil {
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
	versioned.Modified = s.version(d.delivery)
	id := tasks.SupplyChangedID(versioned)
	task, err := tasks.NewSupplyChangedTask(p, asynq.TaskID(id))
	if err != nil {
		s.metrics.webhook(doctype, "invalid")
		return badRequest("invalid webhook body", err.Error())
	}
	return s.enqueue(c, task, id, doctype, "document", d.Name, d.Modified)
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

// enqueue queues task with the Queue and answers the delivery.
func (s *Server) enqueue(c echo.Context, task *asynq.Task, id, doctype, key, name, modified string) error {
	info, err := s.deps.Queue.EnqueueContext(c.Request().Context(), task)
	queue := ""
	if info != nil {
		queue = info.Queue
	}
	return s.answer(c, err, id, queue, doctype, key, name, modified)
}

// answer answers a delivery after its enqueue returned err: 202 "queued",
// or 200 "duplicate" when the same task id is already
// queued or recently done (Frappe delivered the same save again); id is
// the task's id, which asynq's conflict error does not name. The access
// log line of the request is then the webhook's (webhookLog).
func (s *Server) answer(c echo.Context, err error, id, queue, doctype, key, name, modified string) error {
	switch {
	case errors.Is(err, asynq.ErrTaskIDConflict):
		s.metrics.webhook(doctype, "duplicate")
		setWebhookLog(c, webhookLog{msg: "webhook duplicate", key: key, name: name, modified: modified, taskID: id})
		return c.JSONBlob(http.StatusOK, acceptedJSON("duplicate", id))
	case err != nil:
		s.metrics.webhook(doctype, "unavailable")
		return unavailable("queue unavailable", err)
	}
	s.metrics.webhook(doctype, "queued")
	setWebhookLog(c, webhookLog{msg: "webhook queued", key: key, name: name, modified: modified, taskID: id, queue: queue})
	return c.JSONBlob(http.StatusAccepted, acceptedJSON("queued", id))
}

// acceptedJSON answers a webhook that is (or already was) queued:
// {"status":"queued"|"duplicate","task_id":"..."}, written without
// reflection: a status and a task id of our own making, neither of which
// needs escaping.
func acceptedJSON(status, id string) []byte {
	b := make([]byte, 0, 32+len(status)+len(id))
	b = append(b, `{"status":"`...)
	b = append(b, status...)
	b = append(b, `","task_id":"`...)
	b = append(b, id...)
	return append(b, `"}`...)
}

// readDelivery reads, authenticates and decodes a webhook body into v,
// whose delivery is d. The body is read into a pooled buffer, returned
// before this returns: the decoder copies the strings it keeps.
func (s *Server) readDelivery(c echo.Context, doctype string, v any, d *delivery) error {
	req := c.Request()
	buf := s.bodies.Get().(*bytes.Buffer)
	defer s.putBody(buf)
	body, err := readWebhookBody(buf, c.Response(), req)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			s.metrics.webhook(doctype, "too_large")
			return err
		}
		return badRequest("could not read request body", err.Error())
	}
	if err := s.verify(req.Header.Get(SignatureHeader), body); err != nil {
		s.metrics.webhook(doctype, "unauthorized")
		s.log.WarnContext(req.Context(), "webhook rejected", "path", req.URL.Path, "reason", err.Message, "remote", c.RealIP())
		return err
	}
	d.Receiver = doctype
	if err := s.decodeDelivery(body, v, d); err != nil {
		s.metrics.webhook(doctype, "invalid")
		return err
	}
	return nil
}

// maxPooledBody bounds the buffers kept in Server.bodies: an occasional
// large delivery's buffer is left to the collector.
const maxPooledBody = 64 << 10

// putBody returns a body buffer to the pool.
func (s *Server) putBody(b *bytes.Buffer) {
	if b.Cap() > maxPooledBody {
		return
	}
	b.Reset()
	s.bodies.Put(b)
}

// readWebhookBody reads the request body, at most MaxBodyBytes, into buf,
// grown once to the announced length.
func readWebhookBody(buf *bytes.Buffer, w http.ResponseWriter, req *http.Request) ([]byte, error) {
	if n := req.ContentLength; n > 0 && n <= MaxBodyBytes {
		buf.Grow(int(n) + 1) // + 1: ReadFrom's last read, the one that sees EOF
	}
	_, err := buf.ReadFrom(http.MaxBytesReader(w, req.Body, MaxBodyBytes))
	return buf.Bytes(), err
}

// verify checks the Frappe signature over the raw body, in constant time.
// With no secret configured (development only) every body is accepted.
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
	// A keyed HMAC from the pool: its Reset is cheaper than hmac.New's
	// key schedule and five allocations per delivery.
	mac := s.macs.Get().(hash.Hash)
	mac.Write(body)
	var sum [sha256.Size]byte
	ok := hmac.Equal(got, mac.Sum(sum[:0]))
	mac.Reset()
	s.macs.Put(mac)
	if !ok {
		return unauthorized("bad " + SignatureHeader)
	}
	return nil
}

// decodeDelivery parses body as JSON into v and checks d, the delivery in v,
// with validateDelivery. goccy/go-json: the body is a whole document of
// which three keys are read, and skipping the rest is most of the work.
func (s *Server) decodeDelivery(body []byte, v any, d *delivery) *Error {
	if len(bytes.TrimSpace(body)) == 0 {
		return badRequest("empty body: want a JSON object with name", nil)
	}
	if err := gojson.Unmarshal(body, v); err != nil {
		var typeErr *gojson.UnmarshalTypeError
		var syntaxErr *gojson.SyntaxError
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
	return s.validateDelivery(d)
}

// newValidator checks struct tags, naming fields by their JSON keys.
func newValidator() *validator.Validate {
	v := validator.New(validator.WithRequiredStructEnabled())
	v.RegisterTagNameFunc(func(f reflect.StructField) string {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			return f.Name
		}
		return name
	})
	return v
}

// validateDelivery checks d's tags and answers the first failure as the
// 400 the receivers have always given.
func (s *Server) validateDelivery(d *delivery) *Error {
	err := s.validate.Struct(d)
	if err == nil {
		return nil
	}
	var fails validator.ValidationErrors
	if !errors.As(err, &fails) || len(fails) == 0 {
		return badRequest("invalid webhook body", err.Error())
	}
	f := fails[0]
	field := map[string]string{"field": f.Field()}
	switch f.Tag() {
	case "required":
		return badRequest("field "+f.Field()+" is required", field)
	case "eqfield":
		return badRequest(fmt.Sprintf("field doctype: this receiver takes %s, got %s", d.Receiver, d.DocType), field)
	case "datetime":
		return badRequest(fmt.Sprintf("field modified: want YYYY-MM-DD HH:MM:SS[.ffffff], got %s", strconv.Quote(d.Modified)), field)
	}
	return badRequest(fmt.Sprintf("field %s: fails %s", f.Field(), f.Tag()), field)
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
