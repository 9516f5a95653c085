package erp_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/erpnext-otp/otp/erp"
)

// TestErrorBodies feeds the error bodies Frappe v15 sends (docs/erpnext.md#errors;
// bodies in testdata/errors) to SalesOrder and checks the *Error.
func TestErrorBodies(t *testing.T) {
	pinned := time.Date(2025, 3, 3, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name      string
		status    int
		file      string
		header    http.Header
		want      erp.Error
		sentinel  error
		retryable bool
		text      string
	}{
		{
			name: "404 DoesNotExistError", status: 404, file: "404_does_not_exist.json",
			want:     erp.Error{Kind: erp.KindNotFound, Status: 404, ExcType: "DoesNotExistError", Message: "Sales Order SAL-ORD-1 not found"},
			sentinel: erp.ErrNotFound,
			text:     "erp: GET Sales Order SAL-ORD-1: not found (404 DoesNotExistError): Sales Order SAL-ORD-1 not found",
		},
		{
			name: "403 child table read without parent (docs/erpnext.md#child-tables): no message, exc_type fallback", status: 403, file: "403_child_without_parent.json",
			want:     erp.Error{Kind: erp.KindPermission, Status: 403, ExcType: "PermissionError", Message: "PermissionError"},
			sentinel: erp.ErrPermission,
		},
		{
			name: "403 with HTML in the server message", status: 403, file: "403_insufficient_permission.json",
			want:     erp.Error{Kind: erp.KindPermission, Status: 403, ExcType: "PermissionError", Message: "No permission for Holiday List"},
			sentinel: erp.ErrPermission,
		},
		{
			name: "401 wrong secret", status: 401, file: "401_authentication.json",
			want:     erp.Error{Kind: erp.KindAuth, Status: 401, ExcType: "AuthenticationError", Message: "AuthenticationError"},
			sentinel: erp.ErrAuth,
		},
		{
			name: "417 UpdateAfterSubmitError (docs/erpnext.md#updating-a-document)", status: 417, file: "417_update_after_submit.json",
			want: erp.Error{Kind: erp.KindValidation, Status: 417, ExcType: "UpdateAfterSubmitError",
				Message: "Not allowed to change OTP Promise Date after submission from None to 2025-03-18"},
			sentinel: erp.ErrValidation,
			text:     "erp: GET Sales Order SAL-ORD-1: validation failed (417 UpdateAfterSubmitError): Not allowed to change OTP Promise Date after submission from None to 2025-03-18",
		},
		{
			name: "417 two server messages joined, entities unescaped", status: 417, file: "417_mandatory_two_messages.json",
			want: erp.Error{Kind: erp.KindValidation, Status: 417, ExcType: "MandatoryError",
				Message: "Error: Value missing for Sales Order: Customer; Error: Value missing for Sales Order: Delivery Date & Time"},
			sentinel: erp.ErrValidation,
		},
		{
			name: "417 exception line only: class prefix stripped", status: 417, file: "417_exception_only.json",
			want: erp.Error{Kind: erp.KindValidation, Status: 417, ExcType: "ValidationError",
				Message: "Expected Delivery Date should be after Sales Order Date"},
			sentinel: erp.ErrValidation,
		},
		{
			name: "417 TimestampMismatchError is its own kind (docs/erpnext.md#updating-a-document)", status: 417, file: "417_timestamp_mismatch.json",
			want: erp.Error{Kind: erp.KindTimestampMismatch, Status: 417, ExcType: "TimestampMismatchError",
				Message: "Error: Document has been modified after you have opened it (2025-03-03 10:15:42.123456, 2025-03-03 10:16:01.000000). Please refresh to get the latest document."},
			sentinel: erp.ErrTimestampMismatch,
		},
		{
			name: "409 DuplicateEntryError", status: 409, file: "409_duplicate.json",
			want: erp.Error{Kind: erp.KindDuplicate, Status: 409, ExcType: "DuplicateEntryError",
				Message: "Custom Field Sales Order-custom_otp_promise_date already exists"},
			sentinel: erp.ErrDuplicate,
		},
		{
			name: "429 with Retry-After seconds", status: 429, file: "429_rate_limited.json",
			header: http.Header{"Retry-After": {"120"}},
			want: erp.Error{Kind: erp.KindRateLimited, Status: 429, ExcType: "TooManyRequestsError", RetryAfter: 120 * time.Second,
				Message: "You hit the rate limit because of too many requests. Please try after sometime."},
			sentinel: erp.ErrRateLimited, retryable: true,
		},
		{
			name: "429 with Retry-After as an HTTP date", status: 429, file: "429_rate_limited.json",
			header: http.Header{"Retry-After": {pinned.Add(90 * time.Second).Format(http.TimeFormat)}},
			want: erp.Error{Kind: erp.KindRateLimited, Status: 429, ExcType: "TooManyRequestsError", RetryAfter: 90 * time.Second,
				Message: "You hit the rate limit because of too many requests. Please try after sometime."},
			sentinel: erp.ErrRateLimited, retryable: true,
		},
		{
			name: "500 JSON", status: 500, file: "500_lock_wait.json",
			want: erp.Error{Kind: erp.KindServer, Status: 500, ExcType: "OperationalError",
				Message: "(1205, 'Lock wait timeout exceeded; try restarting transaction')"},
			sentinel: erp.ErrServer, retryable: true,
		},
		{
			name: "502 HTML from nginx: short tag-free snippet", status: 502, file: "502_nginx.html",
			want:     erp.Error{Kind: erp.KindServer, Status: 502, Message: "502 Bad Gateway 502 Bad Gateway nginx/1.24.0"},
			sentinel: erp.ErrServer, retryable: true,
			text: "erp: GET Sales Order SAL-ORD-1: server error (502): 502 Bad Gateway 502 Bad Gateway nginx/1.24.0",
		},
		{
			name: "400 CSRFTokenError is a bad request", status: 400, file: "400_csrf.json",
			want:     erp.Error{Kind: erp.KindBadRequest, Status: 400, ExcType: "CSRFTokenError", Message: "Invalid Request"},
			sentinel: erp.ErrBadRequest,
		},
		{
			name: "v2 errors list", status: 417, file: "v2_validation.json",
			want: erp.Error{Kind: erp.KindValidation, Status: 417, ExcType: "ValidationError",
				Message: "Expected Delivery Date should be after Sales Order Date"},
			sentinel: erp.ErrValidation,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := MustReadFile(t, "errors/"+tt.file)
			f := newFakeERP(t, func(w http.ResponseWriter, r *http.Request, n int) {
				for k, v := range tt.header {
					w.Header()[k] = v
				}
				reply(w, tt.status, body)
			})
			// One attempt: this test is about decoding, not retrying.
			c := MustClient(t, f.URL, erp.WithRetry(1, time.Millisecond, time.Millisecond),
				erp.WithClock(func() time.Time { return pinned }))

			_, err := c.SalesOrder(testContext(t), "SAL-ORD-1")

			var got *erp.Error
			if !errors.As(err, &got) {
				t.Fatalf("SalesOrder error = %v (%T), want *erp.Error", err, err)
			}
			want := tt.want
			want.Method, want.Path = "GET", "Sales Order SAL-ORD-1"
			if diff := cmp.Diff(want, *got, cmpopts.EquateErrors()); diff != "" {
				t.Errorf("*erp.Error (-want +got):\n%s", diff)
			}
			if !errors.Is(err, tt.sentinel) {
				t.Errorf("errors.Is(err, %v) = false", tt.sentinel)
			}
			for _, other := range []error{erp.ErrNotFound, erp.ErrValidation, erp.ErrTimestampMismatch, erp.ErrServer, erp.ErrTimeout} {
				if other != tt.sentinel && errors.Is(err, other) {
					t.Errorf("errors.Is(err, %v) = true, want only %v", other, tt.sentinel)
				}
			}
			if got.Retryable() != tt.retryable || erp.IsRetryable(err) != tt.retryable {
				t.Errorf("Retryable() = %v, IsRetryable = %v, want %v", got.Retryable(), erp.IsRetryable(err), tt.retryable)
			}
			if tt.text != "" && err.Error() != tt.text {
				t.Errorf("Error() = %q\nwant      %q", err.Error(), tt.text)
			}
			if n := len(f.requests()); n != 1 {
				t.Errorf("requests = %d, want 1", n)
			}
		})
	}
}

func TestIsRetryable(t *testing.T) {
	tests := []struct {
		err  error
		want bool
	}{
		{nil, false},
		{errors.New("plain"), false},
		{context.Canceled, false},
		{&erp.Error{Kind: erp.KindTransport}, true},
		{&erp.Error{Kind: erp.KindTimeout}, true},
		{&erp.Error{Kind: erp.KindCircuitOpen}, true},
		{&erp.Error{Kind: erp.KindRateLimited}, true},
		{&erp.Error{Kind: erp.KindServer}, true},
		{&erp.Error{Kind: erp.KindNotFound}, false},
		{&erp.Error{Kind: erp.KindValidation}, false},
		{&erp.Error{Kind: erp.KindTimestampMismatch}, false},
		{&erp.Error{Kind: erp.KindUnexpected}, false},
		{wrapped{&erp.Error{Kind: erp.KindServer}}, true},
	}
	for _, tt := range tests {
		if got := erp.IsRetryable(tt.err); got != tt.want {
			t.Errorf("IsRetryable(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}

type wrapped struct{ err error }

func (w wrapped) Error() string { return "task failed: " + w.err.Error() }
func (w wrapped) Unwrap() error { return w.err }
