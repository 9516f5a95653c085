package server

import (
	"crypto/sha256"
	"crypto/subtle"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"golang.org/x/time/rate"
)

// The quote API's bearer tokens (docs/operations.md, "Quote API tokens").
// Webhooks keep their HMAC and the dashboard its basic auth.

// Token scopes: a read token may call every quote route that does not write
// to ERPNext; a write token may call them all.
const (
	ScopeRead  = "read"
	ScopeWrite = "write"
)

// APIToken is one bearer token of the quote API (OTP_API_TOKENS).
type APIToken struct {
	Name  string // logged as "token"; the token itself never is
	Scope string // ScopeRead or ScopeWrite
	Token string
}

// Default rate limit per token, when Deps leaves it zero.
const (
	DefaultRateLimit = 10 // requests per second
	DefaultRateBurst = 20
)

// tokenKey is where the authenticating token's name is kept on the request.
const tokenKey = "otp.token"

// apiToken is a token as compared: its SHA-256, so that every comparison
// takes the same time whatever the lengths.
type apiToken struct {
	name, scope string
	sum         [sha256.Size]byte
}

// auth checks the quote API's bearer tokens and applies the rate limit.
type auth struct {
	tokens  []apiToken
	off     bool // production without tokens: every quote route answers 503
	limiter echo.MiddlewareFunc
}

var (
	errNoToken    = &Error{Status: http.StatusUnauthorized, Message: "unauthorized", Detail: "send Authorization: Bearer <token> with a token from OTP_API_TOKENS"}
	errBadToken   = &Error{Status: http.StatusUnauthorized, Message: "unauthorized", Detail: "the token is not one of OTP_API_TOKENS"}
	errReadToken  = &Error{Status: http.StatusForbidden, Message: "forbidden", Detail: "this route writes to ERPNext: it needs a write token"}
	errQuoteNoKey = &Error{Status: http.StatusServiceUnavailable, Message: "quote API disabled",
		Detail: "OTP_API_TOKENS is unset: in production the quote API answers only with tokens"}
)

func newAuth(d Deps) *auth {
	a := &auth{off: d.Production && len(d.APITokens) == 0}
	for _, t := range d.APITokens {
		a.tokens = append(a.tokens, apiToken{name: t.Name, scope: t.Scope, sum: sha256.Sum256([]byte(t.Token))})
	}
	limit, burst := d.RateLimit, d.RateBurst
	if limit <= 0 {
		limit = DefaultRateLimit
	}
	if burst <= 0 {
		burst = DefaultRateBurst
	}
	retryAfter := strconv.Itoa(int(math.Ceil(1 / limit)))
	a.limiter = middleware.RateLimiterWithConfig(middleware.RateLimiterConfig{
		Store: middleware.NewRateLimiterMemoryStoreWithConfig(middleware.RateLimiterMemoryStoreConfig{
			Rate: rate.Limit(limit), Burst: burst, ExpiresIn: 10 * time.Minute,
		}),
		// Per token. An open quote API (development without tokens) has
		// no limit: require never calls the limiter then.
		IdentifierExtractor: func(c echo.Context) (string, error) {
			name, _ := c.Get(tokenKey).(string)
			return name, nil
		},
		DenyHandler: func(c echo.Context, _ string, _ error) error {
			c.Response().Header().Set("Retry-After", retryAfter)
			return &Error{Status: http.StatusTooManyRequests, Message: "too many requests",
				Detail: "rate limit OTP_API_RATE_LIMIT exceeded; retry after " + retryAfter + " s"}
		},
		ErrorHandler: func(c echo.Context, err error) error { return err },
	})
	return a
}

// open reports whether the quote API takes requests without a token
// (development and test without OTP_API_TOKENS).
func (a *auth) open() bool { return len(a.tokens) == 0 && !a.off }

// require returns the middleware for a quote route needing scope: it
// authenticates, then rate-limits by token.
func (a *auth) require(scope string) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		limited := a.limiter(next)
		return func(c echo.Context) error {
			if a.off {
				return errQuoteNoKey
			}
			if a.open() {
				return next(c)
			}
			t, err := a.authenticate(c.Request().Header.Get(echo.HeaderAuthorization))
			if err != nil {
				c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="OTP quote API"`)
				return err
			}
			c.Set(tokenKey, t.name)
			if scope == ScopeWrite && t.scope != ScopeWrite {
				return errReadToken
			}
			return limited(c)
		}
	}
}

// authenticate finds the token in an Authorization header. Every token is
// compared, in constant time, whichever matches.
func (a *auth) authenticate(header string) (*apiToken, error) {
	scheme, given, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(given) == "" {
		return nil, errNoToken
	}
	sum := sha256.Sum256([]byte(strings.TrimSpace(given)))
	found := -1
	for i := range a.tokens {
		if subtle.ConstantTimeCompare(sum[:], a.tokens[i].sum[:]) == 1 {
			found = i
		}
	}
	if found < 0 {
		return nil, errBadToken
	}
	return &a.tokens[found], nil
}
