package erp

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	gojson "github.com/goccy/go-json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/cenkalti/backoff/v5"
	"github.com/sony/gobreaker/v2"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// Defaults (README.md#configure: REQUEST_TIMEOUT is 15 seconds).
const (
	DefaultTimeout       = 15 * time.Second
	DefaultRetryAttempts = 4
	DefaultRetryInitial  = 200 * time.Millisecond
	DefaultRetryMax      = 5 * time.Second
	DefaultRetryAfterMax = 2 * time.Second
	DefaultMaxBodyBytes  = 64 << 20
	DefaultUserAgent     = "otp-erp-client (+https://github.com/erpnext-otp/otp)"

	// maxIdleConnsPerHost lets the worker's concurrent promise jobs reuse
	// connections to the one ERPNext host instead of net/http's default 2.
	maxIdleConnsPerHost = 32
	// drainLimit is how much of an unread body is read to keep the connection reusable.
	drainLimit = 64 << 10
)

// BreakerState is the circuit breaker's state, for /health and metrics.
type BreakerState string

// Breaker states.
const (
	BreakerClosed   BreakerState = "closed"
	BreakerHalfOpen BreakerState = "half-open"
	BreakerOpen     BreakerState = "open"
)

// Observer is told about every HTTP attempt: the method, the route without
// document names ("/api/resource/Sales Order", "/api/method/frappe.client.get_list"),
// the status (0 when no response arrived) and how long it took.
type Observer func(method, route string, status int, d time.Duration)

// Client talks to one ERPNext site as one API user. It is safe for
// concurrent use; build it once with New and share it.
type Client struct {
	base      string // scheme://host[/prefix], no trailing slash
	authz     string
	http      *http.Client
	timeout   time.Duration
	attempts  int
	initial   time.Duration
	maxWait   time.Duration
	raMax     time.Duration // the most a read waits for Retry-After answers in all
	policy    BreakerPolicy
	logger    *slog.Logger
	userAgent string
	observe   Observer
	hook      RequestHook
	tracer    trace.Tracer
	now       func() time.Time
	maxBody   int64

	breaker  *gobreaker.TwoStepCircuitBreaker[struct{}]
	mu       sync.Mutex
	openedAt time.Time // when the breaker last opened
}

// Option configures a Client.
type Option func(*Client)

// WithHTTPClient sets the HTTP client. The default has its own pooled
// transport with MaxIdleConnsPerHost tuned for one busy host.
func WithHTTPClient(h *http.Client) Option { return func(c *Client) { c.http = h } }

// WithTimeout bounds each HTTP attempt (REQUEST_TIMEOUT); default 15s.
func WithTimeout(d time.Duration) Option { return func(c *Client) { c.timeout = d } }

// WithRetry sets how reads are retried: at most maxAttempts attempts in all,
// waiting exponentially from initial up to max between them, with jitter.
// Writes are never retried. Default 4, 200ms, 5s. How long a read waits for
// a Retry-After is set by WithRetryAfterMax.
func WithRetry(maxAttempts int, initial, max time.Duration) Option {
	return func(c *Client) { c.attempts, c.initial, c.maxWait = maxAttempts, initial, max }
}

// WithRetryAfterMax bounds how long one read waits, in all, for the
// Retry-After of 429 and 503 answers before trying again (default 2s; 0
// never waits). A Retry-After that would take it past the bound is not
// waited for: the *Error is returned at once, retryable, with RetryAfter
// set, so that the caller's queue retries it later instead of holding a
// worker that other orders are waiting for.
func WithRetryAfterMax(d time.Duration) Option { return func(c *Client) { c.raMax = d } }

// WithBreakerPolicy sets when the circuit breaker opens and how it closes
// again; default DefaultBreakerPolicy().
func WithBreakerPolicy(p BreakerPolicy) Option { return func(c *Client) { c.policy = p } }

// WithBreaker is a shorthand policy: the default one that also opens after
// failures consecutive failures (0: only the ratio rule), stays open for
// openFor and closes on one good probe.
func WithBreaker(failures uint32, openFor time.Duration) Option {
	return func(c *Client) {
		p := DefaultBreakerPolicy()
		p.ConsecutiveFailures, p.OpenFor, p.Probes = failures, openFor, 1
		c.policy = p
	}
}

// WithLogger sets the logger; the default discards.
func WithLogger(l *slog.Logger) Option { return func(c *Client) { c.logger = l } }

// WithUserAgent sets the User-Agent header.
func WithUserAgent(ua string) Option { return func(c *Client) { c.userAgent = ua } }

// WithObserver reports every HTTP attempt, e.g. to Prometheus.
func WithObserver(o Observer) Option { return func(c *Client) { c.observe = o } }

