package erp

import (
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Kind classifies an ERPNext failure (docs/erpnext.md#errors).
type Kind string

// The kinds of failure. Each has a sentinel error that errors.Is matches.
const (
	KindNotFound          Kind = "not found"             // 404 DoesNotExistError
	KindPermission        Kind = "permission denied"     // 403 PermissionError
	KindAuth              Kind = "authentication failed" // 401 AuthenticationError
	KindValidation        Kind = "validation failed"     // 417 ValidationError and subclasses
	KindTimestampMismatch Kind = "timestamp mismatch"    // 417 TimestampMismatchError
	KindDuplicate         Kind = "duplicate"             // 409 DuplicateEntryError, NameError
	KindRateLimited       Kind = "rate limited"          // 429
	KindBadRequest        Kind = "bad request"           // any other 4xx (400 CSRFTokenError, 405, 413, ...)
	KindServer            Kind = "server error"          // 5xx, JSON or not
	KindTransport         Kind = "transport error"       // connection refused or reset, DNS
	KindTimeout           Kind = "timeout"               // no answer within the request timeout
	KindCircuitOpen       Kind = "circuit open"          // the breaker refused to send
	KindUnexpected        Kind = "unexpected response"   // a 2xx whose body is not what Frappe sends
)

// Sentinel errors, one per Kind: errors.Is(err, erp.ErrNotFound).
var (
	ErrNotFound          = errors.New("erp: not found")
	ErrPermission        = errors.New("erp: permission denied")
	ErrAuth              = errors.New("erp: authentication failed")
	ErrValidation        = errors.New("erp: validation failed")
	ErrTimestampMismatch = errors.New("erp: timestamp mismatch")
	ErrDuplicate         = errors.New("erp: duplicate")
	ErrRateLimited       = errors.New("erp: rate limited")
	ErrBadRequest        = errors.New("erp: bad request")
	ErrServer            = errors.New("erp: server error")
	ErrTransport         = errors.New("erp: transport error")
	ErrTimeout           = errors.New("erp: timeout")
	ErrCircuitOpen       = errors.New("erp: circuit open")
	ErrUnexpected        = errors.New("erp: unexpected response")
)

// sentinels is a read-only table from Kind to its sentinel.
var sentinels = map[Kind]error{
	KindNotFound:          ErrNotFound,
	KindPermission:        ErrPermission,
	KindAuth:              ErrAuth,
	KindValidation:        ErrValidation,
	KindTimestampMismatch: ErrTimestampMismatch,
	KindDuplicate:         ErrDuplicate,
	KindRateLimited:       ErrRateLimited,
	KindBadRequest:        ErrBadRequest,
	KindServer:            ErrServer,
	KindTransport:         ErrTransport,
	KindTimeout:           ErrTimeout,
	KindCircuitOpen:       ErrCircuitOpen,
	KindUnexpected:        ErrUnexpected,
}

// Error is every failure of a call to ERPNext except the caller's own
// context ending, which comes back as ctx.Err() wrapped.
//
// A timeout of the client's own request timeout is KindTimeout and does not
// match context.DeadlineExceeded, so that errors.Is(err, context.DeadlineExceeded)
// keeps meaning "the caller's deadline passed".
type Error struct {
	Kind       Kind
	Status     int           // HTTP status; 0 when no response arrived
	ExcType    string        // Frappe's exc_type, e.g. "DoesNotExistError"
	Message    string        // the human message, HTML tags stripped
	RetryAfter time.Duration // from a 429's Retry-After, or what is left of an open breaker
	Method     string        // "GET", "PUT", ...
	Path       string        // what was asked: "Sales Order SAL-ORD-1", "Bin", "frappe.client.get_value"
	Err        error         // the underlying cause (a *url.Error, ...), if any
}

// Error reads like
// "erp: GET Sales Order SAL-ORD-1: not found (404 DoesNotExistError): Sales Order SAL-ORD-1 not found".
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("erp: ")
	b.WriteString(e.Method)
	b.WriteByte(' ')
	b.WriteString(e.Path)
	b.WriteString(": ")
	b.WriteString(string(e.Kind))
	if e.Status != 0 {
		b.WriteString(" (")
		b.WriteString(strconv.Itoa(e.Status))
		if e.ExcType != "" {
			b.WriteByte(' ')
			b.WriteString(e.ExcType)
		}
		b.WriteByte(')')
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	if e.RetryAfter > 0 {
		fmt.Fprintf(&b, " (retry after %s)", e.RetryAfter)
	}
	return b.String()
}

// Unwrap returns the underlying cause.
func (e *Error) Unwrap() error { return e.Err }

// Is reports whether target is the sentinel of e's Kind.
func (e *Error) Is(target error) bool {
	s, ok := sentinels[e.Kind]
	return ok && s == target
}

// Retryable reports whether the same call may succeed later: rate limiting,
// server errors, transport errors, timeouts and an open breaker. Other 4xx
// answers will not change by asking again.
func (e *Error) Retryable() bool {
	switch e.Kind {
	case KindRateLimited, KindServer, KindTransport, KindTimeout, KindCircuitOpen:
		return true
	}
	return false
}

// breakerFailure reports whether e says ERPNext is unwell, the kind of error
// the circuit breaker counts. 4xx answers prove ERPNext is up and are not
// counted (the earlier OTP counted them: docs/quote-api.md#what-differs-from-the-earlier-otp-and-why).
func (e *Error) breakerFailure() bool {
	switch e.Kind {
	case KindRateLimited, KindServer, KindTransport, KindTimeout:
		return true
	}
	return false
}

// IsRetryable reports whether err is an *Error that is Retryable.
func IsRetryable(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Retryable()
}

// kindForStatus maps an HTTP error status and Frappe exc_type to a Kind.
func kindForStatus(status int, excType string) Kind {
	switch {
	case status == http.StatusUnauthorized:
		return KindAuth
	case status == http.StatusForbidden:
		return KindPermission
	case status == http.StatusNotFound:
		return KindNotFound
	case status == http.StatusConflict:
		return KindDuplicate
	case status == http.StatusExpectationFailed && excType == "TimestampMismatchError":
		return KindTimestampMismatch
	case status == http.StatusExpectationFailed:
		return KindValidation
	case status == http.StatusTooManyRequests:
		return KindRateLimited
	case status >= 500:
		return KindServer
	default:
		return KindBadRequest
	}
}

// frappeErrorBody is the v1 error body (docs/erpnext.md#errors), with the v2 "errors" list too.
type frappeErrorBody struct {
	ExcType        string `json:"exc_type"`
	ServerMessages string `json:"_server_messages"`
	Exception      string `json:"exception"`
	ErrorMessage   string `json:"_error_message"`
	Errors         []struct {
		Type    string `json:"type"`
		Message string `json:"message"`
	} `json:"errors"`
}

// snippetLen bounds how much of a non-JSON error body is kept.
const snippetLen = 200

// httpError builds the *Error for a non-2xx response.
func httpError(method, path string, status int, header http.Header, body []byte, now time.Time) *Error {
	e := &Error{Status: status, Method: method, Path: path}
	var fb frappeErrorBody
	if err := json.Unmarshal(body, &fb); err == nil {
		e.ExcType = fb.ExcType
		if e.ExcType == "" && len(fb.Errors) > 0 {
			e.ExcType = fb.Errors[0].Type
		}
		e.Message = frappeMessage(fb)
	} else {
		// nginx, a load balancer or a WSGI crash page: keep a short snippet.
		e.Message = snippet(body)
	}
	e.Kind = kindForStatus(status, e.ExcType)
	if status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable {
		e.RetryAfter = parseRetryAfter(header.Get("Retry-After"), now)
	}
	return e
}

// frappeMessage picks the human message: _server_messages (a JSON string
// holding a list of JSON strings, each an object with "message"), else
// exception, _error_message, the v2 errors list, exc_type.
func frappeMessage(fb frappeErrorBody) string {
	if fb.ServerMessages != "" {
		var raw []string
		if err := json.Unmarshal([]byte(fb.ServerMessages), &raw); err == nil {
			var msgs []string
			for _, r := range raw {
				var m struct {
					Message string `json:"message"`
				}
				text := r
				if err := json.Unmarshal([]byte(r), &m); err == nil {
					text = m.Message
				}
				if text = cleanText(text); text != "" {
					msgs = append(msgs, text)
				}
			}
			if len(msgs) > 0 {
				return strings.Join(msgs, "; ")
			}
		}
	}
	if fb.Exception != "" {
		if m := cleanText(stripExceptionClass(fb.Exception)); m != "" {
			return m
		}
	}
	if m := cleanText(fb.ErrorMessage); m != "" {
		return m
	}
	for _, e := range fb.Errors {
		if m := cleanText(e.Message); m != "" {
			return m
		}
	}
	return fb.ExcType
}

// stripExceptionClass turns "frappe.exceptions.ValidationError: msg" into
// "msg"; a bare "frappe.exceptions.PermissionError" becomes "PermissionError".
func stripExceptionClass(s string) string {
	head, rest, found := strings.Cut(s, ": ")
	if !found {
		head, rest = s, ""
	}
	if strings.ContainsAny(head, " \t\n") {
		return s
	}
	if rest != "" {
		return rest
	}
	if i := strings.LastIndexByte(head, '.'); i >= 0 {
		return head[i+1:]
	}
	return head
}

var (
	tagPattern   = regexp.MustCompile(`<[^>]*>`)
	spacePattern = regexp.MustCompile(`\s+`)
)

// cleanText strips simple HTML tags, unescapes entities and collapses space.
func cleanText(s string) string {
	s = tagPattern.ReplaceAllString(s, " ")
	s = html.UnescapeString(s)
	return strings.TrimSpace(spacePattern.ReplaceAllString(s, " "))
}

// snippet is a short, tag-free excerpt of a body that is not JSON.
func snippet(body []byte) string {
	s := cleanText(string(body))
	if len(s) > snippetLen {
		s = strings.ToValidUTF8(s[:snippetLen], "") + "…"
	}
	return s
}

// parseRetryAfter reads Retry-After as seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.Atoi(v); err == nil {
		if secs < 0 {
			return 0
		}
		return time.Duration(secs) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
	}
	return 0
}
