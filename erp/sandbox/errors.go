package sandbox

import (
	"fmt"
	"net/http"

	"github.com/erpnext-otp/otp/erp/sandbox/internal/pyjson"
)

// Error is a Frappe exception raised by the sandbox: the HTTP status Frappe
// maps it to (docs/erpnext.md#errors), the exception class name (exc_type) and the
// message shown to the user. Match it with errors.As.
type Error struct {
	Status  int
	ExcType string
	Message string
	// Title is the message dialog title ("Message" unless the code sets one).
	Title string
	// Silent exceptions (a bare `raise frappe.PermissionError`) put no
	// message in _server_messages.
	Silent bool
	// ErrorMessage is the `_error_message` Frappe adds for permission errors.
	ErrorMessage string
	// Messages, when set, are the _server_messages (one per msgprint);
	// otherwise Message is the only one.
	Messages []string
	// Indicator is the message colour ("red" unless the code says otherwise).
	Indicator string
}

func (e *Error) Error() string {
	if e.Message == "" {
		return fmt.Sprintf("sandbox: %d %s", e.Status, e.ExcType)
	}
	return fmt.Sprintf("sandbox: %d %s: %s", e.Status, e.ExcType, e.Message)
}

// Exception classes and their HTTP status (frappe/exceptions.py, docs/erpnext.md#errors).
var excStatus = map[string]int{
	"ValidationError":           http.StatusExpectationFailed,
	"MandatoryError":            http.StatusExpectationFailed,
	"LinkValidationError":       http.StatusExpectationFailed,
	"UpdateAfterSubmitError":    http.StatusExpectationFailed,
	"TimestampMismatchError":    http.StatusExpectationFailed,
	"DocstatusTransitionError":  http.StatusExpectationFailed,
	"InvalidStatusError":        http.StatusExpectationFailed,
	"CannotChangeConstantError": http.StatusExpectationFailed,
	"LinkExistsError":           http.StatusExpectationFailed,
	"WarehouseRequired":         http.StatusExpectationFailed,
	"NegativeStockError":        http.StatusExpectationFailed,
	"DoesNotExistError":         http.StatusNotFound,
	"PermissionError":           http.StatusForbidden,
	"AuthenticationError":       http.StatusUnauthorized,
	"DuplicateEntryError":       http.StatusConflict,
	"NameError":                 http.StatusConflict,
	"TooManyRequestsError":      http.StatusTooManyRequests,
	"CSRFTokenError":            http.StatusBadRequest,
	"InReadOnlyMode":            http.StatusServiceUnavailable,
}

// frappeErr builds an exception of the given class with a message.
func frappeErr(exc, msg string) *Error {
	st, ok := excStatus[exc]
	if !ok {
		st = http.StatusInternalServerError
	}
	return &Error{Status: st, ExcType: exc, Message: msg, Title: "Message"}
}

func validationErr(msg string) *Error { return frappeErr("ValidationError", msg) }

func notFound(doctype, name string) *Error {
	return frappeErr("DoesNotExistError", fmt.Sprintf("%s %s not found", doctype, name))
}

// permissionErr is what Document.check_permission raises: a bare
// PermissionError with frappe.flags.error_message set.
func permissionErr(doctype, ptype string) *Error {
	e := frappeErr("PermissionError", "")
	e.Silent = true
	e.ErrorMessage = fmt.Sprintf("Insufficient Permission for %s", doctype)
	if ptype != "" {
		e.ErrorMessage += fmt.Sprintf(" (<strong>%s</strong>)", ptype)
	}
	return e
}

// barePermissionErr is `raise frappe.PermissionError` with no message, as
// check_parent_permission does (docs/erpnext.md#child-tables).
func barePermissionErr() *Error {
	e := frappeErr("PermissionError", "")
	e.Silent = true
	return e
}

// errorBody renders the v1 error body (docs/erpnext.md#errors): exc_type,
// _server_messages (a JSON string of a list of JSON strings), exception and
// exc when tracebacks are allowed and the status is not 404, and
// _error_message for permission errors.
func errorBody(e *Error, allowTraceback bool) *pyjson.Dict {
	body := pyjson.NewDict()
	if allowTraceback && e.Status != http.StatusNotFound {
		exception := "frappe.exceptions." + e.ExcType
		if e.Message != "" {
			exception += ": " + e.Message
		}
		tb := "Traceback (most recent call last):\n  File \"apps/frappe/frappe/app.py\", line 114, in application\n    response = frappe.api.handle(request)\n" + exception + "\n"
		body.Set("exception", exception)
		body.Set("exc_type", e.ExcType)
		body.Set("exc", pyjson.Dumps.Encode([]any{tb}))
	} else {
		body.Set("exc_type", e.ExcType)
	}
	if e.ErrorMessage != "" {
		body.Set("_error_message", e.ErrorMessage)
	}
	msgs := e.Messages
	if len(msgs) == 0 && e.Message != "" {
		msgs = []string{e.Message}
	}
	if !e.Silent && len(msgs) > 0 {
		title := e.Title
		if title == "" {
			title = "Message"
		}
		indicator := e.Indicator
		if indicator == "" {
			indicator = "red"
		}
		list := make([]any, 0, len(msgs))
		for _, m := range msgs {
			msg := pyjson.NewDict()
			msg.Set("message", m)
			msg.Set("title", title)
			msg.Set("indicator", indicator)
			msg.Set("raise_exception", 1)
			list = append(list, pyjson.Dumps.Encode(msg))
		}
		body.Set("_server_messages", pyjson.Dumps.Encode(list))
	}
	return body
}