// RequestHook is told about every HTTP attempt with the caller's context,
// for example to count a task's ERPNext requests.
type RequestHook func(ctx context.Context, method, route string, status int)

// WithRequestHook calls h after every HTTP attempt.
func WithRequestHook(h RequestHook) Option { return func(c *Client) { c.hook = h } }

// WithTracerProvider makes a span of every HTTP attempt ("GET
// /api/resource/Sales Order/:name"), a child of the caller's span. The
// default is OpenTelemetry's no-op provider.
func WithTracerProvider(tp trace.TracerProvider) Option {
	return func(c *Client) { c.tracer = tp.Tracer("github.com/erpnext-otp/otp/erp") }
}

// WithClock sets the clock used to read HTTP-date Retry-After headers.
func WithClock(now func() time.Time) Option { return func(c *Client) { c.now = now } }

// WithMaxBodyBytes bounds how much of a response is read; default 64 MiB.
func WithMaxBodyBytes(n int64) Option { return func(c *Client) { c.maxBody = n } }

// New returns a client for the ERPNext site at baseURL (for example
// "https://erp.example.com"), authenticating as the API user key:secret.
func New(baseURL, apiKey, apiSecret string, opts ...Option) (*Client, error) {
	u, err := url.Parse(strings.TrimSpace(baseURL))
	if err != nil {
		return nil, fmt.Errorf("erp: base URL %q: %w", baseURL, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("erp: base URL %q: scheme must be http or https", baseURL)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("erp: base URL %q: no host", baseURL)
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return nil, fmt.Errorf("erp: base URL %q: must not carry a query, fragment or user info", baseURL)
	}
	if apiKey == "" || apiSecret == "" {
		return nil, errors.New("erp: API key and secret are required")
	}
	c := &Client{
		base:      strings.TrimRight(u.String(), "/"),
		authz:     "token " + apiKey + ":" + apiSecret,
		timeout:   DefaultTimeout,
		attempts:  DefaultRetryAttempts,
		initial:   DefaultRetryInitial,
		maxWait:   DefaultRetryMax,
		raMax:     DefaultRetryAfterMax,
		policy:    DefaultBreakerPolicy(),
		userAgent: DefaultUserAgent,
		now:       time.Now,
		maxBody:   DefaultMaxBodyBytes,
		tracer:    noop.NewTracerProvider().Tracer(""),
	}
	for _, o := range opts {
		o(c)
	}
	switch {
	case c.timeout <= 0:
		return nil, fmt.Errorf("erp: timeout %s must be positive", c.timeout)
	case c.attempts < 1:
		return nil, fmt.Errorf("erp: retry attempts %d must be at least 1", c.attempts)
	case c.initial <= 0 || c.maxWait < c.initial:
		return nil, fmt.Errorf("erp: retry waits %s..%s must be positive and ordered", c.initial, c.maxWait)
	case c.raMax < 0:
		return nil, fmt.Errorf("erp: Retry-After bound %s must not be negative", c.raMax)
	case c.maxBody <= 0:
		return nil, fmt.Errorf("erp: max body bytes %d must be positive", c.maxBody)
	}
	if err := c.policy.validate(); err != nil {
		return nil, err
	}
	if c.http == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConns = 100
		t.MaxIdleConnsPerHost = maxIdleConnsPerHost
		c.http = &http.Client{
			Transport: t,
			// A redirect means a wrong base URL (http→https, a login page):
			// following it would turn a PUT into a GET. Report it instead.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	if c.logger == nil {
		c.logger = slog.New(slog.DiscardHandler)
	}
	if c.now == nil {
		c.now = time.Now
	}
	c.breaker = c.newBreaker()
	return c, nil
}

// BaseURL returns the site's base URL without a trailing slash.
func (c *Client) BaseURL() string { return c.base }

// BreakerState returns the circuit breaker's current state.
func (c *Client) BreakerState() BreakerState {
	switch c.breaker.State() {
	case gobreaker.StateOpen:
		return BreakerOpen
	case gobreaker.StateHalfOpen:
		return BreakerHalfOpen
	default:
		return BreakerClosed
	}
}

// errBreakerFailure and errNotCounted are what the client reports to the
// breaker: a sick ERPNext, or an attempt that says nothing about ERPNext
// (the caller's own context ended).
var (
	errBreakerFailure = errors.New("erp: breaker failure")
	errNotCounted     = errors.New("erp: not counted")
)

// call is one logical request: a read is retried, a write is sent once.
type call struct {
	method string
	path   string     // escaped path below the base URL
	query  url.Values // may be nil
	body   any        // sent as JSON when non-nil
	route  string     // the path without document names, for the observer
	target string     // what is asked, for errors: "Sales Order SAL-ORD-1"
	read   bool
	// noName marks a document call without a name: its URL would be the
	// DocType's list route, so it is refused before any request.
	noName bool
}

func resourceCall(method, doctype string) call {
	return call{
		method: method,
		path:   "/api/resource/" + url.PathEscape(doctype),
		route:  "/api/resource/" + doctype,
		target: doctype,
	}
}

func docCall(method, doctype, name string) call {
	c := resourceCall(method, doctype)
	c.path += "/" + url.PathEscape(name)
	c.target += " " + name
	c.noName = strings.TrimSpace(name) == ""
	return c
}

func methodCall(method, dotted string) call {
	return call{
		method: method,
		path:   "/api/method/" + dotted,
		route:  "/api/method/" + dotted,
		target: dotted,
	}
}

func (k call) url(base string) string {
	u := base + k.path
	if len(k.query) > 0 {
		u += "?" + k.query.Encode()
	}
	return u
}

// do runs k, retrying a read on retryable errors, and returns the 2xx body.
// Errors are *Error, or the caller's context error wrapped.
func (c *Client) do(ctx context.Context, k call) ([]byte, error) {
	if k.noName {
		// GET /api/resource/Sales Order/ is the list, not a document: no
		// document has an empty name.
		return nil, &Error{Kind: KindNotFound, Method: k.method, Path: k.target, Message: "no document name given"}
	}
	if !k.read || c.attempts == 1 {
		body, err := c.attempt(ctx, k)
		return body, c.finish(k, err)
	}
	var waited time.Duration // for Retry-After answers
	op := func() ([]byte, error) {
		body, err := c.attempt(ctx, k)
		if err == nil {
			return body, nil
		}
		var e *Error
		if !errors.As(err, &e) || !e.Retryable() || e.Kind == KindCircuitOpen {
			// An open breaker stays open for longer than a read should wait.
			return nil, backoff.Permanent(err)
		}
		if e.RetryAfter > 0 {
			if waited+e.RetryAfter > c.raMax {
				// Waiting would hold this worker from other orders: let
				// the caller's queue retry it after RetryAfter.
				return nil, backoff.Permanent(err)
			}
			waited += e.RetryAfter
			return nil, retryAfter{e: e, ra: &backoff.RetryAfterError{Duration: e.RetryAfter}}
		}
		return nil, err
	}
	b := &backoff.ExponentialBackOff{
		InitialInterval:     c.initial,
		RandomizationFactor: backoff.DefaultRandomizationFactor,
		Multiplier:          2,
		MaxInterval:         c.maxWait,
	}
	body, err := backoff.Retry(ctx, op,
		backoff.WithBackOff(b),
		backoff.WithMaxTries(uint(c.attempts)),
		backoff.WithMaxElapsedTime(0),
		backoff.WithNotify(func(err error, wait time.Duration) {
			c.logger.WarnContext(ctx, "erp: retrying read", "error", err.Error(), "wait", wait)
		}),
	)
	return body, c.finish(k, err)
}

// retryAfter carries an *Error and tells backoff how long to wait.
type retryAfter struct {
	e  *Error
	ra *backoff.RetryAfterError
}

func (r retryAfter) Error() string   { return r.e.Error() }
func (r retryAfter) Unwrap() []error { return []error{r.e, r.ra} }

// finish returns err as the *Error it carries, or wraps a context error.
func (c *Client) finish(k call, err error) error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return fmt.Errorf("erp: %s %s: %w", k.method, k.target, err)
}

// attempt sends k once through the breaker.
func (c *Client) attempt(ctx context.Context, k call) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	done, err := c.breaker.Allow()
	if err != nil {
		return nil, c.circuitOpen(k, err)
	}
	body, err := c.send(ctx, k)
	var e *Error
	switch {
	case err == nil:
		done(nil)
	case errors.As(err, &e) && e.breakerFailure():
		done(errBreakerFailure)
	case e != nil:
		done(nil) // ERPNext answered: it is up
	default:
		done(errNotCounted)
	}
	return body, err
}

func (c *Client) circuitOpen(k call, cause error) *Error {
	e := &Error{Kind: KindCircuitOpen, Method: k.method, Path: k.target, Err: cause}
	c.mu.Lock()
	opened := c.openedAt
	c.mu.Unlock()
	if left := c.policy.OpenFor - time.Since(opened); !opened.IsZero() && left > 0 {
		e.RetryAfter = left.Round(time.Millisecond)
	}
	return e
}

// send makes one HTTP request.
func (c *Client) send(ctx context.Context, k call) ([]byte, error) {
	actx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()

	var reqBody io.Reader
	if k.body != nil {
		b, err := json.Marshal(k.body)
		if err != nil {
			return nil, fmt.Errorf("erp: %s %s: encode body: %w", k.method, k.target, err)
		}
		reqBody = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(actx, k.method, k.url(c.base), reqBody)
	if err != nil {
		return nil, fmt.Errorf("erp: %s %s: %w", k.method, k.target, err)
	}
	req.Header.Set("Authorization", c.authz)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.userAgent)
	if reqBody != nil {
		req.Header.Set("Content-Type", "application/json")
	}

	sctx, span := c.tracer.Start(actx, k.method+" "+k.route, trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(attribute.String("http.request.method", k.method), attribute.String("url.path", k.route)))
	defer span.End()
	req = req.WithContext(sctx)
	start := time.Now()
	resp, err := c.http.Do(req)
	if err != nil {
		span.SetStatus(codes.Error, err.Error())
		c.observed(ctx, k, 0, start)
		return nil, c.transportError(ctx, actx, k, err)
	}
	span.SetAttributes(attribute.Int("http.response.status_code", resp.StatusCode))
	if resp.StatusCode >= 400 {
		span.SetStatus(codes.Error, resp.Status)
	}
	defer func() {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, drainLimit))
		_ = resp.Body.Close()
	}()
	body, err := io.ReadAll(io.LimitReader(resp.Body, c.maxBody+1))
	c.observed(ctx, k, resp.StatusCode, start)
	if err != nil {
		return nil, c.transportError(ctx, actx, k, err)
	}
	if int64(len(body)) > c.maxBody {
		return nil, &Error{Kind: KindUnexpected, Status: resp.StatusCode, Method: k.method, Path: k.target,
			Message: fmt.Sprintf("response body larger than %d bytes", c.maxBody)}
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return body, nil
	}
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		return nil, &Error{Kind: KindUnexpected, Status: resp.StatusCode, Method: k.method, Path: k.target,
			Message: fmt.Sprintf("redirected to %q: check the ERPNext base URL", resp.Header.Get("Location"))}
	}
	e := httpError(k.method, k.target, resp.StatusCode, resp.Header, body, c.now())
	c.logger.DebugContext(ctx, "erp: error response", "method", k.method, "route", k.route, "status", resp.StatusCode, "exc_type", e.ExcType)
	return nil, e
}

// transportError classifies a failure to get a (whole) response.
func (c *Client) transportError(ctx, actx context.Context, k call, err error) error {
	if ctx.Err() != nil {
		return ctx.Err() // the caller's own deadline or cancellation
	}
	var ne net.Error
	switch {
	case errors.Is(actx.Err(), context.DeadlineExceeded):
		return &Error{Kind: KindTimeout, Method: k.method, Path: k.target,
			Err: fmt.Errorf("no response within %s", c.timeout)}
	case errors.As(err, &ne) && ne.Timeout():
		// e.g. an http.Client.Timeout set through WithHTTPClient; the text
		// is kept but not the chain, which would match context.DeadlineExceeded.
		return &Error{Kind: KindTimeout, Method: k.method, Path: k.target, Err: errors.New(err.Error())}
	default:
		return &Error{Kind: KindTransport, Method: k.method, Path: k.target, Err: err}
	}
}

func (c *Client) observed(ctx context.Context, k call, status int, start time.Time) {
	if c.observe != nil {
		c.observe(k.method, k.route, status, time.Since(start))
	}
	if c.hook != nil {
		c.hook(ctx, k.method, k.route, status)
	}
}

// decode unmarshals the envelope member key ("data" or "message") of a 2xx
// body into dst.
func decode(k call, body []byte, key string, dst any) error {
	// goccy/go-json: a book pass's listing of thousands of order lines is
	// most of its CPU, and this decoder is several times encoding/json's
	// speed for the same results.
	var env map[string]gojson.RawMessage
	if err := gojson.Unmarshal(body, &env); err != nil {
		return unexpected(k, fmt.Sprintf("body is not a JSON object: %q", snippet(body)), err)
	}
	raw, ok := env[key]
	if !ok {
		return unexpected(k, fmt.Sprintf("no %q in response: %q", key, snippet(body)), nil)
	}
	if err := gojson.Unmarshal(raw, dst); err != nil {
		return unexpected(k, fmt.Sprintf("cannot decode %q", key), err)
	}
	return nil
}

func unexpected(k call, msg string, err error) *Error {
	return &Error{Kind: KindUnexpected, Status: http.StatusOK, Method: k.method, Path: k.target, Message: msg, Err: err}
}
